// Delivery passes (nq:qmail-send.c pass_dochan; ../shared/spec/queue.md 3.5): per channel, at most
// one pass reads a channel file record by record, starting a delivery for each T while a slot is
// free. A pass opens when the channel's earliest entry is due and a job slot is free; its job gets
// retry = nextretry(birth, pass start) and dies (Z becomes D) when the pass starts after
// birth + queuelifetime. "qmail-send will never start a pass for a job that it already has": the
// id stays a member of the channel from pqchan through the job's close.

import type { Fd } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { sleepSysfailSec, type Channel } from '../../spec/send.ts';
import { latin1 } from '../lib/latin1.ts';
import { nextRetry } from '../lib/retry.ts';
import { jobClose, jobOpen } from './deliveries.ts';
import { abs, chanDir, getInfo, RecordReader, rel } from './files.ts';
import { delAvail, delStart } from './spawners.ts';
import { task } from './state.ts';
import type { Job, Send } from './types.ts';

export function jobAvail(s: Send): boolean {
  return s.jobsOpen < s.jobsMax;
}

/** May a pass open on this channel now (or at its earliest entry's time)? A channel held at
 *  concurrency 0 opens none: its job would only sit on a job slot. */
export function passMayOpen(s: Send, c: Channel): boolean {
  const ch = s.chans[c];
  return !s.exitAsap && ch.alive && ch.concurrency > 0 && ch.pass === null && jobAvail(s);
}

/** Runs the channel's passes as far as they can go now: one pass at a time, as qmail, but when a
 *  pass ends with slots still free the next due one opens at once rather than a loop turn later
 *  (most messages have one recipient: a pass per delivery). */
export async function passDo(s: Send, c: Channel): Promise<void> {
  const ch = s.chans[c];
  while (!s.exitAsap) {
    if (ch.pass === null && !(await passOpen(s, c))) return;
    while (ch.pass !== null && delAvail(ch) && !s.exitAsap) await passStep(s, c);
    if (ch.pass !== null || !delAvail(ch)) return;
  }
}

async function passOpen(s: Send, c: Channel): Promise<boolean> {
  const ch = s.chans[c];
  const pe = ch.pq.min();
  if (!passMayOpen(s, c) || pe === undefined || pe.dt > s.recent) return false;
  ch.pq.delmin();
  const file = rel(s.layout, chanDir(c), pe.id);
  let fd: Fd;
  try {
    // Read-write: the job's marks go through the same fd (types.ts Job.fd).
    fd = await s.sys.fs.open(abs(s.layout, chanDir(c), pe.id), O.RDWR);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return trouble(s, c, pe.id, file);
  }
  const info = await getInfo(s.sys, s.layout, pe.id);
  if (info === null) {
    await s.sys.fs.close(fd).catch(() => undefined);
    return trouble(s, c, pe.id, file);
  }
  const job: Job = {
    id: pe.id, channel: c, sender: info.sender, numtodo: 0, hitEof: false, refs: 1,
    retry: nextRetry(info.birth, s.recent, c),
    dying: s.recent > info.birth + s.cfg.lifetime,
    fd,
  };
  jobOpen(s, job);
  ch.pass = { id: pe.id, job, reader: new RecordReader(s.sys, fd), mpos: 0 };
  return true;
}

/** "trouble opening": the entry comes back after SLEEP_SYSFAIL. */
function trouble(s: Send, c: Channel, id: number, file: string): false {
  s.log.line({ kind: 'warning', warning: 'openLater', file });
  s.chans[c].pq.insert({ id, dt: s.recent + sleepSysfailSec });
  return false;
}

/** One record of the pass: T starts a delivery, D is skipped, EOF or trouble ends the pass. */
async function passStep(s: Send, c: Channel): Promise<void> {
  const ch = s.chans[c];
  const pass = ch.pass;
  if (pass === null) return;
  const file = rel(s.layout, chanDir(c), pass.id);
  let rec: { bytes: Uint8Array; len: number } | null;
  try {
    rec = await pass.reader.next();
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'warning', warning: 'readLater', file });
    return passEnd(s, c, false);
  }
  if (rec === null) return passEnd(s, c, true);
  const mpos = pass.mpos;
  pass.mpos += rec.len;
  const tag = rec.bytes[0];
  if (tag === 0x54) {
    pass.job.numtodo++;
    delStart(s, pass.job, mpos, latin1(rec.bytes.subarray(1)));
  } else if (tag !== 0x44) {
    s.log.line({ kind: 'warning', warning: 'unknownRecordPass', file });
    return passEnd(s, c, false);
  }
}

async function passEnd(s: Send, c: Channel, hitEof: boolean): Promise<void> {
  const ch = s.chans[c];
  const pass = ch.pass;
  if (pass === null) return;
  ch.pass = null;
  // The fd stays open for the job's marks; jobClose closes it.
  if (hitEof) pass.job.hitEof = true;
  task(s, () => jobClose(s, pass.job));
}
