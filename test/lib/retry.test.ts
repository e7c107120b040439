// The retry schedule (impl/lib/retry.ts, ../shared/spec/queue.md 3.6): qmail's 16-bit squareroot
// against an exact reference, and nextretry's schedule.
// Replay a property failure: SEED=<seed> npx vitest run test/lib/retry.test.ts

import { describe, expect, it } from 'vitest';
import { checkProperty } from '../support/seed.ts';
import fc from 'fast-check';
import { isqrt, nextRetry } from '../../impl/lib/retry.ts';

const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);

/** Exact integer square root (BigInt Newton), capped at 65535 as qmail's 16 result bits are. */
function reference(x: number): number {
  let y = BigInt(Math.floor(Math.sqrt(x)));
  const X = BigInt(x);
  while (y * y > X) y--;
  while ((y + 1n) * (y + 1n) <= X) y++;
  return Math.min(Number(y), 65535);
}

describe('isqrt', () => {
  it('vectors', () => {
    expect([0, 1, 2, 3, 4, 99, 100, 101, 399, 400, 2 ** 32 - 1, 2 ** 32, 2 ** 40].map(isqrt)).toEqual([0, 1, 1, 1, 2, 9, 10, 10, 19, 20, 65535, 65535, 65535]);
  });
  it('is the exact root below 2^32, and around every square', async () => {
    await checkProperty(
      'test/lib/retry.test.ts',
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (x) => {
        expect(isqrt(x)).toBe(reference(x));
      }),
      { seed, numRuns: 5000 },
    );
    for (let y = 0; y < 65536; y += 97) for (const x of [y * y - 1, y * y, y * y + 1]) if (x >= 0) expect(isqrt(x)).toBe(reference(x));
  });
  it('refuses what is not a non-negative integer', () => {
    expect(() => isqrt(-1)).toThrow();
    expect(() => isqrt(1.5)).toThrow();
  });
});

describe('nextRetry', () => {
  const birth = 1_767_225_600;
  it('on time: local (10k)², remote (20k)² after birth', () => {
    const walk = (c: 0 | 1, n: number): number[] => {
      const out = [0];
      let t = birth;
      for (let i = 1; i < n; i++) {
        t = nextRetry(birth, t, c);
        out.push(t - birth);
      }
      return out;
    };
    expect(walk(0, 7)).toEqual([0, 100, 400, 900, 1600, 2500, 3600]);
    expect(walk(1, 6)).toEqual([0, 400, 1600, 3600, 6400, 10000]);
  });
  it('late attempts re-align; a birth in the future counts as now', () => {
    expect(nextRetry(birth, birth + 150, 0)).toBe(birth + 22 * 22);
    expect(nextRetry(birth, birth - 50, 0)).toBe(birth + 100);
  });
  it('is always after the pass started, by at least chanskip² at birth', async () => {
    await checkProperty(
      'test/lib/retry.test.ts',
      fc.property(fc.integer({ min: 0, max: 10 ** 8 }), fc.constantFrom(0, 1), (elapsed, c) => {
        const next = nextRetry(birth, birth + elapsed, c as 0 | 1);
        expect(next).toBeGreaterThan(birth + elapsed);
        expect(next).toBe(birth + (reference(elapsed) + (c === 0 ? 10 : 20)) ** 2);
      }),
      { seed, numRuns: 2000 },
    );
  });
});
