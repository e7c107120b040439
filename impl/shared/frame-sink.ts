// One writer of length-prefixed frames (impl/lib/frame.ts) on an fd shared by many concurrent
// callers: frames never interleave, and frames queued while a write is in progress go out together
// in the next write (one syscall for many callers under load). send() settles when the frame is
// written (backpressure: a caller never has more than what it awaits in flight); after a failed
// write every send fails with that error.

import type { Fd, Sys } from '../sys/types.ts';
import { encodeFrame } from '../lib/frame.ts';
import { writeAll } from './fdio.ts';
import { concat } from '../lib/envelope.ts';

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export class FrameSink {
  private frames: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  private busy = false;
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly sys: Sys,
    private readonly fd: Fd,
  ) {}

  /** Queues the payloads as consecutive frames; settles once they are written. */
  send(...payloads: Uint8Array[]): Promise<void> {
    return this.sendFrames(...payloads.map(encodeFrame));
  }

  /** As send(), for frames the caller encoded whole (a piece copied once, not twice). */
  sendFrames(...frames: Uint8Array[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.error);
    for (const f of frames) this.frames.push(f);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.busy) void this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    this.busy = true;
    while (this.frames.length > 0 && this.failure === null) {
      const frames = this.frames.splice(0);
      const waiters = this.waiters.splice(0);
      try {
        await writeAll(this.sys, this.fd, frames.length === 1 ? (frames[0] as Uint8Array) : concat(frames));
        for (const w of waiters) w.resolve();
      } catch (e) {
        this.failure = { error: e };
        for (const w of [...waiters, ...this.waiters.splice(0)]) w.reject(e);
        this.frames = [];
      }
    }
    this.busy = false;
  }
}
