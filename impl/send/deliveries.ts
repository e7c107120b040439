// Reports and the end of jobs (nq:qmail-send.c del_dochan, markdone, job_close):
//
//   K  success: markdone;
//   Z  deferral (in a dying job: turned into D, with dyingText appended);
//   D  failure: addbounce (bounce/ID appended and fsynced), then markdone;
//   else "report mangled, will defer".
// The slot is free and the status line logged at once; the file work (addbounce, markdone) and
// the job's release run as a task, in that order, so the job cannot close before its marks.
//
// job_close, when the last reference goes: if every T was answered K or D, the channel file is
// unlinked (or given to pool/) and its directory synced before anything else happens (spec/send.md 5), then, with
// no other channel file left, the message goes to pqdone. Otherwise the job goes back into pqchan
// at its retry time.

import { isSysError, SysError } from '../sys/errors.ts';
import { dyingText, sleepSysfailSec, type Channel } from '../../spec/send.ts';
import { latin1 } from '../lib/latin1.ts';
import { logsafe } from '../lib/logsafe.ts';
import { addBounce } from './bounce.ts';
import { abs, chanDir, markDone, parentOf, rel } from './files.ts';
import { insertChan, insertDone, noteAbsent, nowSec } from './pq.ts';
import { status, task } from './state.ts';
import type { ChannelState, Delivery, Job, Send } from './types.ts';

/** Handles every report the channel has queued. Their file work starts after all their lines
 *  are logged, so that the first one's wait for the log writes them all at once. */
export function handleReports(s: Send, ch: ChannelState): void {
  const work: (() => Promise<void>)[] = [];
  for (let r = ch.reports.shift(); r !== undefined; r = ch.reports.shift()) {
    const w = handleReport(s, ch, r);
    if (w !== null) work.push(w);
  }
  for (const w of work) task(s, w);
}

function handleReport(s: Send, ch: ChannelState, line: Uint8Array): (() => Promise<void>) | null {
  const slot = line[0] as number;
  const d = slot < ch.concurrency ? ch.slots[slot] : null;
  if (d === null || d === undefined) {
    s.log.line({ kind: 'warning', warning: 'reportRange', file: null });
    return null;
  }
  let letter = String.fromCharCode(line[1] as number);
  let text = latin1(line.subarray(2));
  if (letter === 'Z' && d.job.dying) {
    letter = 'D';
    text += dyingText;
  }
  const delivery = s.log.delivery(d.delid);
  if (letter === 'K') s.log.line({ kind: 'delivery', delivery, result: 'success', report: logsafe(text), queue: null });
  else if (letter === 'Z') s.log.line({ kind: 'delivery', delivery, result: 'deferral', report: logsafe(text), queue: null });
  else if (letter === 'D') s.log.line({ kind: 'delivery', delivery, result: 'failure', report: logsafe(text), queue: null });
  else s.log.line({ kind: 'mangled', delivery });
  ch.slots[slot] = null;
  ch.used--;
  status(s);
  return () => finish(s, d, letter, text);
}

async function finish(s: Send, d: Delivery, letter: string, text: string): Promise<void> {
  const job = d.job;
  if (letter === 'D') await addBounce(s, job.id, d.recip, text);
  if (letter === 'K' || letter === 'D') {
    // The delivery's log line is out before its done mark (messdone.ts says why).
    await s.log.drain();
    if (!(await markDone(s.sys, job.fd, d.mpos))) s.log.line({ kind: 'warning', warning: 'mark', file: rel(s.layout, chanDir(job.channel), job.id) });
    job.numtodo--;
  }
  await jobClose(s, job);
}

/** A new job; its id is (still) a member of its channel's set. */
export function jobOpen(s: Send, job: Job): void {
  s.jobsOpen++;
  s.chans[job.channel].members.add(job.id);
}

/** Drops one reference; the last one closes the job. The id stays a member of the channel until
 *  the job's outcome is settled (back into pqchan, or its file durably gone), so that a rescan of
 *  info/ meanwhile cannot schedule a second pass for it. */
export async function jobClose(s: Send, job: Job): Promise<void> {
  if (--job.refs > 0) return;
  s.jobsOpen--;
  const c = job.channel;
  const requeue = (dt: number): void => {
    s.chans[c].members.delete(job.id);
    insertChan(s, c, job.id, dt);
  };
  // Every mark has been written through the fd (finish awaits it before dropping its reference).
  await s.sys.fs.close(job.fd).catch(() => undefined);
  if (!(job.hitEof && job.numtodo === 0)) return requeue(job.retry);
  const path = abs(s.layout, chanDir(c), job.id);
  // Given to pool/ rather than unlinked where the queue has one (impl/shared/file-pool.ts); free
  // for reuse only once its removal from local/S or remote/S is durable.
  const hidden = `.${job.id}.${c === 0 ? 'l' : 'r'}`;
  let pooled = false;
  try {
    const r = await s.pool.retire(path, hidden);
    pooled = r === 'pooled';
    if (r === 'kept') await s.sys.fs.unlink(path);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    if (!isSysError(e, 'ENOENT')) {
      s.log.line({ kind: 'warning', warning: 'unlinkLater', file: rel(s.layout, chanDir(c), job.id) });
      return requeue(nowSec(s.sys) + sleepSysfailSec);
    }
  }
  // The removal must be durable before info can go (messdone): else a crash could bring back a
  // channel file whose message has been eliminated.
  const synced = await syncDirPersistently(s, parentOf(path));
  if (synced && pooled) await s.pool.publish(hidden);
  s.chans[c].members.delete(job.id);
  if (!synced || otherChannelGoing(s, job.id, c)) return;
  noteAbsent(s, job.id, 1 << c);
  insertDone(s, job.id, nowSec(s.sys));
}

/** Does the message still have a file on the other channel? qmail stats it; here the other
 *  channel's membership answers without a syscall: an id is a member from its pqadd or D record
 *  (which schedule every channel file it has) until its job there has settled, and that job's own
 *  close asks this about us. A wrong "no" costs only a messdone that finds the file (false alarm). */
function otherChannelGoing(s: Send, id: number, c: Channel): boolean {
  return s.chans[c === 0 ? 1 : 0].members.has(id);
}

/** Syncs a directory, retrying after SLEEP_SYSFAIL while qmail-send runs. False when it gave up
 *  (exiting): the message stays as it is on disk, and the next start looks at it again. */
export async function syncDirPersistently(s: Send, dir: string): Promise<boolean> {
  for (;;) {
    try {
      await s.sys.fs.syncDir(dir);
      return true;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      s.log.line({ kind: 'warning', warning: 'fsync', file: dir.slice(s.layout.dir.length + 1) });
      if (s.exitAsap) return false;
      await s.sys.clock.sleep(sleepSysfailSec * 1000);
    }
  }
}
