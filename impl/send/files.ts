// qmail-send's file access: queue paths, info (sender and birth), channel files read record by
// record, the in-place D mark. Paths in log lines are relative to the queue, as qmail prints them.

import type { Fd, Stat, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { channelNames, type Channel } from '../../spec/send.ts';
import { messagePath, type QueueLayout } from '../../spec/queue.ts';
import { latin1 } from '../lib/latin1.ts';
export { statOrNull } from '../shared/fdio.ts';

export type QueueDir = 'info' | 'local' | 'remote' | 'mess' | 'todo' | 'intd' | 'bounce';

/** The path relative to the queue (as logged): info/S/ID, todo/[S/]ID, bounce/ID, ... */
export function rel(layout: QueueLayout, dir: QueueDir, id: number): string {
  return messagePath(dir, id, layout);
}

export function abs(layout: QueueLayout, dir: QueueDir, id: number): string {
  return `${layout.dir}/${rel(layout, dir, id)}`;
}

export function chanDir(c: Channel): 'local' | 'remote' {
  return channelNames[c];
}

export function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}


/** Where info's first record must end (its NUL within these bytes): a RecordReader with a
 *  2048-byte bound over 4096-byte reads accepted exactly that, and an address is at most 1002. */
const infoHeadBytes = 4096;

/** getinfo: the sender (info's F record) and birth (info's mtime, seconds); null when info cannot
 *  be read or does not start with a complete F record. One read of the file's head into a buffer
 *  of its size (info files are tens of bytes: no 4 KiB buffer per message). */
export async function getInfo(sys: Sys, layout: QueueLayout, id: number): Promise<{ sender: string; birth: number } | null> {
  let fd: Fd;
  try {
    fd = await sys.fs.open(abs(layout, 'info', id), O.RDONLY);
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
  try {
    const st = await sys.fs.fstat(fd);
    const head = new Uint8Array(Math.min(st.size, infoHeadBytes));
    const n = head.length === 0 ? 0 : await sys.fs.read(fd, head, 0, head.length, 0);
    const nul = head.subarray(0, n).indexOf(0);
    if (nul < 1 || head[0] !== 0x46) return null;
    return { sender: latin1(head.subarray(1, nul)), birth: Math.floor(st.mtimeMs / 1000) };
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  } finally {
    await sys.fs.close(fd).catch(() => undefined);
  }
}

/** NUL-terminated records of a regular file, read in chunks (qmail's getln with '\0'). next() gives
 *  each record without its NUL and its length with it; null at EOF, including a last record that
 *  has no NUL (qmail: !match). Read errors are thrown. A read shorter than asked is taken as EOF:
 *  on a regular file read(2) returns less only there, and nobody appends to a channel file or info
 *  once written, so the read of 0 that qmail makes next (a syscall per pass) is skipped. */
export class RecordReader {
  private buf = new Uint8Array(0);
  private chunk: Uint8Array | null = null;
  private eof = false;

  constructor(
    private readonly sys: Sys,
    readonly fd: Fd,
    private readonly recordBytesMax = 1 << 20,
  ) {}

  async next(): Promise<{ bytes: Uint8Array; len: number } | null> {
    for (;;) {
      const nul = this.buf.indexOf(0);
      if (nul >= 0) {
        const bytes = this.buf.slice(0, nul);
        this.buf = this.buf.subarray(nul + 1);
        return { bytes, len: nul + 1 };
      }
      if (this.eof || this.buf.length > this.recordBytesMax) return null;
      // One read buffer per reader (a fresh 4 KiB one per read cost more than the read); what
      // arrived is copied out of it.
      const chunk = (this.chunk ??= new Uint8Array(4096));
      const n = await this.sys.fs.read(this.fd, chunk, 0, chunk.length, null);
      if (n < chunk.length) this.eof = true;
      if (this.buf.length === 0) {
        this.buf = chunk.slice(0, n);
        continue;
      }
      const merged = new Uint8Array(this.buf.length + n);
      merged.set(this.buf);
      merged.set(chunk.subarray(0, n), this.buf.length);
      this.buf = merged;
    }
  }
}

const markD = new Uint8Array([0x44]);

/** markdone: one byte D over the T at mpos, through the job's read-write fd of the channel file
 *  (qmail opens the file for each mark; the byte and its place are the same). No fsync, as in
 *  qmail: a crash before this byte reaches the disk means the recipient is delivered again
 *  (../shared/spec/queue.md 6.3). False on failure. */
export async function markDone(sys: Sys, fd: Fd, mpos: number): Promise<boolean> {
  try {
    return (await sys.fs.write(fd, markD, 0, 1, mpos)) === 1;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
}
