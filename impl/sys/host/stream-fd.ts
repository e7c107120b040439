// StreamFd: a blocking-semantics fd on a pipe, FIFO or socket, carried by a net.Socket so that a
// waiting read parks no libuv threadpool thread and an O_NONBLOCK description (libuv makes every
// stream it owns non-blocking) never surfaces as EAGAIN to a program that opened it blocking.
//
// Three Node behaviours are overridden, each because it breaks fd semantics:
// - a socket starts reading as soon as it exists; bytes it reads are lost to a child that the fd
//   is handed to, so reading starts only on the first read() and stops when the fd is lent;
// - a socket closes its fd at EOF (allowHalfOpen false) or on an error (destroy); the fd number
//   would then be reused by the next open while the program still holds it, so the handle, and
//   with it the fd, is kept until the program calls close();
// - libuv never closes fds 0-2, so close() closes them itself.

import { closeSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { SysError } from '../errors.ts';
import { sysErrorFrom } from './errors.ts';

/** The parts of Node's internal stream handle (Pipe or TCP wrap) used here. Stable since Node 12. */
interface StreamHandle {
  fd: number;
  reading: boolean;
  readStart(): number;
  readStop(): number;
  setBlocking?(blocking: boolean): number;
  close(cb?: () => void): void;
}

interface SocketInternals {
  _handle: StreamHandle | null;
  _destroy(err: Error | null, cb: (err?: Error | null) => void): void;
  _readableState: { reading: boolean };
}

const stdioFdMax = 2;

/** A socket on an fd we own, created without reading (Node's `manualStart`). */
export function socketOnFd(fd: number): Socket {
  const opts = { fd, allowHalfOpen: true, manualStart: true };
  return new Socket(opts);
}

export class StreamFd {
  /** Bytes taken from the socket but not yet returned by read(). */
  private pending: Uint8Array | null = null;
  private eof = false;
  private failure: SysError | null = null;
  private listening = false;
  private lent = false;
  private releasing = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly handle: StreamHandle;
  /** Node makes the parent's end of a child's stdin write-only; reading it would wait forever. */
  private readonly readable: boolean;

  constructor(
    readonly fd: number,
    private readonly socket: Socket,
  ) {
    const handle = internals(socket)._handle;
    if (handle === null || handle.fd !== fd) throw new Error(`StreamFd: socket is not on fd ${fd}`);
    this.handle = handle;
    this.readable = socket.readable;
    socket.allowHalfOpen = true;
    this.keepHandleUntilClose();
    this.stopReading();
    socket.on('error', (e: Error) => this.fail(sysErrorFrom(e, syscallOf(e))));
    socket.on('end', () => {
      this.eof = true;
      this.wake();
    });
  }

  /** Blocking read: waits for data, returns 0 at EOF. */
  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    if (length === 0) return 0;
    if (!this.readable) throw new SysError('EBADF', 'read');
    this.reclaim();
    for (;;) {
      if (this.closed) throw new SysError('EBADF', 'read');
      const n = this.take(buf, offset, length);
      if (n > 0) return n;
      if (this.failure !== null) throw this.failure;
      if (this.eof) return 0;
      this.listen();
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  /** Blocking write: resolves when all bytes are with the kernel (libuv retries on EAGAIN). */
  async write(buf: Uint8Array, offset: number, length: number): Promise<number> {
    if (length === 0) return 0;
    this.reclaim();
    if (this.closed) throw new SysError('EBADF', 'write');
    if (this.failure !== null) throw this.failure;
    let chunk = buf.subarray(offset, offset + length);
    // Fast path: nothing queued in the socket, so write(2) straight to the (non-blocking) fd; the
    // stream machinery costs more CPU than the syscall for the small commands and log lines the
    // daemons exchange. What the pipe cannot take now (EAGAIN, a partial write) goes through the
    // socket, which waits for room; the order of bytes is kept because the socket's queue is empty.
    if (this.socket.writableLength === 0) {
      let n = 0;
      try {
        n = writeSync(this.fd, chunk);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EAGAIN') throw sysErrorFrom(e, 'write');
      }
      if (n === chunk.length) return length;
      chunk = chunk.subarray(n);
    }
    await new Promise<void>((resolve, reject) => {
      this.socket.write(chunk, (err) => (err ? reject(sysErrorFrom(err, 'write')) : resolve()));
    });
    return length;
  }

  /** Puts bytes back in front of the stream (read ahead while emulating a blocking FIFO open). */
  unread(bytes: Uint8Array): void {
    if (this.pending !== null) throw new Error('StreamFd.unread: bytes already pending');
    if (bytes.length > 0) this.pending = bytes;
  }

  /** The fd is about to be duplicated into a child: stop reading so that no byte meant for the
   *  child lands in our buffer, and for child fds 3+ make the shared description blocking, as a C
   *  child expects (libuv does this itself for the child's 0-2). reclaim() undoes it on our next use. */
  lend(childFd: number): void {
    this.stopReading();
    this.lent = true;
    if (childFd > stdioFdMax && this.socket.writableLength === 0) this.handle.setBlocking?.(true);
  }

  close(): void {
    if (this.closed) throw new SysError('EBADF', 'close');
    this.closed = true;
    this.wake();
    if (!this.socket.destroyed) {
      this.releasing = true;
      this.socket.destroy();
    } else {
      this.handle.close();
    }
    if (this.fd <= stdioFdMax) closeSync(this.fd);
  }

  private take(buf: Uint8Array, offset: number, length: number): number {
    const chunk = this.pending ?? (this.socket.destroyed ? null : (this.socket.read() as Uint8Array | null));
    this.pending = null;
    if (chunk === null) return 0;
    const n = Math.min(length, chunk.length);
    buf.set(chunk.subarray(0, n), offset);
    if (n < chunk.length) this.pending = chunk.subarray(n);
    return n;
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.socket.on('readable', () => this.wake());
  }

  private reclaim(): void {
    if (!this.lent) return;
    this.lent = false;
    // libuv's own reads and writes assume O_NONBLOCK; a child may have cleared it.
    this.handle.setBlocking?.(false);
  }

  private stopReading(): void {
    if (this.handle.reading) {
      this.handle.reading = false;
      this.handle.readStop();
    }
    // So that the next socket.read() asks the handle to start again.
    internals(this.socket)._readableState.reading = false;
  }

  private keepHandleUntilClose(): void {
    const s = internals(this.socket);
    const original = s._destroy.bind(this.socket);
    s._destroy = (err, cb) => {
      if (this.releasing) return original(err, cb);
      // An error or an automatic end: stop reading, keep the handle (and the fd number) until close().
      this.stopReading();
      cb(err);
    };
  }

  private fail(e: SysError): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}

function internals(socket: Socket): SocketInternals {
  return socket as unknown as SocketInternals;
}

function syscallOf(e: Error): string {
  const s = (e as { syscall?: unknown }).syscall;
  return typeof s === 'string' ? s : 'stream';
}
