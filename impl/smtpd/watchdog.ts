// One timer for every timed read and write of an SMTP session (impl/smtpd/session.ts). Each
// watch() is due timeoutMs after it starts, as its own timer would be; the session's one timer is
// left armed when a watch ends in time (the common case) and, when it fires, fires the watches that
// are due and is armed again for the next. A Node timer costs a few microseconds to set and clear
// (a few percent of the listener's CPU at two per command: the command's read and its reply).

import type { Clock } from '../sys/types.ts';

export interface Watch {
  /** Monotonic ms at which it fires unless done() first. */
  readonly due: number;
  readonly fire: () => void;
}

export class Watchdog {
  /** In the order they started, which is the order they fall due. */
  private readonly watches = new Set<Watch>();
  private cancel: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** fire() runs once if done(watch) has not been called within timeoutMs. */
  watch(fire: () => void): Watch {
    const w: Watch = { due: this.clock.monotonicMs() + this.timeoutMs, fire };
    this.watches.add(w);
    // An armed timer fires at or before this due: it was set for an earlier watch's.
    if (this.cancel === null) this.arm(this.timeoutMs);
    return w;
  }

  done(w: Watch): void {
    this.watches.delete(w);
    if (this.stopped && this.watches.size === 0) this.disarm();
  }

  /** The session is over: no timer outlives its last watch. */
  stop(): void {
    this.stopped = true;
    if (this.watches.size === 0) this.disarm();
  }

  private arm(ms: number): void {
    this.cancel = this.clock.timer(ms, () => this.expire());
  }

  private disarm(): void {
    this.cancel?.();
    this.cancel = null;
  }

  private expire(): void {
    this.cancel = null;
    const now = this.clock.monotonicMs();
    for (const w of this.watches) {
      if (w.due > now) break;
      this.watches.delete(w);
      w.fire();
    }
    const next = this.watches.values().next();
    if (!next.done && this.cancel === null) this.arm(Math.max(1, next.value.due - now));
  }
}
