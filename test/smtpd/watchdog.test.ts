// The session watchdog (impl/smtpd/watchdog.ts): each watch fires exactly timeoutMs after it
// started unless done first, as a timer of its own would; one timer serves a run of watches; no
// timer outlives a stopped session. A hand-driven clock: no real time passes.

import { describe, it, expect } from 'vitest';
import type { Clock } from '../../impl/sys/types.ts';
import { Watchdog } from '../../impl/smtpd/watchdog.ts';

class HandClock implements Clock {
  now = 0;
  armed = 0;
  private timers: { at: number; cb: () => void; live: boolean }[] = [];

  nowMs(): number {
    return this.now;
  }

  monotonicMs(): number {
    return this.now;
  }

  sleep(): Promise<void> {
    throw new Error('HandClock: sleep not provided');
  }

  timer(ms: number, cb: () => void): () => void {
    const t = { at: this.now + ms, cb, live: true };
    this.timers.push(t);
    this.armed++;
    return () => {
      t.live = false;
    };
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.now = due.at;
      due.live = false;
      due.cb();
    }
    this.now = end;
  }
}

describe('smtpd watchdog', () => {
  it('fires a watch timeoutMs after it started, not before', () => {
    const c = new HandClock();
    const w = new Watchdog(c, 100);
    const fired: number[] = [];
    w.watch(() => fired.push(c.now));
    c.advance(99);
    expect(fired).toEqual([]);
    c.advance(1);
    expect(fired).toEqual([100]);
  });

  it('one timer for many watches done in time; a late one still fires on its own due', () => {
    const c = new HandClock();
    const w = new Watchdog(c, 100);
    for (let i = 0; i < 50; i++) {
      const x = w.watch(() => {
        throw new Error('fired a watch that was done');
      });
      c.advance(1);
      w.done(x);
    }
    expect(c.armed).toBe(1);
    const fired: number[] = [];
    c.advance(30); // t = 80
    w.watch(() => fired.push(c.now)); // due 180
    c.advance(99);
    expect(fired).toEqual([]);
    c.advance(1);
    expect(fired).toEqual([180]);
    expect(c.armed).toBe(2); // the first timer, then once more for the rest
  });

  it('a watch started from a firing one gets its full time', () => {
    const c = new HandClock();
    const w = new Watchdog(c, 10);
    const fired: number[] = [];
    w.watch(() => {
      fired.push(c.now);
      w.watch(() => fired.push(c.now));
    });
    c.advance(100);
    expect(fired).toEqual([10, 20]);
  });

  it('stop: no timer left once the last watch is done', () => {
    const c = new HandClock();
    const w = new Watchdog(c, 100);
    const x = w.watch(() => undefined);
    w.done(x);
    expect(c.pending).toBe(1);
    w.stop();
    expect(c.pending).toBe(0);
    const y = w.watch(() => undefined);
    expect(c.pending).toBe(1);
    w.done(y);
    expect(c.pending).toBe(0);
  });
});
