// The trace writes its usual records by hand (sim/trace.ts formatLine) for speed; the line must be
// byte for byte what JSON.stringify of the record with jsonSafe gave, or every trace hash would
// silently change meaning. Random records of every field shape are compared with that reference.
// Likewise latin1() (impl/lib/latin1.ts), whose ASCII fast path the checkers lean on.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Trace, formatLine } from '../../sim/trace.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { checkProperty } from '../support/seed.ts';

/** The reference: the record built as an object, then JSON.stringify with the trace's replacer. */
function reference(tUs: number, pid: number, event: string, fields: Record<string, unknown> | undefined): string {
  const rec: Record<string, unknown> = { t: tUs / 1000, pid, event };
  if (fields !== undefined) for (const [key, v] of Object.entries(fields)) rec[Object.hasOwn(rec, key) ? `_${key}` : key] = v;
  return JSON.stringify(rec, (_key: string, value: unknown): unknown => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Uint8Array) return { bytes: value.length };
    if (value instanceof Error) return { name: value.name, message: value.message };
    if (typeof value === 'function' || typeof value === 'symbol') return String(value);
    return value;
  });
}

const key = fc.oneof(fc.constantFrom('t', 'pid', 'event', '_t', '0', '12', '01', 'path', 'fd', 'ret', 'err', 'a"b', 'é'), fc.string());
const scalar = fc.oneof(
  fc.string(), fc.constantFrom('a\ud800', '\udc00x', '\ud83d\ude00"\\'), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
  fc.bigInt(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0),
  fc.uint8Array({ maxLength: 5 }), fc.constant(new Error('boom')), fc.constant(() => 1), fc.constant(Symbol('s')),
);
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.dictionary(fc.string(), scalar, { maxKeys: 3 }));

describe('trace line format', () => {
  it('formatLine gives the bytes of JSON.stringify(record, jsonSafe) for any record', async () => {
    await checkProperty(
      'test/sim/trace-format.test.ts',
      fc.property(fc.nat(10 ** 12), fc.nat(4_000_000), fc.string(), fc.option(fc.dictionary(key, value, { maxKeys: 6 }), { nil: undefined }), (tUs, pid, event, fields) => {
        expect(formatLine(tUs, pid, event, fields)).toBe(reference(tUs, pid, event, fields));
      }),
      { numRuns: 3000 },
    );
  });

  it('virtual times are written as String(µs / 1000)', async () => {
    await checkProperty('test/sim/trace-format.test.ts', fc.property(fc.oneof(fc.nat(10 ** 7), fc.nat(2 ** 44), fc.maxSafeNat()), (tUs) => {
      expect(formatLine(tUs, 1, 'e', undefined)).toBe(reference(tUs, 1, 'e', undefined));
    }), { numRuns: 20_000 });
  });

  it('the hash of written-out lines equals the running hash', () => {
    const lines: string[] = [];
    const t = new Trace({ sink: (l) => lines.push(l) });
    t.record(1500, 7, 'sys.open', { path: '/var/qmail/control/me', flags: 0, err: 'ENOENT' });
    t.record(2000, 0, 'proc.spawn', { child: 8, argv: ['qmail-send'], t: 'clash' });
    t.record(2001, 8, 'x', { data: new Uint8Array(3), n: Number.NaN, big: 2n });
    expect(lines[1]).toBe('{"t":2,"pid":0,"event":"proc.spawn","child":8,"argv":["qmail-send"],"_t":"clash"}');
    expect(Trace.hashOf(lines)).toBe(t.hash());
  });

  it('a record hashed without its line (not kept, no sink) hashes as its line would', async () => {
    const odd = fc.constantFrom('a\ud800', '\udc00x', '\ud83d\ude00"\\', 'tab\tx', 'nul\0');
    const event = fc.oneof(fc.string({ unit: 'binary' }), odd);
    const record = fc.tuple(fc.nat(10 ** 12), fc.nat(4_000_000), event, fc.option(fc.dictionary(key, value, { maxKeys: 6 }), { nil: undefined }));
    await checkProperty('test/sim/trace-format.test.ts', fc.property(fc.array(record, { maxLength: 8 }), (records) => {
      const unbuilt = new Trace({ syscalls: false });
      for (const [tUs, pid, event, fields] of records) unbuilt.record(tUs, pid, event, fields, false);
      expect(unbuilt.lines).toEqual([]);
      expect(unbuilt.hash()).toBe(Trace.hashOf(records.map(([tUs, pid, event, fields]) => formatLine(tUs, pid, event, fields))));
    }), { numRuns: 3000 });
  });

  it('latin1 gives one character per byte, ASCII fast path or not', async () => {
    const slow = (b: Uint8Array): string => Array.from(b, (c) => String.fromCharCode(c)).join('');
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ max: 0x7f, maxLength: 300 }), fc.uint8Array({ min: 0x7f, max: 0xa0, maxLength: 300 }));
    await checkProperty('test/sim/trace-format.test.ts', fc.property(bytes, (b) => {
      expect(latin1(b)).toBe(slow(b));
    }), { numRuns: 2000 });
  });
});
