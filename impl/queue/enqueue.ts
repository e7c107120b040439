// The queue writer: qmail-queue's step sequence (spec/queue.md 2.1), made durable under the posix
// crash profile (spec/faults.md): every state change is fsync, atomic link, fsync of the directory.
//
//   S1 → pid/<name> created (O_EXCL); its inode number is the message id
//   S2 → link pid → mess/S/ID, unlink pid; Received line + message; fsync mess
//   S3 → intd/ID created: u, p, envelope; fsync intd; fsync mess/S (the mess name is durable)
//   S4 → link intd → todo/ID; fsync todo (queued: the caller may now be told 0)
//
// Used by the qmail-queue program (sources are fds 0 and 1) and in-process by long-lived services
// that run as the queue owner (sources are buffers or sockets). Paths are absolute; no chdir.
//
// Where the queue has qpool/ (spec/queue.md 8, impl/shared/file-pool.ts), mess and intd are taken
// from it rather than created, each with one rename, and overwritten:
//   S1 → qpool/X: atime and mtime set to now, renamed to mess/S/X (the message number is X, its
//        inode number, as for a created file); pid/ is not used
//   S2 → written from offset 0, then cut to the length written if the old one was longer, then
//        fsync (no old byte remains)
//   S3 → qpool/Y renamed to intd/ID (a stale intd/ID is replaced by the rename, which removes it
//        as the stale-intd rule does), written, cut and fsynced likewise
//   S4 → qpool/ is fsynced with mess/S, before todo/ID is linked: on a file system whose renames
//        are not atomic across a crash, a pool name must not come back beside a queued message's
// With an empty pool each file is created as qmail does. The failure cleanup is unchanged.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { qq, type QqExit } from '../../spec/exit-codes.ts';
import { ioChunkBytes, pidAttemptsMax } from '../../spec/limits.ts';
import { messagePath, messageFileModes, type QueueLayout } from '../../spec/queue.ts';
import { concat, EnvelopeParser, record } from '../lib/envelope.ts';
import { intdHead } from '../lib/intd.ts';
import { BufferedWriter, writeAll } from '../shared/fdio.ts';
import type { PoolTaker, Taken } from '../shared/file-pool.ts';

/** A stream of bytes: read() returns 0 at EOF and throws on a read error. */
export interface ByteSource {
  read(buf: Uint8Array): Promise<number>;
  /** Optional hint: true when the next read() needs no I/O (bytes or the end are at hand), so a
   *  writer may hold what it has and send it with what follows. */
  ready?(): boolean;
  /** Optional: the next bytes (at most max; none at EOF) as the source's own, which it never
   *  writes again: a reader that keeps or frames them saves a copy through a buffer. */
  readPiece?(max: number): Promise<Uint8Array>;
}

export interface EnqueueInput {
  message: ByteSource;
  envelope: ByteSource;
  /** The Received line (already formatted), written first into mess. */
  received: Uint8Array;
  /** u and p records of intd: the kernel's uid of the submitter, and our pid. */
  uid: number;
  pid: number;
  /** pid/ file names: pid/<pid>.<startSec>.<seq>, seq drawn from this iterator. */
  pidNames: Iterable<string>;
  /** qpool/'s taker (PoolTaker.forQueue(sys, dir, qpoolDirName)); none: every file is created. */
  pool?: PoolTaker;
}

export interface Enqueued {
  code: QqExit;
  /** The message number (inode), once mess exists. */
  id: number | null;
  /** What failed, for diagnostics (the exit code is the contract). */
  detail?: string;
}

class Fail extends Error {
  constructor(
    readonly code: QqExit,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Wraps a step so any SysError becomes the named exit code. Other exceptions are bugs and pass. */
async function step<T>(code: QqExit, what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SysError) throw new Fail(code, `${what}: ${e.code}`);
    throw e;
  }
}

interface Made {
  messFd: Fd | null;
  messPath: string | null;
  intdFd: Fd | null;
  intdPath: string | null;
  /** A file taken from qpool/ (qpool/ is synced), and its old length: the bytes past what we
   *  write are cut off (-1: created, nothing to cut). */
  messTaken: boolean;
  intdTaken: boolean;
  messOldBytes: number;
  intdOldBytes: number;
}

export async function enqueue(sys: Sys, q: QueueLayout, input: EnqueueInput): Promise<Enqueued> {
  const made: Made = { messFd: null, messPath: null, intdFd: null, intdPath: null, messTaken: false, intdTaken: false, messOldBytes: -1, intdOldBytes: -1 };
  let id: number | null = null;
  try {
    id = await makeMess(sys, q, input, made);
    await writeMess(sys, input, made);
    await writeIntd(sys, q, id, input, made);
    await commit(sys, q, id, made, input.pool);
    await sys.fs.trigger(`${q.dir}/lock/trigger`);
    return { code: qq.ok, id };
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    await cleanup(sys, made);
    sys.log.event('debug', 'queue.refused', { code: e.code, detail: e.detail, id });
    return { code: e.code, id, detail: e.detail };
  } finally {
    await closeQuietly(sys, made.intdFd);
    await closeQuietly(sys, made.messFd);
  }
}

/** S1 → S2: a recycled inode from qpool/, else a fresh one under pid/, named into mess/ by its
 *  own number. */
async function makeMess(sys: Sys, q: QueueLayout, input: EnqueueInput, made: Made): Promise<number> {
  const taken = await takeMess(sys, q, input.pool);
  if (taken !== null) {
    made.messFd = taken.fd;
    made.messPath = `${q.dir}/${messagePath('mess', taken.ino, q)}`; // S2: mess exists
    made.messTaken = true;
    made.messOldBytes = taken.size;
    return taken.ino;
  }
  let pidPath: string | null = null;
  let fd: Fd | null = null;
  let tries = 0;
  for (const name of input.pidNames) {
    if (tries++ >= pidAttemptsMax) break;
    try {
      fd = await sys.fs.open(`${q.dir}/pid/${name}`, O.WRONLY | O.EXCL | O.CREAT, messageFileModes['pid']?.mode);
      pidPath = `${q.dir}/pid/${name}`;
      break;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }
  if (fd === null || pidPath === null) throw new Fail(qq.tempPidFile, 'cannot create a pid file');
  made.messFd = fd;
  const openFd = fd;
  const st = await step(qq.tempPidFile, 'fstat pid file', () => sys.fs.fstat(openFd));
  const id = st.ino;
  const messPath = `${q.dir}/${messagePath('mess', id, q)}`;
  try {
    await step(qq.tempLinkMess, 'link pid to mess', () => sys.fs.link(pidPath, messPath));
  } catch (e) {
    await sys.fs.unlink(pidPath).catch(() => undefined);
    throw e;
  }
  made.messPath = messPath; // S2: mess exists
  await step(qq.tempPidFile, 'unlink pid file', () => sys.fs.unlink(pidPath));
  return id;
}

async function takeMess(sys: Sys, q: QueueLayout, pool: PoolTaker | undefined): Promise<(Taken & { ino: number }) | null> {
  if (pool === undefined) return null;
  try {
    await pool.refill();
    return await pool.takeNamed((ino) => `${q.dir}/${messagePath('mess', ino, q)}`, sys.clock.nowMs());
  } catch (e) {
    if (e instanceof SysError) return null; // the pool is an optimisation: create as qmail does
    throw e;
  }
}

/** The Received line, then the message bytes exactly as read, then fsync. */
async function writeMess(sys: Sys, input: EnqueueInput, made: Made): Promise<void> {
  const fd = made.messFd as Fd;
  const bytes = input.message.readPiece !== undefined ? await writeMessPieces(sys, fd, input) : await writeMessRead(sys, fd, input);
  if (bytes < made.messOldBytes) await step(qq.tempWriteError, 'truncate mess', () => sys.fs.ftruncate(fd, bytes));
  await step(qq.tempSyncMess, 'fsync mess', () => sys.fs.fsync(fd));
}

/** A source that lends its pieces (qmail-queued's): they are gathered as they are, and written
 *  once per ioChunkBytes (a message of a few KB: one write, no buffer of our own). */
async function writeMessPieces(sys: Sys, fd: Fd, input: EnqueueInput): Promise<number> {
  const out = new PieceWriter(sys, fd, qq.tempWriteError, 'write mess');
  await out.write(input.received);
  const src = input.message;
  for (;;) {
    const piece = await step(qq.tempReadError, 'read message', () => src.readPiece!(ioChunkBytes));
    if (piece.length === 0) break;
    await out.write(piece);
  }
  await out.flush();
  return out.bytes;
}

/** Any other source (qmail-queue's fd 0): read into a buffer of ours, written through a
 *  BufferedWriter. */
async function writeMessRead(sys: Sys, fd: Fd, input: EnqueueInput): Promise<number> {
  const out = new BufferedWriter(sys, fd);
  let bytes = input.received.length;
  await step(qq.tempWriteError, 'write mess', () => out.write(input.received));
  // Starts small and grows while reads fill it: most messages are a few KB.
  let buf = new Uint8Array(firstChunkBytes);
  for (;;) {
    const n = await step(qq.tempReadError, 'read message', () => input.message.read(buf));
    if (n === 0) break;
    bytes += n;
    await step(qq.tempWriteError, 'write mess', () => out.write(buf.subarray(0, n)));
    if (n === buf.length && buf.length < ioChunkBytes) buf = new Uint8Array(Math.min(ioChunkBytes, buf.length * 4));
  }
  await step(qq.tempWriteError, 'write mess', () => out.flush());
  return bytes;
}

/** Writes gathered pieces (kept as views, never copied until written), as one write per
 *  ioChunkBytes; a failed write is `code`. The pieces must not change until flushed: a source's
 *  readPiece lends bytes it never writes again. */
class PieceWriter {
  private parts: Uint8Array[] = [];
  private held = 0;
  bytes = 0;

  constructor(
    private readonly sys: Sys,
    private readonly fd: Fd,
    private readonly code: QqExit,
    private readonly what: string,
  ) {}

  async write(piece: Uint8Array): Promise<void> {
    this.parts.push(piece);
    this.held += piece.length;
    this.bytes += piece.length;
    if (this.held >= ioChunkBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.held === 0) return;
    const all = this.parts.length === 1 ? (this.parts[0] as Uint8Array) : concat(this.parts);
    this.parts = [];
    this.held = 0;
    await step(this.code, this.what, () => writeAll(this.sys, this.fd, all));
  }
}

/** The first size of writeMess's read buffer (it grows as the message does). */
const firstChunkBytes = 4096;


/** S3: intd/ID with u, p and the envelope as read, checked record by record, then fsync. */
async function writeIntd(sys: Sys, q: QueueLayout, id: number, input: EnqueueInput, made: Made): Promise<void> {
  const intdPath = `${q.dir}/${messagePath('intd', id, q)}`;
  const taken = await takeIntd(intdPath, input.pool);
  const fd = taken?.fd ?? (await openIntd(sys, intdPath, q, id));
  made.intdFd = fd;
  made.intdPath = intdPath;
  made.intdTaken = taken !== null;
  made.intdOldBytes = taken?.size ?? -1;
  // The records are new bytes of their own: gathered and written once (an envelope of a few
  // recipients), or per ioChunkBytes.
  const out = new PieceWriter(sys, fd, qq.tempWriteError, 'write intd');
  await out.write(intdHead(input.uid, input.pid));
  const pending: Uint8Array[] = [];
  const parser = new EnvelopeParser({
    onSender: (addr) => pending.push(record(0x46, addr)),
    onRecipient: (addr) => pending.push(record(0x54, addr)),
  });
  const next = envelopeReader(input.envelope);
  while (!parser.finished) {
    const piece = await step(qq.tempReadError, 'read envelope', next);
    if (piece.length === 0) parser.end();
    else parser.push(piece);
    for (const r of pending.splice(0)) await out.write(r);
  }
  const err = parser.error;
  if (err === 'format') throw new Fail(qq.tempEnvelopeFormat, 'envelope format error');
  if (err === 'tooLong') throw new Fail(qq.permAddressTooLong, 'envelope address too long');
  if (err === 'eof') throw new Fail(qq.tempReadError, 'envelope ended before its final NUL');
  await out.flush();
  const bytes = out.bytes;
  if (bytes < made.intdOldBytes) await step(qq.tempWriteError, 'truncate intd', () => sys.fs.ftruncate(fd, bytes));
  await step(qq.tempSyncMess, 'fsync intd', () => sys.fs.fsync(fd));
}

/** The envelope's next bytes (none at EOF): the source's own pieces when it lends them, else
 *  read into one buffer (the parser copies what it keeps). */
function envelopeReader(src: ByteSource): () => Promise<Uint8Array> {
  if (src.readPiece !== undefined) return () => src.readPiece!(envelopeReadBytes);
  const buf = new Uint8Array(envelopeReadBytes);
  return async () => buf.subarray(0, await src.read(buf));
}

const envelopeReadBytes = 4096;

async function takeIntd(intdPath: string, pool: PoolTaker | undefined): Promise<Taken | null> {
  if (pool === undefined) return null;
  try {
    await pool.refill();
    return await pool.takeAt(intdPath);
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
}

/** An intd/ID left by a message that died with our inode number before us is stale: we own the
 *  inode now, so nothing live can be using that name. Remove it once and retry. */
async function openIntd(sys: Sys, intdPath: string, q: QueueLayout, id: number): Promise<Fd> {
  const flags = O.WRONLY | O.EXCL | O.CREAT;
  const mode = messageFileModes['intd']?.mode;
  try {
    return await sys.fs.open(intdPath, flags, mode);
  } catch (e) {
    if (!isSysError(e, 'EEXIST')) throw new Fail(qq.tempIntd, `create intd: ${isSysError(e) ? e.code : String(e)}`);
  }
  sys.log.event('warn', 'queue.stale_intd', { id, todo: messagePath('todo', id, q) });
  await step(qq.tempIntd, 'unlink stale intd', () => sys.fs.unlink(intdPath));
  return step(qq.tempIntd, 'create intd', () => sys.fs.open(intdPath, flags, mode));
}

/** S3 → S4: make the mess name durable (and a take from qpool/), link todo, make the todo name
 *  durable. */
async function commit(sys: Sys, q: QueueLayout, id: number, made: Made, pool: PoolTaker | undefined): Promise<void> {
  const messDir = parentOf(made.messPath as string);
  const dirs = pool !== undefined && (made.messTaken || made.intdTaken) ? [messDir, pool.dir] : [messDir];
  await step(qq.tempSyncDir, 'fsync mess directory', () => Promise.all(dirs.map((d) => sys.fs.syncDir(d))));
  const todoPath = `${q.dir}/${messagePath('todo', id, q)}`;
  await step(qq.tempLinkTodo, 'link intd to todo', () => sys.fs.link(made.intdPath as string, todoPath));
  // From here the message is in the queue: never clean it up, whatever happens next.
  made.intdPath = null;
  made.messPath = null;
  await step(qq.tempSyncDir, 'fsync todo directory', () => sys.fs.syncDir(parentOf(todoPath))); // S4: queued
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Truncate, then unlink: intd first, then mess (qmail-queue's cleanup order), so that a name left
 *  behind by a failing unlink holds no message bytes. */
async function cleanup(sys: Sys, made: Made): Promise<void> {
  for (const [fd, path] of [
    [made.intdFd, made.intdPath],
    [made.messFd, made.messPath],
  ] as const) {
    if (path === null) continue;
    if (fd !== null) await sys.fs.ftruncate(fd, 0).catch(() => undefined);
    await sys.fs.unlink(path).catch(() => undefined);
  }
}

async function closeQuietly(sys: Sys, fd: Fd | null): Promise<void> {
  if (fd !== null) await sys.fs.close(fd).catch(() => undefined);
}

/** A ByteSource over an fd. */
export function fdSource(sys: Sys, fd: Fd): ByteSource {
  return { read: (buf) => sys.fs.read(fd, buf, 0, buf.length, null) };
}

/** A ByteSource over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  let off = 0;
  return {
    read: async (buf) => {
      const n = Math.min(buf.length, bytes.length - off);
      buf.set(bytes.subarray(off, off + n));
      off += n;
      return n;
    },
  };
}
