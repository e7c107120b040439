// The wait at the bottom of an event loop, where qmail calls select(): the loop sleeps until
// something it watches happens (a reader task got bytes, a write finished, a signal arrived: each
// calls notify()) or until a deadline, and never spins. A notify() that comes while the loop is busy
// is kept, so the next wait() returns at once: nothing is missed between looking and sleeping.
// A task running beside the loop (background()) that throws something other than an expected
// failure is a bug: wait() rethrows it, so the program crashes as a synchronous bug would.

import type { Sys } from '../sys/types.ts';

export class Wakeup {
  private pending = false;
  private resolve: (() => void) | null = null;
  private bug: { error: unknown } | null = null;

  notify(): void {
    this.pending = true;
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }

  /** Runs a task beside the loop; its throw surfaces from the next wait(). */
  background(task: Promise<unknown>): void {
    task.catch((e: unknown) => {
      this.bug ??= { error: e };
      this.notify();
    });
  }

  /** Throws a background task's bug, if one happened. */
  check(): void {
    if (this.bug !== null) throw this.bug.error;
  }

  /** Returns after a notify() (maybe one that came earlier) or after ms; null waits without limit. */
  async wait(sys: Sys, ms: number | null): Promise<void> {
    this.check();
    if (!this.pending && (ms === null || ms > 0)) {
      await new Promise<void>((resolve) => {
        const cancel = ms === null ? null : sys.clock.timer(ms, () => this.notify());
        this.resolve = () => {
          cancel?.();
          resolve();
        };
      });
    }
    this.pending = false;
    this.check();
  }
}
