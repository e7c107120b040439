// Drives a simulated kernel from outside it. A call a test makes on a simulated process's Sys only
// schedules an event; nothing happens until the kernel runs. drive() runs the kernel until every
// call made through it has settled, so a test simply awaits sim calls as it awaits host calls.
//
// A test's continuation runs inside the kernel's run loop (it drains microtasks after each event),
// so the test's next call is seen before the loop decides to stop: a whole sequence of awaited calls
// runs in one k.run. A call the kernel can never settle (it went idle with the call pending) fails
// loudly instead of hanging the test, as a blocked read with no writer would hang on the host.

import type { Kernel } from '../../sim/kernel.ts';

export class KernelDriver {
  private readonly pending = new Set<(e: Error) => void>();
  private pumping = false;

  constructor(readonly k: Kernel) {}

  /** Starts `call` now and runs the kernel until it (and every other pending call) has settled. */
  drive<T>(call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      const settle = (): boolean => this.pending.delete(reject);
      let started: Promise<T>;
      try {
        started = call();
      } catch (e) {
        settle();
        reject(e);
        return;
      }
      started.then(
        (v) => settle() && resolve(v),
        (e: unknown) => settle() && reject(e),
      );
      void this.pump();
    });
  }

  /** Drives every method of `o` (an Fs, a Users, ...): each call returns a driven promise. */
  drivenObject<T extends object>(o: T): T {
    const out: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(o)) {
      out[name] = typeof f === 'function' ? (...args: unknown[]) => this.drive(() => (f as (...a: unknown[]) => Promise<unknown>)(...args)) : f;
    }
    return out as T;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return; // the running loop sees the new call before it stops
    this.pumping = true;
    try {
      while (this.pending.size > 0) {
        const r = await this.k.run({ until: () => this.pending.size === 0 });
        if (r.end === 'idle' && this.pending.size > 0) {
          this.failPending(new Error(`sim: the kernel is idle with ${this.pending.size} call(s) from outside still pending: they would block forever`));
        }
      }
    } catch (e) {
      // The kernel itself failed (an assertion): every waiting test hears of it.
      this.failPending(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.pumping = false;
    }
  }

  private failPending(e: Error): void {
    for (const reject of [...this.pending]) reject(e);
    this.pending.clear();
  }
}
