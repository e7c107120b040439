// ./Maildir/ delivery (../shared/spec/local.md 2.8): a unique file in tmp/ (O_EXCL, 0600) gets
// Return-Path, Delivered-To and the raw message; fsync; link into new/; fsync new/; unlink the tmp
// name. qmail runs this in a forked child and maps its exit code; we run it in-process with the
// same outcomes (MaildirEnd) and the same texts. Crash safety (posix profile): the data is durable
// before its name appears in new/, so new/ never shows a partial message; success is reported only
// after new/ is fsynced (qmail does not fsync the directory), so a reported delivery survives.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import {
  deliveredFileMode, hostBytesMax, localText, maildirAttemptsMax, maildirTimeoutMs,
} from '../../spec/local.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { BufferedWriter, writeAll } from '../shared/fdio.ts';
import { bytesOf } from './bytes.ts';
import { inHome, type LocalContext } from './context.ts';
import { isTempError, temp } from './failure.ts';
import { hostName } from './hostname.ts';
import { maildirHost, maildirName } from './maildir-name.ts';
import { rewind } from './message.ts';
import { closeQuietly } from './dot-qmail-file.ts';
import { maySearchBy } from './access.ts';

/** qmail's maildir child exit codes. */
export const maildirEnd = { ok: 0, temporary: 1, chdir: 2, timeout: 3, read: 4 } as const;
export type MaildirEnd = (typeof maildirEnd)[keyof typeof maildirEnd];

const failureText: Record<Exclude<MaildirEnd, 0>, string> = {
  1: localText.maildirTemp,
  2: localText.maildirChdir,
  3: localText.maildirTimeout,
  4: localText.maildirRead,
};

export async function deliverMaildir(ctx: LocalContext, path: string): Promise<void> {
  await rewind(ctx.message);
  const end = await withDeadline(ctx.sys, (state) => maildirChild(ctx, inHome(ctx.args.homedir, path), state));
  if (end !== maildirEnd.ok) throw temp(failureText[end]);
}

interface RunState {
  expired: boolean;
  tmp: string | null;
}

/** qmail's alarm(86400): past the deadline the delivery ends with `timeout`, its tmp file removed,
 *  and the abandoned work stops before it could link anything. */
async function withDeadline(sys: Sys, work: (s: RunState) => Promise<MaildirEnd>): Promise<MaildirEnd> {
  const state: RunState = { expired: false, tmp: null };
  let cancel = (): void => undefined;
  const timeout = new Promise<MaildirEnd>((resolve) => {
    cancel = sys.clock.timer(maildirTimeoutMs, () => {
      state.expired = true;
      resolve(maildirEnd.timeout);
    });
  });
  try {
    const end = await Promise.race([work(state), timeout]);
    if (end === maildirEnd.timeout && state.tmp !== null) await unlinkQuietly(sys, state.tmp);
    return end;
  } finally {
    cancel();
  }
}

async function maildirChild(ctx: LocalContext, dir: string, state: RunState): Promise<MaildirEnd> {
  const sys = ctx.sys;
  const host = maildirHost(await hostName(sys, ctx.qmailHome), hostBytesMax);
  const made = await createTmp(sys, dir, host);
  if (made === 'taken') return maildirEnd.temporary;
  // The create failed: would qmail's chdir(dir) have failed first? Asked only now, so that a
  // delivery that works makes no stat of the maildir.
  if (made === 'failed') {
    const reach = await canEnter(sys, dir);
    return reach === maildirEnd.ok ? maildirEnd.temporary : reach;
  }
  const [fd, name] = made;
  const tmp = `${dir}tmp/${name}`;
  state.tmp = tmp;
  let end: MaildirEnd;
  try {
    end = await writeMessage(ctx, fd);
    if (end === maildirEnd.ok) await sys.fs.fsync(fd);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    end = maildirEnd.temporary;
  } finally {
    await closeQuietly(sys, fd);
  }
  if (end === maildirEnd.ok && !state.expired) end = await publish(sys, dir, name);
  await unlinkQuietly(sys, tmp);
  return state.expired ? maildirEnd.timeout : end;
}

/** chdir(dir) as qmail's child does it: a temporary errno → 1, any other failure → 2. (Every path
 *  that chdir refuses, the create under it refuses too, so asking after a failed create gives the
 *  same end as asking first.) */
async function canEnter(sys: Sys, dir: string): Promise<MaildirEnd> {
  try {
    const st = await sys.fs.stat(dir);
    if (st.kind !== 'dir') return maildirEnd.chdir;
    return maySearch(sys, st.uid, st.gid, st.mode) ? maildirEnd.ok : maildirEnd.chdir;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return isTempError(e) ? maildirEnd.temporary : maildirEnd.chdir;
  }
}

function maySearch(sys: Sys, uid: number, gid: number, mode: number): boolean {
  return maySearchBy(sys.proc.self, { uid, gid, mode });
}

/** tmp/NAME created with O_EXCL; a taken name gets a new one (new random bits), up to the bound.
 *  'taken': every name was; 'failed': another error. */
async function createTmp(sys: Sys, dir: string, host: string): Promise<[Fd, string] | 'taken' | 'failed'> {
  for (let attempt = 0; attempt < maildirAttemptsMax; attempt++) {
    const name = maildirName(sys.clock.nowMs(), sys.proc.self.pid, sys.random.bytes(8), host);
    try {
      return [await sys.fs.open(`${dir}tmp/${name}`, O.WRONLY | O.EXCL | O.CREAT, deliveredFileMode), name];
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.code !== 'EEXIST') return 'failed';
    }
  }
  return 'taken';
}

/** RPLINE, DTLINE, the message as it is. A read error is `read`; write errors throw. */
async function writeMessage(ctx: LocalContext, fd: Fd): Promise<MaildirEnd> {
  const head = bytesOf(ctx.rpLine + ctx.dtLine);
  const bytes = ctx.message.bytes;
  if (bytes !== undefined) {
    // A message in memory (a worker's delivery) goes out in one write, without a BufferedWriter:
    // its 64 KiB buffer, zeroed for every delivery, cost more than the copy made here.
    const all = new Uint8Array(head.length + bytes.length);
    all.set(head);
    all.set(bytes, head.length);
    await writeAll(ctx.sys, fd, all);
    return maildirEnd.ok;
  }
  const out = new BufferedWriter(ctx.sys, fd);
  await out.write(head);
  const buf = new Uint8Array(ioChunkBytes);
  for (let pos = 0; ; ) {
    let n: number;
    try {
      n = await ctx.message.read(pos, buf);
    } catch (e) {
      if (e instanceof SysError) return maildirEnd.read;
      throw e;
    }
    if (n === 0) break;
    pos += n;
    await out.write(buf.subarray(0, n));
  }
  await out.flush();
  return maildirEnd.ok;
}

/** link tmp → new, then fsync new/ (our addition). If new/ cannot be synced the new name is taken
 *  back, so that a deferred delivery does not also stay delivered. */
async function publish(sys: Sys, dir: string, name: string): Promise<MaildirEnd> {
  const fresh = `${dir}new/${name}`;
  try {
    await sys.fs.link(`${dir}tmp/${name}`, fresh);
  } catch (e) {
    if (e instanceof SysError) return maildirEnd.temporary;
    throw e;
  }
  try {
    await sys.fs.syncDir(`${dir}new`); // S: delivered, durably
    return maildirEnd.ok;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await unlinkQuietly(sys, fresh);
    return maildirEnd.temporary;
  }
}

async function unlinkQuietly(sys: Sys, path: string): Promise<void> {
  await sys.fs.unlink(path).catch((e: unknown) => {
    if (!(e instanceof SysError)) throw e;
  });
}
