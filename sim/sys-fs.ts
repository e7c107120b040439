// Sys.fs for one simulated process: path operations go to SimFs with the credentials, cwd and umask
// the process had when it made the call; the operation itself is applied when its event runs, so a
// crash between events sees exactly the operations that ran. fds name descriptions (sim/files.ts):
// regular files and directories read and write through SimFs, pipes, sockets and FIFOs through
// kernel channels, where a blocking fd waits and a non-blocking one gets EAGAIN.

import type { Fd, Fs, Stat } from '../impl/sys/types.ts';
import { O } from '../impl/sys/types.ts';
import { isSysError } from '../impl/sys/errors.ts';
import type { Ctx } from './fs-api.ts';
import type { Desc } from './files.ts';
import type { Kernel } from './kernel.ts';
import type { SimProcess } from './proc.ts';
import { Blocked, sysError } from './syscall.ts';
import { openPath } from './sys-open.ts';

export function makeFs(k: Kernel, p: SimProcess): Fs {
  const fs = k.fs;
  /** A path operation: the Ctx is taken now, at the call, as a kernel does at syscall entry. */
  const onPath = <T>(name: string, path: string, op: (ctx: Ctx) => T, detail: Record<string, unknown> = { path }): Promise<T> => {
    const ctx = p.ctx();
    return k.syscall(p, name, 'meta', () => op(ctx), detail);
  };
  return {
    open(path, flags, mode = 0o666) {
      return openPath(k, p, path, flags, mode);
    },
    close(fd) {
      return k.syscall(p, 'close', 'meta', () => closeFd(k, p, fd), { fd });
    },
    read(fd, buf, offset = 0, length = buf.length - offset, position = null) {
      return readFd(k, p, fd, buf, offset, length, position);
    },
    write(fd, buf, offset = 0, length = buf.length - offset, position = null) {
      return writeFd(k, p, fd, buf, offset, length, position);
    },
    fsync(fd) {
      return k.syscall(p, 'fsync', 'fsync', () => fs.fsync(fileOf(p, fd, 'fsync').of), { fd });
    },
    fstat(fd) {
      return k.syscall(p, 'fstat', 'meta', () => fstatFd(k, p.desc(fd, 'fstat')), { fd });
    },
    ftruncate(fd, length) {
      return k.syscall(p, 'ftruncate', 'meta', () => fs.ftruncate(fileOf(p, fd, 'ftruncate').of, length), { fd, length });
    },
    lock(fd, wait) {
      return k.syscall(p, 'lock', 'meta', () => lockFd(k, p, fd, wait), { fd, wait });
    },
    unlock(fd) {
      return k.syscall(p, 'unlock', 'meta', () => k.files.unlock(fileOf(p, fd, 'flock')), { fd });
    },
    stat(path) {
      return onPath('stat', path, (ctx) => fs.stat(ctx, path));
    },
    lstat(path) {
      return onPath('lstat', path, (ctx) => fs.lstat(ctx, path));
    },
    link(existing, newPath) {
      return onPath('link', existing, (ctx) => fs.link(ctx, existing, newPath), { path: existing, to: newPath });
    },
    rename(oldPath, newPath) {
      return onPath('rename', oldPath, (ctx) => fs.rename(ctx, oldPath, newPath), { path: oldPath, to: newPath });
    },
    unlink(path) {
      return onPath('unlink', path, (ctx) => fs.unlink(ctx, path));
    },
    mkdir(path, mode) {
      return onPath('mkdir', path, (ctx) => fs.mkdir(ctx, path, mode));
    },
    rmdir(path) {
      return onPath('rmdir', path, (ctx) => fs.rmdir(ctx, path));
    },
    readdir(path) {
      return onPath('readdir', path, (ctx) => fs.readdir(ctx, path));
    },
    chmod(path, mode) {
      return onPath('chmod', path, (ctx) => fs.chmod(ctx, path, mode), { path, mode });
    },
    chown(path, uid, gid) {
      return onPath('chown', path, (ctx) => fs.chown(ctx, path, uid, gid), { path, uid, gid });
    },
    utimes(path, atimeMs, mtimeMs) {
      return onPath('utimes', path, (ctx) => fs.utimes(ctx, path, atimeMs, mtimeMs));
    },
    mkfifo(path, mode) {
      return onPath('mkfifo', path, (ctx) => fs.mkfifo(ctx, path, mode));
    },
    symlink(target, path) {
      return onPath('symlink', path, (ctx) => fs.symlink(ctx, target, path));
    },
    readlink(path) {
      return onPath('readlink', path, (ctx) => fs.readlink(ctx, path));
    },
    syncDir(path) {
      const ctx = p.ctx();
      return k.syscall(p, 'syncDir', 'fsync', () => syncDir(k, ctx, path), { path });
    },
    trigger(path) {
      const ctx = p.ctx();
      return k.syscall(p, 'trigger', 'meta', () => trigger(k, ctx, path), { path });
    },
  };
}

function closeFd(k: Kernel, p: SimProcess, fd: Fd): void {
  const d = p.desc(fd, 'close');
  p.fds.delete(fd);
  k.files.release(d);
}

/** The description behind fd, which must be a regular file or directory (EINVAL otherwise, as
 *  fsync on a pipe is). */
function fileOf(p: SimProcess, fd: Fd, syscall: string): Desc & { type: 'file' } {
  const d = p.desc(fd, syscall);
  if (d.type !== 'file') throw sysError('EINVAL', syscall);
  return d;
}

function checkRange(buf: Uint8Array, offset: number, length: number, syscall: string): void {
  const ok = Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0;
  if (!ok || offset + length > buf.length) throw sysError('EINVAL', syscall);
}

function readFd(k: Kernel, p: SimProcess, fd: Fd, buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
  // A blocked read keeps its description, as Linux holds a file reference across the sleep.
  let d: Desc | null = null;
  return k.syscall(p, 'read', 'io', () => {
    d ??= p.desc(fd, 'read');
    if (d.refs === 0) throw sysError('EBADF', 'read');
    checkRange(buf, offset, length, 'read');
    if (d.type === 'file') {
      if ((d.of.flags & O.ACCMODE) === O.WRONLY) throw sysError('EBADF', 'read');
      return k.fs.read(d.of, buf, offset, length, position);
    }
    if (position !== null) throw sysError('ESPIPE', 'read');
    if (d.rx === null) throw sysError('EBADF', 'read');
    const n = d.rx.read(buf, offset, length);
    if (n !== 'empty') return n;
    if (d.nonblock) throw sysError('EAGAIN', 'read');
    return new Blocked(d.rx.readable);
  }, { fd, length });
}

function writeFd(k: Kernel, p: SimProcess, fd: Fd, buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
  // The bytes are taken at the call, as write(2) copies them before returning.
  let data: Uint8Array;
  try {
    checkRange(buf, offset, length, 'write');
    data = buf.slice(offset, offset + length);
  } catch (e) {
    return Promise.reject(e);
  }
  let d: Desc | null = null;
  return k.syscall(p, 'write', 'io', () => {
    d ??= p.desc(fd, 'write');
    if (d.refs === 0) throw sysError('EBADF', 'write');
    if (d.type === 'file') {
      if ((d.of.flags & O.ACCMODE) === O.RDONLY) throw sysError('EBADF', 'write');
      return k.fs.write(d.of, data, 0, data.length, position);
    }
    if (position !== null) throw sysError('ESPIPE', 'write');
    if (d.tx === null) throw sysError('EBADF', 'write');
    const n = d.tx.write(data, 0, data.length);
    if (n !== 'full') return n;
    if (d.nonblock) throw sysError('EAGAIN', 'write');
    return new Blocked(d.tx.writable);
  }, { fd, length });
}

function fstatFd(k: Kernel, d: Desc): Stat {
  if (d.type === 'file') return k.fs.fstat(d.of);
  if (d.of !== null) return k.fs.fstat(d.of);
  if (d.stat === null) throw sysError('EBADF', 'fstat');
  return { ...d.stat };
}

function lockFd(k: Kernel, p: SimProcess, fd: Fd, wait: boolean): void | Blocked {
  const d = fileOf(p, fd, 'flock');
  const got = k.files.lock(d);
  if (got === true) return;
  if (!wait) throw sysError('EAGAIN', 'flock');
  return new Blocked(got);
}

function syncDir(k: Kernel, ctx: Ctx, path: string): void {
  const of = k.fs.open(ctx, path, O.RDONLY | O.DIRECTORY, 0);
  try {
    k.fs.fsync(of);
  } finally {
    k.fs.close(of);
  }
}

/** qmail's triggerpull: one NUL into the FIFO if someone reads it; every failure is ignored. */
function trigger(k: Kernel, ctx: Ctx, path: string): void {
  let of;
  try {
    of = k.fs.open(ctx, path, O.WRONLY | O.NONBLOCK, 0);
  } catch (e) {
    if (isSysError(e)) return;
    throw e;
  }
  if (of.kind !== 'fifo') {
    // Linux writes the NUL into whatever it opened; so do we (qmail never points it at a file).
    try {
      k.fs.write(of, new Uint8Array(1), 0, 1, null);
    } catch (e) {
      if (!isSysError(e)) throw e;
    } finally {
      k.fs.close(of);
    }
    return;
  }
  const f = k.files.findFifo(of.ino);
  if (f === undefined || f.chan.readers === 0) {
    k.fs.close(of); // ENXIO: nobody is listening
    return;
  }
  const d = k.files.fifo(of, f, false, true);
  d.refs++;
  d.tx?.write(new Uint8Array(1), 0, 1); // 'full' is EAGAIN: a trigger is already pending
  k.files.release(d);
}
