// The DATA decoder (impl/smtpd/blast.ts) against a plain transcription of notqmail's blast(): the
// same bytes out, the same end and the same hop count, however the input is cut (one byte at a
// time included: a step may put more bytes than it was given). SEED=<n> replays.

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { checkProperty } from '../support/seed.ts';
import { Blast, type BlastStep } from '../../impl/smtpd/blast.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';

const file = 'test/smtpd/blast.test.ts';

interface Decoded {
  out: string;
  end: BlastStep['end'];
  hops: number;
}

/** qmail-smtpd.c blast(), one byte at a time over the whole input, as the C reads it. */
function reference(input: string): Decoded {
  let state = 1;
  let out = '';
  let hops = 0;
  let inHeader = true;
  let pos = 0;
  let x = true;
  let y = true;
  let z = true;
  for (const ch of input) {
    if (inHeader) {
      if (pos < 9) {
        if (ch !== 'delivered'[pos] && ch !== 'DELIVERED'[pos]) z = false;
        if (z && pos === 8) hops++;
        if (pos < 8 && ch !== 'received'[pos] && ch !== 'RECEIVED'[pos]) x = false;
        if (x && pos === 7) hops++;
        if (pos < 2 && ch !== '\r\n'[pos]) y = false;
        if (y && pos === 1) inHeader = false;
        pos++;
      }
      if (ch === '\n') {
        pos = 0;
        x = y = z = true;
      }
    }
    if (state === 0) {
      if (ch === '\n') return { out, end: 'strayNewline', hops };
      if (ch === '\r') { state = 4; continue; }
    } else if (state === 1) {
      if (ch === '\n') return { out, end: 'strayNewline', hops };
      if (ch === '.') { state = 2; continue; }
      if (ch === '\r') { state = 4; continue; }
      state = 0;
    } else if (state === 2) {
      if (ch === '\n') return { out, end: 'strayNewline', hops };
      if (ch === '\r') { state = 3; continue; }
      state = 0;
    } else if (state === 3) {
      if (ch === '\n') return { out, end: 'done', hops };
      out += '.\r';
      if (ch === '\r') { state = 4; continue; }
      state = 0;
    } else {
      if (ch === '\n') state = 1;
      else if (ch !== '\r') {
        out += '\r';
        state = 0;
      }
    }
    out += ch;
  }
  return { out, end: 'more', hops };
}

/** The decoder fed `input` in the given chunk sizes (cycled), until it ends. */
function decode(input: string, sizes: number[]): Decoded & { consumed: number } {
  const bytes = latin1Bytes(input);
  const b = new Blast();
  let out = '';
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const chunk = bytes.subarray(at, at + (sizes[k % sizes.length] ?? 1));
    const step = b.step(chunk);
    expect(step.out.length).toBeLessThanOrEqual(chunk.length + 2);
    out += latin1(step.out);
    at += step.consumed;
    if (step.end !== 'more') return { out, end: step.end, hops: b.hops, consumed: at };
    expect(step.consumed).toBe(chunk.length);
  }
  return { out, end: 'more', hops: b.hops, consumed: at };
}

describe('blast', () => {
  it('puts the ".\\r" held back at a cut, even when the next chunk is one byte', () => {
    const input = 'a\r\n.\rx\r\n.\r\n';
    expect(decode(input, [4, 1, 100])).toEqual({ ...reference(input), consumed: input.length });
    expect(decode(input, [4, 1, 100]).out).toBe('a\n.\rx\n');
  });

  it('decodes as qmail does, however the input is cut', async () => {
    const unit = fc.constantFrom('.', '\r', '\n', 'a', ' ', 'é', '\0', 'Received:', 'delivered-to:', 'RECEIVED', '\r\n', '\r\n.\r\n');
    await checkProperty(
      file,
      fc.property(fc.array(unit, { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }), (units, sizes) => {
        const input = units.join('');
        const want = reference(input);
        const got = decode(input, sizes);
        expect({ out: got.out, end: got.end, hops: got.hops }).toEqual(want);
        expect(decode(input, [input.length + 1])).toEqual(got);
      }),
      { numRuns: 500 },
    );
  });
});
