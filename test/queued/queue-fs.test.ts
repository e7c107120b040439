// qmail-queued's shared calls (impl/queued/queue-fs.ts): trigger pulls shared by the messages in
// flight, each caller covered by a pull that started after its call; other calls untouched; and
// qpool/ read at most once per poolReadGapMs.

import { describe, expect, it } from 'vitest';
import type { Clock, Sys } from '../../impl/sys/types.ts';
import { poolReadGapMs, queuedFs, SpacedPoolTaker } from '../../impl/queued/queue-fs.ts';

/** An object whose every property not given fails loudly when used. */
function stub<T extends object>(what: string, given: Partial<T>): T {
  return new Proxy(given, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'then') return undefined;
      throw new Error(`${what}.${String(prop)}: not provided by this test`);
    },
  }) as T;
}

/** A file system whose trigger pulls end when the test says, and that counts readdirs. */
class FakeFs {
  readonly pulls: { path: string; end: () => void }[] = [];
  readdirs = 0;
  pool: string[] = [];
  trigger(path: string): Promise<void> {
    return new Promise((resolve) => this.pulls.push({ path, end: resolve }));
  }
  readdir(): Promise<string[]> {
    this.readdirs++;
    return Promise.resolve([...this.pool]);
  }
  /** Uses `this`: the wrapper must call it on the file system itself. */
  stat(path: string): Promise<string> {
    return Promise.resolve(`${path}:${this.readdirs}`);
  }
}

function sysOf(fs: FakeFs, clock: Partial<Clock> = {}): Sys {
  return stub<Sys>('sys', { fs: fs as unknown as Sys['fs'], clock: stub<Clock>('clock', clock) });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('queuedFs', () => {
  it('pulls arriving during a pull share one next pull, which starts after they called', async () => {
    const fs = new FakeFs();
    const q = queuedFs(sysOf(fs)).fs;
    let done = 0;
    const a = q.trigger('/q/lock/trigger').then(() => done++);
    const b = q.trigger('/q/lock/trigger').then(() => done++);
    const c = q.trigger('/q/lock/trigger').then(() => done++);
    expect(fs.pulls.length).toBe(1);
    fs.pulls[0]!.end();
    await a;
    await tick();
    // b and c called while the first pull ran: not covered by it.
    expect(done).toBe(1);
    expect(fs.pulls.length).toBe(2);
    fs.pulls[1]!.end();
    await Promise.all([b, c]);
    expect(done).toBe(3);
    expect(fs.pulls.map((p) => p.path)).toEqual(['/q/lock/trigger', '/q/lock/trigger']);
  });

  it('every other call is the file system\'s own, on itself', async () => {
    const fs = new FakeFs();
    const q = queuedFs(sysOf(fs)).fs as unknown as FakeFs;
    expect(await q.stat('/x')).toBe('/x:0');
    expect(q.stat).toBe(q.stat);
  });
});

describe('SpacedPoolTaker', () => {
  it('reads qpool/ at most once per gap, and again once the gap is over', async () => {
    const fs = new FakeFs();
    let now = 1000;
    const sys = sysOf(fs, { monotonicMs: () => now });
    const taker = new SpacedPoolTaker(sys, '/q/qpool', sys.clock);
    await taker.refill();
    await taker.refill();
    expect(fs.readdirs).toBe(1);
    fs.pool = ['12', '13'];
    now += poolReadGapMs - 1;
    await taker.refill();
    expect(taker.held).toBe(0);
    now += 1;
    await taker.refill();
    expect(fs.readdirs).toBe(2);
    expect(taker.held).toBe(2);
    // Names in hand: no read, whatever the time.
    now += 10 * poolReadGapMs;
    await taker.refill();
    expect(fs.readdirs).toBe(2);
  });
});
