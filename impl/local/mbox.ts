// ./mbox delivery (../shared/spec/local.md 2.7): open for append (0600), flock within 30 seconds
// (else defer; a lock call that fails otherwise means delivering unlocked, as qmail does), then the
// From_ line, Return-Path, Delivered-To, the >From-quoted message and an empty line; fsync. On any
// failure while locked the file is cut back to its old length. Ours (spec/local.md): the recovery
// record makes an interrupted entry vanish at the next delivery, and success is reported only when
// the entry and the mbox's name are durable.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { deliveredFileMode, localText, lockPollMaxMs, lockPollMinMs, lockWaitMs } from '../../spec/local.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { BufferedWriter } from '../shared/fdio.ts';
import { bytesOf } from './bytes.ts';
import { inHome, type LocalContext } from './context.ts';
import { errText, temp } from './failure.ts';
import { MboxQuoter } from './mbox-quote.ts';
import { dropPending, recoverPending, syncNameIfAllowed, writePending } from './mbox-recovery.ts';
import { rewind } from './message.ts';
import { closeQuietly } from './dot-qmail-file.ts';

/** A read of the message failed while copying (qmail: "Unable to read message"). */
class ReadFailure {
  constructor(readonly error: SysError) {}
}

export async function deliverMbox(ctx: LocalContext, path: string): Promise<void> {
  const sys = ctx.sys;
  await rewind(ctx.message);
  const file = inHome(ctx.args.homedir, path);
  let fd: Fd;
  try {
    fd = await sys.fs.open(file, O.WRONLY | O.NONBLOCK | O.APPEND | O.CREAT, deliveredFileMode);
  } catch (e) {
    if (e instanceof SysError) throw temp(localText.openMbox(path, errText(e)));
    throw e;
  }
  try {
    const locked = await lockWithin(sys, fd);
    await append(ctx, fd, file, path, locked);
  } finally {
    await closeQuietly(sys, fd);
  }
}

async function append(ctx: LocalContext, fd: Fd, file: string, path: string, locked: boolean): Promise<void> {
  const sys = ctx.sys;
  let before = -1;
  let record = false;
  try {
    if (locked) await recoverPending(sys, fd, file);
    before = (await sys.fs.fstat(fd)).size;
    if (locked) record = await writePending(sys, fd, file, before, ctx);
    await writeEntry(ctx, fd);
    await sys.fs.fsync(fd);
    // S: the entry is durable; now its name, and the record's removal (which the retry would undo).
    if (record) await dropPending(sys, file);
    else await syncNameIfAllowed(sys, file);
  } catch (e) {
    const failure = e instanceof ReadFailure ? e.error : e;
    if (!(failure instanceof SysError)) throw e;
    if (locked && before >= 0) await cutBack(sys, fd, file, before, record);
    const text = e instanceof ReadFailure ? localText.read(errText(failure)) : localText.writeMbox(path, errText(failure));
    throw temp(text);
  }
}

/** UFLINE, RPLINE, DTLINE, the quoted message, the closing empty line. */
async function writeEntry(ctx: LocalContext, fd: Fd): Promise<void> {
  const out = new BufferedWriter(ctx.sys, fd);
  await out.write(bytesOf(ctx.ufLine + ctx.rpLine + ctx.dtLine));
  const quoter = new MboxQuoter();
  const buf = new Uint8Array(ioChunkBytes);
  for (let pos = 0; ; ) {
    let n: number;
    try {
      n = await ctx.message.read(pos, buf);
    } catch (e) {
      if (e instanceof SysError) throw new ReadFailure(e);
      throw e;
    }
    if (n === 0) break;
    pos += n;
    await out.write(quoter.push(buf.subarray(0, n)));
  }
  await out.write(quoter.end());
  await out.flush();
}

/** qmail's seek_trunc(fd, pos) after a failure; ours also makes the cut durable, then drops the
 *  record (which would otherwise cut the same bytes at the next delivery). Best effort. */
async function cutBack(sys: Sys, fd: Fd, file: string, before: number, record: boolean): Promise<void> {
  try {
    await sys.fs.ftruncate(fd, before);
    await sys.fs.fsync(fd);
    if (record) await dropPending(sys, file);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  }
}

/** flock within lockWaitMs. Node cannot interrupt a blocked flock (qmail's alarm), so we poll with
 *  non-blocking attempts. true: locked; false: the lock call failed otherwise (deliver unlocked). */
async function lockWithin(sys: Sys, fd: Fd): Promise<boolean> {
  const start = sys.clock.monotonicMs();
  for (let pause = lockPollMinMs; ; pause = Math.min(2 * pause, lockPollMaxMs)) {
    try {
      await sys.fs.lock(fd, false);
      return true;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.code !== 'EAGAIN') return false;
    }
    const left = lockWaitMs - (sys.clock.monotonicMs() - start);
    if (left <= 0) throw temp(localText.slowLock);
    await sys.clock.sleep(Math.min(pause, left));
  }
}
