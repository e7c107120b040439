// Reader tasks and ordered writers over pipe fds, for daemons that watch several peers at once.
// Sys has no select(): a reader task keeps one read pending on its fd and hands each piece to a
// callback (then the event loop's Wakeup is notified); a SerialWriter queues buffers and writes
// them one after another, so writes from many places never interleave and nobody waits for a slow
// peer unless it asks to.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { writeAll } from './fdio.ts';

const pieceBytes = 16_384;

/** Reads fd until EOF or an error, calling onBytes for each piece, then onEnd once. The promise
 *  settles when the fd ends (never, if the process ends first); run it with Wakeup.background. */
export function readTask(sys: Sys, fd: Fd, onBytes: (piece: Uint8Array) => void, onEnd: (error: SysError | null) => void): Promise<void> {
  return (async () => {
    const buf = new Uint8Array(pieceBytes);
    for (;;) {
      let n: number;
      try {
        n = await sys.fs.read(fd, buf, 0, buf.length, null);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        onEnd(e);
        return;
      }
      if (n === 0) {
        onEnd(null);
        return;
      }
      onBytes(buf.slice(0, n));
    }
  })();
}

/** Writes queued buffers to fd in order. A failed write (EPIPE: the reader is gone) fails every
 *  later one too, and is reported once to onError. */
export class SerialWriter {
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private failed: SysError | null = null;

  constructor(
    private readonly sys: Sys,
    readonly fd: Fd,
    private readonly onError: (e: SysError) => void = () => undefined,
  ) {}

  /** Buffers handed over and not yet written. */
  get busy(): boolean {
    return this.queued > 0;
  }

  get error(): SysError | null {
    return this.failed;
  }

  /** Queues bytes; the promise settles when they are written (true) or could not be (false). */
  write(bytes: Uint8Array): Promise<boolean> {
    this.queued++;
    const done = this.chain.then(async () => {
      try {
        if (this.failed !== null) return false;
        await writeAll(this.sys, this.fd, bytes);
        return true;
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        this.failed = e;
        this.onError(e);
        return false;
      } finally {
        this.queued--;
      }
    });
    this.chain = done.then(() => undefined);
    return done;
  }

  /** Settles when everything queued so far is written or failed. */
  async drain(): Promise<void> {
    await this.chain;
  }
}
