// HostClock: the wall clock, a monotonic clock and timers, from Node.

import type { Clock } from '../types.ts';

/** setTimeout's limit (a signed 32-bit ms count); longer delays would fire after 1 ms. */
const timeoutMaxMs = 2 ** 31 - 1;

export class HostClock implements Clock {
  nowMs(): number {
    return Date.now();
  }

  monotonicMs(): number {
    return performance.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timer(ms, resolve));
  }

  timer(ms: number, cb: () => void): () => void {
    if (Number.isNaN(ms)) throw new RangeError('timer: ms is NaN');
    const due = performance.now() + Math.max(0, ms);
    let handle: ReturnType<typeof setTimeout>;
    // Long delays are chained through setTimeout's limit.
    const arm = (): void => {
      const left = due - performance.now();
      if (left <= 0) return cb();
      handle = setTimeout(arm, Math.min(left, timeoutMaxMs));
    };
    handle = setTimeout(arm, Math.min(Math.max(0, ms), timeoutMaxMs));
    return () => clearTimeout(handle);
  }
}
