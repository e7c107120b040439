// The streaming pieces, pure: >From quoting of mbox entries and the Delivered-To scan, each against
// a line-by-line model and under random chunking; and the mbox recovery record.
//
// Replay a failure: SEED=<n> npx vitest run test/local/streams.test.ts

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MboxQuoter, quoteMbox } from '../../impl/local/mbox-quote.ts';
import { DeliveredToScan } from '../../impl/local/loop-check.ts';
import { entryBoundBytes, formatPending, isUnfinishedEntry, parsePending } from '../../impl/local/mbox-pending.ts';
import { bytesOf, latin1 } from '../../impl/local/bytes.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/local/streams.test.ts';

/** Messages made of lines likely to matter: From lines, >From lines, blanks, partial last lines. */
const messageArb = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom('From ', '>From ', '>>From x', 'From', '>', 'Fro', 'from ', 'From me', '', '\r', '>>>'), fc.string({ maxLength: 12 })), { maxLength: 12 }),
    fc.boolean(),
  )
  .map(([lines, lf]) => bytesOf(lines.join('\n') + (lf && lines.length > 0 ? '\n' : '')));

/** Splits bytes at the given cut points (any order, any duplicates). */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** The model: getln, gfrom, one `>`; an LF after an unterminated last line; one empty line. */
function modelMbox(message: string): string {
  if (message === '') return '\n';
  const lines = message.split('\n');
  const last = lines.pop() as string; // '' when the message ends in LF
  const quoted = lines.map((l) => (/^>*From /.test(l) ? `>${l}` : l) + '\n');
  if (last !== '') quoted.push((/^>*From /.test(last) ? `>${last}` : last) + '\n');
  return `${quoted.join('')}\n`;
}

describe('>From quoting', () => {
  it('is the VERIFIED example', () => {
    expect(latin1(quoteMbox(bytesOf('Subject: t\n\nFrom me\n>From you\nx\n')))).toBe('Subject: t\n\n>From me\n>>From you\nx\n\n');
    expect(latin1(quoteMbox(bytesOf('no final LF')))).toBe('no final LF\n\n');
    expect(latin1(quoteMbox(new Uint8Array(0)))).toBe('\n');
  });

  it('streams to the line-by-line model whatever the chunking', async () => {
    await checkProperty(
      file,
      fc.property(messageArb, fc.array(fc.nat(), { maxLength: 8 }), (message, cuts) => {
        const q = new MboxQuoter();
        const parts = chunks(message, cuts).map((c) => latin1(q.push(c)));
        expect(parts.join('') + latin1(q.end())).toBe(modelMbox(latin1(message)));
      }),
      { numRuns: 1000 },
    );
  });

  it('holds no line: a megabyte of > is passed through', () => {
    const big = new Uint8Array(1 << 20).fill(0x3e);
    expect(quoteMbox(big).length).toBe(big.length + 2);
  });
});

/** The model: header lines (with LF) up to the first line of at most one byte; any equal to dt. */
function modelLoop(message: string, dt: string): boolean {
  let rest = message;
  for (;;) {
    const lf = rest.indexOf('\n');
    if (lf < 0) return false;
    const line = rest.slice(0, lf + 1);
    if (line.length <= 1) return false;
    if (line === dt) return true;
    rest = rest.slice(lf + 1);
  }
}

describe('Delivered-To scan', () => {
  const dt = 'Delivered-To: joe@example.com\n';
  const lineArb = fc.oneof(
    fc.constantFrom('Delivered-To: joe@example.com', 'Delivered-To: JOE@example.com', 'Delivered-To: joe@example.com ', 'Delivered-To: joe@example.co', 'Subject: x', '', 'X: Delivered-To: joe@example.com', 'a'),
    fc.string({ maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')),
  );

  it('finds our line only in the header, byte for byte', async () => {
    await checkProperty(
      file,
      fc.property(fc.array(lineArb, { maxLength: 10 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (lines, lf, cuts) => {
        const message = lines.join('\n') + (lf ? '\n' : '');
        const scan = new DeliveredToScan(bytesOf(dt));
        let state = 'more';
        for (const c of chunks(bytesOf(message), cuts)) if (state === 'more') state = scan.push(c);
        if (state === 'more') state = scan.end();
        expect(state === 'loop').toBe(modelLoop(message, dt));
      }),
      { numRuns: 1000 },
    );
  });

  it('VERIFIED: case matters; the body does not count', () => {
    const run = (m: string): string => {
      const s = new DeliveredToScan(bytesOf(dt));
      const r = s.push(bytesOf(m));
      return r === 'more' ? s.end() : r;
    };
    expect(run('Subject: x\nDelivered-To: joe@example.com\n\nbody\n')).toBe('loop');
    expect(run('Delivered-To: JOE@example.com\n\n')).toBe('end');
    expect(run('Subject: x\n\nDelivered-To: joe@example.com\n')).toBe('end');
    expect(run('Delivered-To: joe@example.com')).toBe('end'); // unterminated: never compared
  });
});

describe('mbox recovery record', () => {
  const p = { ino: 4242, before: 1000, boundBytes: 500, fromLine: 'From s@o Thu Jan 01 00:00:00 2026\n' };

  it('reads back what it wrote; anything else is not a record', async () => {
    expect(parsePending(bytesOf(formatPending(p)))).toEqual(p);
    await checkProperty(
      file,
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(200), (junk, cut) => {
        const whole = bytesOf(formatPending(p));
        expect(parsePending(whole.subarray(0, Math.min(cut, whole.length - 1)))).toBeNull();
        const r = parsePending(junk);
        if (r !== null) expect(latin1(junk)).toBe(formatPending(r));
      }),
      { numRuns: 500 },
    );
  });

  it('cuts only an entry that is still where and what it was', () => {
    const head = (n: number): Uint8Array => bytesOf(p.fromLine.slice(0, n));
    expect(isUnfinishedEntry(p, 4242, 1001, head(1))).toBe(true);
    expect(isUnfinishedEntry(p, 4242, 1500, head(p.fromLine.length))).toBe(true);
    expect(isUnfinishedEntry(p, 4242, 1000, head(0))).toBe(false); // nothing appended
    expect(isUnfinishedEntry(p, 4242, 1501, head(p.fromLine.length))).toBe(false); // longer than ours
    expect(isUnfinishedEntry(p, 4243, 1200, head(p.fromLine.length))).toBe(false); // another file
    expect(isUnfinishedEntry(p, 4242, 1200, bytesOf('From x Thu Jan 01 00:00:00 2026\n'))).toBe(false); // other bytes
    expect(entryBoundBytes(100, 10)).toBe(122);
  });
});
