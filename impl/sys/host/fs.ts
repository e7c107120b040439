// HostFs: Fs on the real kernel. Regular files go through node:fs (threadpool); pipes, FIFOs and
// sockets through FdTable (see fd-table.ts), so that no wait ever parks a threadpool thread.
// Flags and modes are Linux's own numbers (types.ts O), passed straight through.

import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SysError } from '../errors.ts';
import { O, type Fd, type FileKind, type Fs, type Stat } from '../types.ts';
import { mapped, mappedSync, sysErrorFrom } from './errors.ts';
import type { FdEntry, FdTable } from './fd-table.ts';
import { flockExclusive, flockRelease, mkfifoExact } from './helpers.ts';
import { kindOf, statFrom, statFromNumbers } from './stat.ts';

/** How often a blocking FIFO open re-checks for its peer (Node cannot wait for one without a thread). */
const fifoPollMs = 10;
/** One pipe buffer: what a FIFO's read-ahead can hold while a blocking open waits for a writer. */
const fifoReadAheadBytes = 65536;

const nul = new Uint8Array(1);

type Done<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/** Adapts a node:fs callback call to a promise of SysError. */
function call<T>(syscall: string, path: string | undefined, fn: (done: Done<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(sysErrorFrom(err, syscall, path)) : resolve(value)));
  });
}

/** Runs a synchronous syscall as a settled promise (a throw becomes its SysError). */
function now<T>(syscall: string, path: string | undefined, fn: () => T): Promise<T> {
  let value: T;
  try {
    value = stackless(fn);
  } catch (e) {
    return rejected(sysErrorFrom(e, syscall, path));
  }
  return Promise.resolve(value);
}

/** A promise that rejects with err one microtask later, once the caller has had the chance to
 *  await it: a promise rejected before it has a handler goes through Node's unhandled-rejection
 *  bookkeeping (measured: 3.3 against 1.2 us, and a missing file is a common answer). */
function rejected<T>(err: SysError): Promise<T> {
  return new Promise((_, reject) => queueMicrotask(() => reject(err)));
}

/** fn() with no stack captured for Node's own error: it is only mapped (a failed open of a missing
 *  .qmail file spent more on that stack than on the syscall). The SysError gets one when it is a
 *  fault. */
function stackless<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function rawOpen(path: string, flags: number, mode: number, sync = false, syncCreate = false): Promise<number> {
  // Creating a file takes a journal handle: it can wait for a commit (see HostFsOptions).
  if (sync && ((flags & O.CREAT) === 0 || syncCreate)) return now('open', path, () => fs.openSync(path, flags, mode));
  return call('open', path, (done) => fs.open(path, flags, mode, done));
}

function rawClose(fd: number, sync = false): Promise<void> {
  if (sync) return now('close', undefined, () => fs.closeSync(fd));
  return call('close', undefined, (done) => fs.close(fd, (err) => done(err, undefined)));
}

function rawFstat(fd: number, sync = false): Promise<Stat> {
  if (sync) return now('fstat', undefined, () => statFromNumbers(fs.fstatSync(fd), () => fs.fstatSync(fd, { bigint: true }), 'fstat'));
  return call<fs.BigIntStats>('fstat', undefined, (done) => fs.fstat(fd, { bigint: true }, done)).then((st) =>
    statFrom(st, 'fstat'),
  );
}

/** What an open made, when its flags tell: O_CREAT|O_EXCL a new regular file (an existing name,
 *  FIFO or not, is EEXIST), O_DIRECTORY a directory. */
function knownKind(flags: number): FileKind | null {
  if ((flags & (O.CREAT | O.EXCL)) === (O.CREAT | O.EXCL)) return 'file';
  if ((flags & O.DIRECTORY) !== 0) return 'dir';
  return null;
}

function noEntry(syscall: string, path: string): never {
  // No stack: a missing file is an answer here, and capturing a stack was most of its cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const e = new SysError('ENOENT', syscall, path);
  Error.stackTraceLimit = limit;
  throw e;
}

/** Offsets and lengths out of range are bugs in the caller, not kernel errors. */
function checkRange(buf: Uint8Array, offset: number, length: number, what: string): void {
  if (!inRange(buf, offset, length)) {
    throw new RangeError(`${what}: offset ${offset} length ${length} outside a buffer of ${buf.length}`);
  }
}

function inRange(buf: Uint8Array, offset: number, length: number): boolean {
  const ok = Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0;
  return ok && offset + length <= buf.length;
}

function isCode(e: unknown, ...codes: string[]): boolean {
  return e instanceof SysError && codes.includes(e.code);
}

export interface HostFsOptions {
  /** Regular-file calls that only read or touch an open file (open without O_CREAT, close, read,
   *  write, fstat, stat, lstat) as direct syscalls on the event loop instead of the libuv
   *  threadpool. A local file system answers these in microseconds, and each pool hand-off (futex
   *  wake-ups, two context switches) costs more than the call itself: for a process making tens
   *  of them per message (the delivery worker, qmail-lspawn) the pool is most of its CPU.
   *  Calls that change a directory (open with O_CREAT, link, rename, unlink, mkdir) and fsync stay
   *  on the pool: each takes a journal handle, and under a stream of fsyncs ext4 makes it wait for
   *  the running commit (milliseconds: measured, qmail-send spent half its time blocked in
   *  unlink(2) while draining a queue on the event loop). The price of the rest: a file system
   *  that stalls (a hung NFS server) stalls the whole process rather than the pool's threads.
   *  Default off. */
  syncMetadata?: boolean;
  /** With syncMetadata, also the calls that change a directory (open with O_CREAT, link, rename,
   *  unlink) run on the event loop; fsync stays on the pool. For a process whose event loop serves
   *  one user's deliveries (qmail-local-worker): a call that waits on the file system there waits
   *  as qmail-local's own would, and the pool hand-off it saves (measured: a rename 25 us of CPU
   *  on the pool, 8 us direct) is paid three times a delivery. qmail-send too (four pool/ renames
   *  a message: 0.47 -> 0.39 ms of CPU a message draining 10,000, the drain no slower); a rename
   *  there can wait for a directory fsync on its own pool, as qmail's own qmail-send waits in every
   *  call. Not todo-proc, whose creates and renames feed its batch's parallel fsyncs. */
  syncDirectoryOps?: boolean;
}

export class HostFs implements Fs {
  private readonly sync: boolean;
  private readonly syncDirs: boolean;

  constructor(
    private readonly fds: FdTable,
    /** The process umask (mkfifo(1) -m ignores it, so HostFs applies it). */
    private readonly umask: () => number,
    opts: HostFsOptions = {},
  ) {
    this.sync = opts.syncMetadata ?? false;
    this.syncDirs = this.sync && (opts.syncDirectoryOps ?? false);
  }

  open(path: string, flags: number, mode = 0o666): Promise<Fd> {
    if (this.sync && ((flags & O.CREAT) === 0 || this.syncDirs)) return this.openDirect(path, flags, mode) ?? this.openWaiting(path, flags, mode);
    return this.openWaiting(path, flags, mode);
  }

  /** open() in syncMetadata mode without O_CREAT: the open, the fstat and the bookkeeping done
   *  directly, answered by one settled promise. An open that fails costs one rejected promise, not
   *  one per layer of async functions: each costs microseconds (Node tracks every rejection that
   *  has no handler yet), and a missing .qmail file is the delivery worker's common answer. Null
   *  when the open has to wait (a blocking FIFO with no peer yet): openWaiting does it. */
  private openDirect(path: string, flags: number, mode: number): Promise<Fd> | null {
    let fd: number;
    try {
      fd = stackless(() => fs.openSync(path, flags | O.NONBLOCK, mode));
    } catch (e) {
      const err = sysErrorFrom(e, 'open', path);
      const blockingWriter = (flags & O.NONBLOCK) === 0 && (flags & O.ACCMODE) === O.WRONLY;
      return blockingWriter && err.code === 'ENXIO' ? null : rejected(err);
    }
    let kind: FileKind;
    try {
      kind = knownKind(flags) ?? kindOf(stackless(() => fs.fstatSync(fd)).mode);
    } catch (e) {
      try {
        fs.closeSync(fd);
      } catch {
        // The fstat's error is the answer.
      }
      return rejected(sysErrorFrom(e, 'fstat'));
    }
    const entry = this.fds.opened(fd, kind, (flags & O.NONBLOCK) !== 0);
    if (entry.kind === 'stream' && (flags & O.ACCMODE) === O.RDONLY) {
      return this.awaitWriter(fd, entry).then(
        () => fd,
        async (e: unknown) => {
          await this.close(fd).catch(() => undefined);
          throw e;
        },
      );
    }
    return Promise.resolve(fd);
  }

  private async openWaiting(path: string, flags: number, mode: number): Promise<Fd> {
    const nonblock = (flags & O.NONBLOCK) !== 0;
    const fd = await this.openNoWait(path, flags, mode);
    let entry: FdEntry;
    try {
      entry = this.fds.opened(fd, await this.kindOfOpened(fd, flags), nonblock);
      if (entry.kind === 'stream' && (flags & O.ACCMODE) === O.RDONLY) await this.awaitWriter(fd, entry);
    } catch (e) {
      await this.close(fd).catch(() => undefined);
      throw e;
    }
    return fd;
  }

  /** What was opened. O_CREAT|O_EXCL made a new regular file (an existing name, FIFO or not, is
   *  EEXIST) and O_DIRECTORY opened a directory: no fstat needed (a delivery makes one such open). */
  private async kindOfOpened(fd: number, flags: number): Promise<FileKind> {
    return knownKind(flags) ?? kindOf((await rawFstat(fd, this.sync)).mode);
  }

  /** Opens with O_NONBLOCK added: it changes nothing for files, and a FIFO open without it would
   *  hold a threadpool thread until the peer shows up. A blocking write-open of a FIFO then polls
   *  for a reader (ENXIO means none yet). */
  private async openNoWait(path: string, flags: number, mode: number): Promise<number> {
    const blockingWriter = (flags & O.NONBLOCK) === 0 && (flags & O.ACCMODE) === O.WRONLY;
    for (;;) {
      try {
        return await rawOpen(path, flags | O.NONBLOCK, mode, this.sync, this.syncDirs);
      } catch (e) {
        if (!blockingWriter || !isCode(e, 'ENXIO') || (await this.kindAt(path)) !== 'fifo') throw e;
      }
      await sleep(fifoPollMs);
    }
  }

  /** A blocking read-open of a FIFO returns once a writer has it open. Polled: read(2) on the
   *  non-blocking fd says EAGAIN (writer, no data), 0 (no writer yet) or data (kept for read()).
   *  A writer that opens and closes without writing between two polls goes unnoticed. */
  private async awaitWriter(fd: number, entry: FdEntry & { kind: 'stream' }): Promise<void> {
    const buf = new Uint8Array(fifoReadAheadBytes);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const err = sysErrorFrom(e, 'open');
        if (err.code === 'EAGAIN') return;
        throw err;
      }
      if (n > 0) {
        entry.stream.unread(buf.slice(0, n));
        return;
      }
      await sleep(fifoPollMs);
    }
  }

  private async kindAt(path: string): Promise<string | null> {
    return this.stat(path).then(
      (st) => st.kind,
      () => null,
    );
  }

  private async entryFor(fd: Fd, syscall: string): Promise<FdEntry> {
    try {
      return await this.fds.entry(fd);
    } catch (e) {
      throw e instanceof SysError ? new SysError(e.code, syscall) : e;
    }
  }

  // close, read and write of a regular file in syncMetadata mode: the syscall straight away, its
  // settled promise the answer (no async layers, no wait on the fd table: a delivery makes ten).
  close(fd: Fd): Promise<void> {
    if (this.sync && this.fds.known(fd)?.kind === 'file') {
      this.fds.drop(fd);
      return rawClose(fd, true);
    }
    return this.closeWaiting(fd);
  }

  private async closeWaiting(fd: Fd): Promise<void> {
    const e = await this.fds.forget(fd);
    if (e?.kind === 'stream') return e.stream.close();
    await rawClose(fd, this.sync);
  }

  read(fd: Fd, buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Promise<number> {
    const len = length ?? buf.length - offset;
    const known = this.fds.known(fd);
    if (this.sync && known?.kind === 'file' && inRange(buf, offset, len)) return now('read', undefined, () => fs.readSync(fd, buf, offset, len, position));
    // A socket or pipe already known: straight to its StreamFd (an SMTP session reads and writes
    // a dozen times per message; each async layer skipped is a promise and a microtask less).
    if (known?.kind === 'stream' && position === null && inRange(buf, offset, len)) return known.stream.read(buf, offset, len);
    return this.readWaiting(fd, buf, offset, len, position);
  }

  private async readWaiting(fd: Fd, buf: Uint8Array, offset: number, len: number, position: number | null): Promise<number> {
    checkRange(buf, offset, len, 'read');
    const e = await this.entryFor(fd, 'read');
    if (e.kind === 'file') {
      if (this.sync) return now('read', undefined, () => fs.readSync(fd, buf, offset, len, position));
      return call('read', undefined, (done) => fs.read(fd, buf, offset, len, position, done));
    }
    if (position !== null) throw new SysError('ESPIPE', 'read');
    if (e.kind === 'stream') return e.stream.read(buf, offset, len);
    return mappedSync('read', undefined, () => fs.readSync(fd, buf, offset, len, null));
  }

  write(fd: Fd, buf: Uint8Array, offset = 0, length?: number, position: number | null = null): Promise<number> {
    const len = length ?? buf.length - offset;
    const known = this.fds.known(fd);
    if (this.sync && known?.kind === 'file' && inRange(buf, offset, len)) return now('write', undefined, () => fs.writeSync(fd, buf, offset, len, position));
    if (known?.kind === 'stream' && position === null && inRange(buf, offset, len)) return known.stream.write(buf, offset, len);
    return this.writeWaiting(fd, buf, offset, len, position);
  }

  private async writeWaiting(fd: Fd, buf: Uint8Array, offset: number, len: number, position: number | null): Promise<number> {
    checkRange(buf, offset, len, 'write');
    const e = await this.entryFor(fd, 'write');
    if (e.kind === 'file') {
      if (this.sync) return now('write', undefined, () => fs.writeSync(fd, buf, offset, len, position));
      return call('write', undefined, (done) => fs.write(fd, buf, offset, len, position, done));
    }
    if (position !== null) throw new SysError('ESPIPE', 'write');
    if (e.kind === 'stream') return e.stream.write(buf, offset, len);
    return mappedSync('write', undefined, () => fs.writeSync(fd, buf, offset, len, null));
  }

  fsync(fd: Fd): Promise<void> {
    return call('fsync', undefined, (done) => fs.fsync(fd, (err) => done(err, undefined)));
  }

  fstat(fd: Fd): Promise<Stat> {
    return rawFstat(fd, this.sync);
  }

  ftruncate(fd: Fd, length: number): Promise<void> {
    return call('ftruncate', undefined, (done) => fs.ftruncate(fd, length, (err) => done(err, undefined)));
  }

  lock(fd: Fd, wait: boolean): Promise<void> {
    return flockExclusive(fd, wait);
  }

  unlock(fd: Fd): Promise<void> {
    return flockRelease(fd);
  }

  // Not async functions: in syncMetadata mode the answer is now()'s settled promise itself (a
  // missing file then costs one rejected promise, not two).
  stat(path: string): Promise<Stat> {
    // throwIfNoEntry: a missing file (the common answer for qmail-send's existence checks) costs
    // no Node exception on the way to our SysError.
    if (this.sync) return now('stat', path, () => statFromNumbers(fs.statSync(path, { throwIfNoEntry: false }) ?? noEntry('stat', path), () => fs.statSync(path, { bigint: true }), 'stat', path));
    return mapped('stat', path, () => fs.promises.stat(path, { bigint: true })).then((st) => statFrom(st, 'stat', path));
  }

  lstat(path: string): Promise<Stat> {
    if (this.sync) return now('lstat', path, () => statFromNumbers(fs.lstatSync(path, { throwIfNoEntry: false }) ?? noEntry('lstat', path), () => fs.lstatSync(path, { bigint: true }), 'lstat', path));
    return mapped('lstat', path, () => fs.promises.lstat(path, { bigint: true })).then((st) => statFrom(st, 'lstat', path));
  }

  // link, rename and unlink stay on the threadpool unless syncDirectoryOps says (HostFsOptions).
  link(existing: string, newPath: string): Promise<void> {
    if (this.syncDirs) return now('link', newPath, () => fs.linkSync(existing, newPath));
    return call('link', newPath, (done) => fs.link(existing, newPath, (err) => done(err, undefined)));
  }

  rename(oldPath: string, newPath: string): Promise<void> {
    if (this.syncDirs) return now('rename', oldPath, () => fs.renameSync(oldPath, newPath));
    return call('rename', oldPath, (done) => fs.rename(oldPath, newPath, (err) => done(err, undefined)));
  }

  unlink(path: string): Promise<void> {
    if (this.syncDirs) return now('unlink', path, () => fs.unlinkSync(path));
    return call('unlink', path, (done) => fs.unlink(path, (err) => done(err, undefined)));
  }

  async mkdir(path: string, mode: number): Promise<void> {
    await mapped('mkdir', path, () => fs.promises.mkdir(path, { mode }));
  }

  rmdir(path: string): Promise<void> {
    return mapped('rmdir', path, () => fs.promises.rmdir(path));
  }

  readdir(path: string): Promise<string[]> {
    return mapped('readdir', path, () => fs.promises.readdir(path));
  }

  chmod(path: string, mode: number): Promise<void> {
    return mapped('chmod', path, () => fs.promises.chmod(path, mode));
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return mapped('chown', path, () => fs.promises.chown(path, uid, gid));
  }

  utimes(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
    return mapped('utimes', path, () => fs.promises.utimes(path, atimeMs / 1000, mtimeMs / 1000));
  }

  mkfifo(path: string, mode: number): Promise<void> {
    return mkfifoExact(path, mode & ~this.umask());
  }

  symlink(target: string, path: string): Promise<void> {
    return mapped('symlink', path, () => fs.promises.symlink(target, path));
  }

  readlink(path: string): Promise<string> {
    return mapped('readlink', path, () => fs.promises.readlink(path));
  }

  async syncDir(path: string): Promise<void> {
    const fd = await rawOpen(path, O.RDONLY | O.DIRECTORY, 0, this.sync);
    try {
      await this.fsync(fd);
    } finally {
      await rawClose(fd, this.sync);
    }
  }

  /** qmail's triggerpull. The fd is private to this call, so plain syscalls do. */
  async trigger(path: string): Promise<void> {
    let fd: number;
    try {
      fd = await rawOpen(path, O.WRONLY | O.NONBLOCK, 0);
    } catch (e) {
      if (isCode(e, 'ENXIO', 'ENOENT', 'EAGAIN')) return;
      throw e;
    }
    try {
      fs.writeSync(fd, nul);
    } catch (e) {
      // Full FIFO: a wake-up is pending anyway. EPIPE: the reader left between open and write.
      const err = sysErrorFrom(e, 'write', path);
      if (err.code !== 'EAGAIN' && err.code !== 'EPIPE') throw err;
    } finally {
      fs.closeSync(fd);
    }
  }
}
