// NodeData (sim/fs/node-data.ts), the bytes of a simulated file: any sequence of writes (holes
// included), truncations and snapshots gives the bytes a plain array model gives, and every snapshot
// keeps showing the bytes of its moment whatever is written after it (fsync's durable image shares
// the live buffer until a write would change what it shows).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeData } from '../../sim/fs/node-data.ts';
import { checkProperty } from '../support/seed.ts';

type Step =
  | { t: 'write'; pos: number; bytes: Uint8Array }
  | { t: 'trunc'; len: number }
  | { t: 'snap' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('write' as const), pos: fc.nat(300), bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }) }),
  fc.record({ t: fc.constant('trunc' as const), len: fc.nat(400) }),
  fc.constant({ t: 'snap' as const }),
);

function modelWrite(model: number[], pos: number, bytes: Uint8Array): void {
  while (model.length < pos) model.push(0);
  bytes.forEach((b, i) => {
    model[pos + i] = b;
  });
}

function modelTrunc(model: number[], len: number): void {
  if (len < model.length) model.length = len;
  while (model.length < len) model.push(0);
}

describe('NodeData', () => {
  it('holds what a byte-array model holds, and snapshots never change', async () => {
    await checkProperty('test/sim/node-data.test.ts', fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const node = new NodeData(0o100644, 0, 0);
      const model: number[] = [];
      const snaps: Array<{ view: Uint8Array; bytes: number[] }> = [];
      for (const s of steps) {
        if (s.t === 'write') {
          expect(node.write(s.bytes, 0, s.bytes.length, s.pos)).toBe(s.bytes.length);
          modelWrite(model, s.pos, s.bytes);
        } else if (s.t === 'trunc') {
          node.truncate(s.len);
          modelTrunc(model, s.len);
        } else {
          snaps.push({ view: node.snapshot(), bytes: [...model] });
        }
        expect(node.getSize()).toBe(model.length);
        const out = new Uint8Array(model.length + 8);
        expect(node.read(out, 4, model.length + 4, 0)).toBe(model.length);
        expect([...out.subarray(4, 4 + model.length)]).toEqual(model);
        for (const snap of snaps) expect([...snap.view]).toEqual(snap.bytes);
      }
    }), { numRuns: 500 });
  });

  it('reads stop at the end of the file and at the end of the caller buffer', () => {
    const node = new NodeData(0o100644, 0, 0);
    node.write(new Uint8Array([1, 2, 3, 4, 5]), 1, 3, 2);
    const out = new Uint8Array(3);
    expect(node.read(out, 1, 10, 1)).toBe(2);
    expect([...out]).toEqual([0, 0, 2]);
    expect(node.read(out, 0, 3, 5)).toBe(0);
  });
});
