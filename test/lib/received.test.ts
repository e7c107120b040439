import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { date822 } from '../../impl/lib/date822.ts';
import { receivedLine } from '../../impl/lib/received.ts';
import { receivedLineRe } from '../../spec/received.ts';
import { messagePath, parseSplit, parseBigtodo, autoSplit } from '../../spec/queue.ts';

describe('date822 and the Received line', () => {
  it('formats as qmail does: unpadded day, UTC, -0000', () => {
    expect(date822(Date.UTC(2024, 0, 5, 1, 2, 3))).toBe('5 Jan 2024 01:02:03 -0000');
    expect(date822(Date.UTC(1999, 11, 31, 23, 59, 59, 999))).toBe('31 Dec 1999 23:59:59 -0000');
  });

  test.prop([fc.integer({ min: 0, max: 4_102_444_800_000 })])('agrees with the platform UTC fields', (ms) => {
    const d = new Date(ms);
    const [day, mon, year, time, zone] = date822(ms).split(' ');
    expect(Number(day)).toBe(d.getUTCDate());
    expect(mon).toBe(d.toUTCString().split(' ')[2]);
    expect(Number(year)).toBe(d.getUTCFullYear());
    expect(time).toBe(d.toISOString().slice(11, 19));
    expect(zone).toBe('-0000');
  });

  it('names the invoker by real uid', () => {
    const special = { alias: 7790, qmaild: 7791, qmails: 7796 };
    const t = Date.UTC(2024, 0, 5, 1, 2, 3);
    expect(receivedLine(12345, 1000, special, t)).toBe('Received: (qmail 12345 invoked by uid 1000); 5 Jan 2024 01:02:03 -0000\n');
    expect(receivedLine(1, 7790, special, t)).toContain('invoked by alias);');
    expect(receivedLine(1, 7791, special, t)).toContain('invoked from network);');
    expect(receivedLine(1, 7796, special, t)).toContain('invoked for bounce);');
    for (const uid of [0, 1000, 7790]) expect(receivedLine(9, uid, special, t)).toMatch(receivedLineRe);
  });
});

describe('split paths', () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: autoSplit })])('mess/S/ID with S = ID mod split', (id, split) => {
    expect(messagePath('mess', id, { split, bigtodo: false })).toBe(`mess/${id % split}/${id}`);
    expect(messagePath('todo', id, { split, bigtodo: false })).toBe(`todo/${id}`);
    expect(messagePath('todo', id, { split, bigtodo: true })).toBe(`todo/${id % split}/${id}`);
    expect(messagePath('bounce', id, { split, bigtodo: true })).toBe(`bounce/${id}`);
  });

  it('CONFSPLIT is capped at the compiled split; BIGTODO only when set non-zero', () => {
    expect(parseSplit('23')).toBe(23);
    expect(parseSplit('1000')).toBe(autoSplit);
    expect(parseSplit('0')).toBeNull();
    expect(parseSplit('x')).toBeNull();
    expect(parseBigtodo(undefined)).toBe(false);
    expect(parseBigtodo('0')).toBe(false);
    expect(parseBigtodo('1')).toBe(true);
  });
});
