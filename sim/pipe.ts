// A one-way byte channel with a bounded buffer: the inside of a pipe, a FIFO, and each direction of
// a socket pair. Like Linux: a read on an empty channel waits while some writer exists and returns
// EOF (0) when none is left; a write with no reader left fails with EPIPE (Node ignores SIGPIPE, so
// no signal is sent); a write of at most pipeAtomicBytes is all or nothing; a larger one may be
// short. Blocking itself is the kernel's business: these methods answer 'empty' or 'full'.

import { sysError } from './syscall.ts';
import { assert } from './assert.ts';
import { WaitQueue } from './wait-queue.ts';

/** Linux's default pipe capacity. */
export const pipeBytesDefault = 65_536;
/** PIPE_BUF: writes up to this size are atomic. */
export const pipeAtomicBytes = 4096;

export class Channel {
  readers = 0;
  writers = 0;
  /** Blocked readers: woken by data and by the last writer leaving. */
  readonly readable = new WaitQueue();
  /** Blocked writers: woken by free space and by the last reader leaving. */
  readonly writable = new WaitQueue();
  private chunks: Uint8Array[] = [];
  private used = 0;

  /** sink: when set, every write is appended to it (captured output) or dropped ('discard', for
   *  /dev/null) and never blocks. */
  constructor(
    readonly capacity: number,
    readonly sink: Uint8Array[] | 'discard' | null = null,
  ) {
    assert(capacity >= pipeAtomicBytes, 'channel capacity >= PIPE_BUF');
  }

  get size(): number {
    return this.used;
  }

  /** Bytes read (0 = EOF), or 'empty' when the caller must wait. */
  read(buf: Uint8Array, offset: number, length: number): number | 'empty' {
    if (length === 0) return 0;
    if (this.used === 0) return this.writers === 0 ? 0 : 'empty';
    let n = 0;
    while (n < length && this.chunks.length > 0) {
      const head = this.chunks[0] as Uint8Array;
      const take = Math.min(head.length, length - n);
      buf.set(head.subarray(0, take), offset + n);
      n += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
    }
    this.used -= n;
    assert(this.used >= 0 && n > 0, 'channel read accounting');
    this.writable.wakeAll();
    return n;
  }

  /** Bytes written, or 'full' when the caller must wait. Throws EPIPE when no reader is left. */
  write(src: Uint8Array, offset: number, length: number): number | 'full' {
    if (this.readers === 0 && this.sink === null) throw sysError('EPIPE', 'write');
    if (length === 0) return 0;
    if (this.sink !== null) {
      if (this.sink !== 'discard') this.sink.push(src.slice(offset, offset + length));
      return length;
    }
    const room = this.capacity - this.used;
    if (room === 0 || (length <= pipeAtomicBytes && room < length)) return 'full';
    const n = Math.min(room, length);
    this.chunks.push(src.slice(offset, offset + n));
    this.used += n;
    this.readable.wakeAll();
    return n;
  }

  /** Fills the buffer past its capacity: input handed to a process from outside the world. */
  preload(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.used += bytes.length;
  }

  addReader(): void {
    this.readers++;
  }

  addWriter(): void {
    this.writers++;
  }

  dropReader(): void {
    assert(this.readers > 0, 'channel readers > 0');
    if (--this.readers === 0) this.writable.wakeAll();
  }

  dropWriter(): void {
    assert(this.writers > 0, 'channel writers > 0');
    if (--this.writers === 0) this.readable.wakeAll();
  }
}
