// qmail-send's priority queue (impl/lib/prioq.ts): for any mix of inserts and delmins, with many
// equal times, entries come out by time and, among equal times, in insertion order: the same as a
// sorted list.
// Replay a property failure: SEED=<seed> npx vitest run test/lib/prioq.test.ts

import { describe, expect, it } from 'vitest';
import { checkProperty } from '../support/seed.ts';
import fc from 'fast-check';
import { Prioq, type PrioqEntry } from '../../impl/lib/prioq.ts';

const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);

type Op = { insert: number } | 'delmin';

function run(ops: readonly Op[]): { got: (PrioqEntry | undefined)[]; want: (PrioqEntry | undefined)[] } {
  const q = new Prioq();
  const ref: (PrioqEntry & { seq: number })[] = [];
  const got: (PrioqEntry | undefined)[] = [];
  const want: (PrioqEntry | undefined)[] = [];
  ops.forEach((op, i) => {
    if (op === 'delmin') {
      ref.sort((a, b) => a.dt - b.dt || a.seq - b.seq);
      const w = ref.shift();
      want.push(w === undefined ? undefined : { id: w.id, dt: w.dt });
      got.push(q.delmin());
    } else {
      q.insert({ id: i, dt: op.insert });
      ref.push({ id: i, dt: op.insert, seq: i });
    }
    expect(q.size).toBe(ref.length);
  });
  return { got, want };
}

describe('Prioq', () => {
  it('gives entries by time, ties in insertion order', async () => {
    const op = fc.oneof(fc.record({ insert: fc.integer({ min: 0, max: 9 }) }), fc.constant('delmin' as const));
    await checkProperty(
      'test/lib/prioq.test.ts',
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const { got, want } = run(ops);
        expect(got).toEqual(want);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('min() is the next delmin()', () => {
    const q = new Prioq();
    for (const [id, dt] of [[1, 5], [2, 3], [3, 3], [4, 1]] as const) q.insert({ id, dt });
    expect(q.min()).toEqual({ id: 4, dt: 1 });
    expect(q.delmin()).toEqual({ id: 4, dt: 1 });
    expect(q.min()).toEqual({ id: 2, dt: 3 });
    expect([q.delmin(), q.delmin(), q.delmin(), q.delmin()]).toEqual([{ id: 2, dt: 3 }, { id: 3, dt: 3 }, { id: 1, dt: 5 }, undefined]);
  });
});
