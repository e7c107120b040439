// The recovery record's file operations (format and decision: mbox-pending.ts). All of them run
// with the mbox locked, so no other qmail-local appends meanwhile.
//
// An mbox may live in a directory others can write (a sticky /var/mail): a record is trusted only if
// it is a regular file of our own uid, opened without following a symlink; ours is always created
// new (O_EXCL, O_NOFOLLOW). Someone else's file under that name is never read, written or removed:
// the delivery then goes on unprotected, as qmail's.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { deliveredFileMode, mboxPendingBytesMax, mboxPendingSuffix } from '../../spec/local.ts';
import { readAll, writeAll } from '../shared/fdio.ts';
import { bytesOf } from './bytes.ts';
import { dirOf, type LocalContext } from './context.ts';
import { entryBoundBytes, formatPending, isUnfinishedEntry, parsePending } from './mbox-pending.ts';
import { closeQuietly } from './dot-qmail-file.ts';

/** Errors that mean "this directory takes no record of ours": deliver as qmail does, unprotected. */
const noRecordHere = new Set(['EACCES', 'EPERM', 'EROFS']);

export function pendingPath(file: string): string {
  return `${file}${mboxPendingSuffix}`;
}

/** Cuts off the entry an interrupted run left, if the record says so and the file agrees; then
 *  removes the record durably. */
export async function recoverPending(sys: Sys, fd: Fd, file: string): Promise<void> {
  const bytes = await readRecord(sys, pendingPath(file));
  if (bytes === null || bytes === 'foreign') return;
  const p = parsePending(bytes);
  if (p !== null) {
    const st = await sys.fs.fstat(fd);
    const head = await readAt(sys, file, p.before, Math.max(0, Math.min(p.fromLine.length, st.size - p.before)));
    if (isUnfinishedEntry(p, st.ino, st.size, head)) {
      await sys.fs.ftruncate(fd, p.before);
      await sys.fs.fsync(fd);
      sys.log.event('warn', 'local.mbox_recovered', { file, before: p.before, size: st.size });
    }
  }
  await dropPending(sys, file);
}

/** Makes the record durable before the append. false: the directory takes no record of ours (not
 *  writable, or someone else's file has the name): delivery goes on unprotected, as in qmail. Other
 *  failures throw (nothing was appended yet; a half-written record of ours is ignored later). */
export async function writePending(sys: Sys, fd: Fd, file: string, before: number, ctx: LocalContext): Promise<boolean> {
  const ino = (await sys.fs.fstat(fd)).ino;
  const head = ctx.ufLine.length + ctx.rpLine.length + ctx.dtLine.length;
  const record = formatPending({ ino, before, boundBytes: entryBoundBytes(head, ctx.message.size), fromLine: ctx.ufLine });
  let rfd: Fd;
  try {
    rfd = await sys.fs.open(pendingPath(file), O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, deliveredFileMode);
  } catch (e) {
    if (e instanceof SysError && (noRecordHere.has(e.code) || e.code === 'EEXIST')) return false;
    throw e;
  }
  try {
    await writeAll(sys, rfd, bytesOf(record));
    await sys.fs.fsync(rfd);
  } finally {
    await closeQuietly(sys, rfd);
  }
  await sys.fs.syncDir(dirOf(file));
  return true;
}

/** Removes the record and makes the removal durable. */
export async function dropPending(sys: Sys, file: string): Promise<void> {
  try {
    await sys.fs.unlink(pendingPath(file));
  } catch (e) {
    if (!(e instanceof SysError && e.code === 'ENOENT')) throw e;
  }
  await sys.fs.syncDir(dirOf(file));
}

/** For an unprotected append: the mbox's name durable where the directory lets us open it. */
export async function syncNameIfAllowed(sys: Sys, file: string): Promise<void> {
  try {
    await sys.fs.syncDir(dirOf(file));
  } catch (e) {
    if (!(e instanceof SysError && noRecordHere.has(e.code))) throw e;
  }
}

/** Our record's bytes; null when there is none; 'foreign' for anything we must not touch. */
async function readRecord(sys: Sys, path: string): Promise<Uint8Array | null | 'foreign'> {
  let fd: Fd;
  try {
    fd = await sys.fs.open(path, O.RDONLY | O.NONBLOCK | O.NOFOLLOW);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ENOENT') return null;
    if (e instanceof SysError && (e.code === 'ELOOP' || e.code === 'EACCES' || e.code === 'EPERM')) return 'foreign';
    throw e;
  }
  try {
    const st = await sys.fs.fstat(fd);
    if (st.kind !== 'file' || st.uid !== sys.proc.self.euid) return 'foreign';
    return await readAll(sys, fd, mboxPendingBytesMax);
  } catch (e) {
    // readAll's bound: longer than any record of ours, so not ours.
    if (e instanceof Error && !(e instanceof SysError) && e.message.startsWith('readAll: more than')) return new Uint8Array(0);
    throw e;
  } finally {
    await closeQuietly(sys, fd);
  }
}

/** Up to n bytes of file at pos; what cannot be read is missing (then nothing matches). */
async function readAt(sys: Sys, file: string, pos: number, n: number): Promise<Uint8Array> {
  let fd: Fd | null = null;
  try {
    fd = await sys.fs.open(file, O.RDONLY | O.NONBLOCK);
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await sys.fs.read(fd, buf, got, n - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof SysError) return new Uint8Array(0);
    throw e;
  } finally {
    await closeQuietly(sys, fd);
  }
}
