// Virtual time. The kernel's clock is µs since the world started; the wall clock adds an epoch and
// a step offset that fault scenarios move (a stepped clock is what NTP does to a real host).

/** 2026-01-01T00:00:00Z. */
export const epochMsDefault = 1_767_225_600_000;

export class SimClock {
  /** Virtual µs since start; only the kernel's run loop advances it. */
  nowUs = 0;
  private stepMs = 0;

  constructor(readonly epochMs: number = epochMsDefault) {}

  /** Wall-clock ms, integral like the host's wall clock. */
  wallMs(): number {
    return this.epochMs + Math.floor(this.nowUs / 1000) + this.stepMs;
  }

  monotonicMs(): number {
    return this.nowUs / 1000;
  }

  /** Steps the wall clock (may go backwards); monotonic time is untouched. */
  step(ms: number): void {
    this.stepMs += ms;
  }
}

/** ms as whole µs, never negative (a negative or NaN timeout fires at once, as a Node timer does). */
export function msToUs(ms: number): number {
  return ms > 0 ? Math.ceil(ms * 1000) : 0;
}
