// Reader tasks and ordered writers over pipe fds, for daemons that watch several peers at once.
// Sys has no select(): a reader task keeps one read pending on its fd and hands each piece to a
// callback (then the event loop's Wakeup is notified); a SerialWriter queues buffers and writes
// them one after another, so writes from many places never interleave and nobody waits for a slow
// peer unless it asks to.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { writeAll } from './fdio.ts';
import { concat } from '../lib/envelope.ts';

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

/** Writes queued buffers to fd in order. Buffers queued while a write is running, or in the same
 *  turn as the first (a daemon logs several lines in one step), go out together as one write(2):
 *  the reader sees the same bytes in the same order, with fewer syscalls and wake-ups on both
 *  sides. A failed write (EPIPE: the reader is gone) fails every later one too, and is reported
 *  once to onError. */
export class SerialWriter {
  private pending: { bytes: Uint8Array; done: (ok: boolean) => void; fail: (e: unknown) => void }[] = [];
  private running: Promise<void> | null = null;
  /** Settles when the batch being written now is done. */
  private inFlight: Promise<void> | null = null;
  private failed: SysError | null = null;

  constructor(
    private readonly sys: Sys,
    readonly fd: Fd,
    private readonly onError: (e: SysError) => void = () => undefined,
  ) {}

  /** Buffers handed over and not yet written. */
  get busy(): boolean {
    return this.running !== null;
  }

  get error(): SysError | null {
    return this.failed;
  }

  /** Queues bytes; the promise settles when they are written (true) or could not be (false). */
  write(bytes: Uint8Array): Promise<boolean> {
    const written = new Promise<boolean>((done, fail) => this.pending.push({ bytes, done, fail }));
    this.running ??= this.pump();
    return written;
  }

  private async pump(): Promise<void> {
    // One microtask first, so that everything queued in this turn joins the first write.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      let ok = false;
      if (this.failed === null) {
        try {
          this.inFlight = writeAll(this.sys, this.fd, batch.length === 1 ? (batch[0] as { bytes: Uint8Array }).bytes : concat(batch.map((b) => b.bytes))).finally(() => (this.inFlight = null));
          await this.inFlight;
          ok = true;
        } catch (e) {
          if (!(e instanceof SysError)) {
            // A bug, not an I/O failure: every writer waiting hears of it.
            for (const b of [...batch, ...this.pending]) b.fail(e);
            this.pending = [];
            this.running = null;
            throw e;
          }
          this.failed = e;
          this.onError(e);
        }
      }
      for (const b of batch) b.done(ok);
    }
    this.running = null;
  }

  /** Settles when everything queued so far is written or failed (not what comes after). */
  async drain(): Promise<void> {
    const last = this.pending.at(-1);
    if (last !== undefined) await new Promise<void>((resolve) => {
      const { done, fail } = last;
      last.done = (ok) => (done(ok), resolve());
      last.fail = (e) => (fail(e), resolve());
    });
    else if (this.inFlight !== null) await this.inFlight.catch(() => undefined);
  }
}
