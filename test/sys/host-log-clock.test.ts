// HostLog (pino JSON lines, level from LOGLEVEL) and HostClock timers.

import { describe, expect, it } from 'vitest';
import { HostClock } from '../../impl/sys/host/clock.ts';
import { HostLog } from '../../impl/sys/host/log.ts';
import { HostRandom } from '../../impl/sys/host/random.ts';

function capture(level: string | undefined): { log: HostLog; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = new HostLog({ level, name: 'qmail-test', dest: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { log, lines };
}

describe('HostLog', () => {
  it('writes {event, ...fields} with the program name', async () => {
    const { log, lines } = capture(undefined);
    log.event('info', 'queue.accepted', { id: 42, event: 'not this' });
    await log.settle();
    expect(lines).toHaveLength(1);
    log.event('warn', 'after.load');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, name: 'qmail-test', event: 'queue.accepted', id: 42 });
  });

  it('honours LOGLEVEL; an unknown level means info', async () => {
    const warn = capture('warn');
    warn.log.event('info', 'quiet');
    warn.log.event('error', 'loud');
    await warn.log.settle();
    expect(warn.lines.map((l) => l['event'])).toEqual(['loud']);
    const bogus = capture('chatty');
    bogus.log.event('debug', 'hidden');
    bogus.log.event('info', 'shown');
    await bogus.log.settle();
    expect(bogus.lines.map((l) => l['event'])).toEqual(['shown']);
    const debug = capture('debug');
    debug.log.event('debug', 'detail');
    await debug.log.settle();
    expect(debug.lines).toHaveLength(1);
    debug.log.flush();
  });
});

describe('HostClock', () => {
  const clock = new HostClock();

  it('wall clock and monotonic clock move forward; sleep waits', async () => {
    const wall = clock.nowMs();
    expect(Math.abs(wall - Date.now())).toBeLessThan(1000);
    const t0 = clock.monotonicMs();
    await clock.sleep(30);
    expect(clock.monotonicMs() - t0).toBeGreaterThanOrEqual(29);
  });

  it('a timer fires once; a cancelled one never', async () => {
    let fired = 0;
    let cancelled = 0;
    clock.timer(10, () => fired++);
    const cancel = clock.timer(10, () => cancelled++);
    cancel();
    await clock.sleep(50);
    expect([fired, cancelled]).toEqual([1, 0]);
  });

  it('delays beyond setTimeout’s 2^31 ms limit do not fire early', async () => {
    let fired = false;
    const cancel = clock.timer(2 ** 31 + 1000, () => (fired = true));
    await clock.sleep(20);
    expect(fired).toBe(false);
    cancel();
  });
});

describe('HostRandom', () => {
  it('gives 32-bit integers and the bytes asked for', () => {
    const r = new HostRandom();
    const xs = Array.from({ length: 100 }, () => r.u32());
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(90);
    expect(r.bytes(17)).toHaveLength(17);
  });
});
