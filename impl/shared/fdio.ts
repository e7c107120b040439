// Byte IO helpers over Sys fds: whole reads and writes, a buffered writer, small files.

import type { Fd, Stat, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { concat } from '../lib/envelope.ts';

/** Writes all of buf (write(2) may be short). */
export async function writeAll(sys: Sys, fd: Fd, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await sys.fs.write(fd, buf, off, buf.length - off, null);
}

/** Reads until EOF; throws a plain Error when more than maxBytes arrive (a bound, not a truncation). */
export async function readAll(sys: Sys, fd: Fd, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  // Most files read whole are small (todo, info, control files): a fresh 64 KiB buffer for each
  // cost more CPU than the read. The buffer grows once a read fills it.
  let buf = new Uint8Array(readAllFirstBytes);
  let total = 0;
  for (;;) {
    const n = await sys.fs.read(fd, buf, 0, buf.length, null);
    if (n === 0) return parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts);
    total += n;
    if (total > maxBytes) throw new Error(`readAll: more than ${maxBytes} bytes`);
    parts.push(buf.slice(0, n));
    if (n === buf.length && buf.length < ioChunkBytes) buf = new Uint8Array(ioChunkBytes);
  }
}

const readAllFirstBytes = 4096;

/** Collects writes into chunks of ioChunkBytes; flush() must be called before fsync or close.
 *  Writes: one per ioChunkBytes held, and a piece that large written straight. The buffer starts
 *  at 4 KB and doubles as needed, so that a small file allocates (and zeroes) a few KB rather than
 *  ioChunkBytes. It is reused: a write completes (the kernel has copied the bytes) before flush
 *  returns. */
export class BufferedWriter {
  private buf = new Uint8Array(writerFirstBytes);
  private used = 0;

  constructor(
    private readonly sys: Sys,
    private readonly fd: Fd,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    if (this.used + bytes.length > this.buf.length) this.grow(this.used + bytes.length);
    if (this.used + bytes.length > this.buf.length) await this.flush();
    if (bytes.length >= ioChunkBytes) {
      await writeAll(this.sys, this.fd, bytes);
      return;
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await writeAll(this.sys, this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private grow(want: number): void {
    if (this.buf.length >= ioChunkBytes) return;
    let size = this.buf.length;
    while (size < want && size < ioChunkBytes) size *= 2;
    const next = new Uint8Array(Math.min(size, ioChunkBytes));
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
  }
}

const writerFirstBytes = 4096;

/** Reads a whole file; null when it does not exist. */
export async function readFileOrNull(sys: Sys, path: string): Promise<Uint8Array | null> {
  let fd: Fd;
  try {
    fd = await sys.fs.open(path, O.RDONLY);
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return null;
    throw e;
  }
  try {
    return await readAll(sys, fd);
  } finally {
    await sys.fs.close(fd);
  }
}

/** Creates or replaces `path` with bytes, fsyncs it and closes it. The caller syncs the directory
 *  when the name itself must be durable. */
export async function writeFileSynced(sys: Sys, path: string, bytes: Uint8Array, mode: number): Promise<void> {
  const fd = await sys.fs.open(path, O.WRONLY | O.CREAT | O.TRUNC, mode);
  try {
    await writeAll(sys, fd, bytes);
    await sys.fs.fsync(fd);
  } finally {
    await sys.fs.close(fd);
  }
}

const decoder = new TextDecoder();

/** qmail's control_rldef for one-line files: the first line without trailing white space, or null. */
export async function readControlLine(sys: Sys, path: string): Promise<string | null> {
  const bytes = await readFileOrNull(sys, path);
  if (bytes === null) return null;
  const first = decoder.decode(bytes).split('\n')[0] ?? '';
  return first.replace(/[ \t\r]+$/, '');
}

/** Unlinks path; true when a name was removed, false when there was none (ENOENT). */
export async function unlinkIfThere(sys: Sys, path: string): Promise<boolean> {
  try {
    await sys.fs.unlink(path);
    return true;
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return false;
    throw e;
  }
}

/** stat (lstat with `link`), with "no such file" as null; every other failure throws. */
export async function statOrNull(sys: Sys, path: string, link = false): Promise<Stat | null> {
  try {
    return await (link ? sys.fs.lstat(path) : sys.fs.stat(path));
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return null;
    throw e;
  }
}

/** Might the file exist? Any answer but "no such file" counts as yes, so that a caller in doubt
 *  keeps (or unlinks and lets unlink(2) decide). stat, or lstat with `link`. */
export async function mayExist(sys: Sys, path: string, link = false): Promise<boolean> {
  try {
    await (link ? sys.fs.lstat(path) : sys.fs.stat(path));
    return true;
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return false;
    if (e instanceof SysError) return true;
    throw e;
  }
}
