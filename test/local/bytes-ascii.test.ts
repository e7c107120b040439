// binOf and textOf (impl/local/bytes.ts) skip the UTF-8 round trip for ASCII strings: for every
// string, ASCII or not, they must still give what the round trip gives.
//
// Replay a failure: SEED=<n> npx vitest run test/local/bytes-ascii.test.ts

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { binOf, textOf } from '../../impl/local/bytes.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/local/bytes-ascii.test.ts';
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Mostly ASCII (the fast path), with a chance of any code unit, lone surrogates included. */
const text = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xffff })), { maxLength: 40 }).map((a) => String.fromCharCode(...a));
/** A byte string: one character per byte. */
const bin = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xff })), { maxLength: 40 }).map((a) => String.fromCharCode(...a));

describe('binOf and textOf', () => {
  it('binOf is the UTF-8 byte string of any string', async () => {
    await checkProperty(file, fc.property(text, (s) => {
      expect(binOf(s)).toBe(latin1(utf8.encode(s)));
    }), { numRuns: 2000 });
  });

  it('textOf is the UTF-8 decoding of any byte string', async () => {
    await checkProperty(file, fc.property(bin, (b) => {
      expect(textOf(b)).toBe(utf8Decoder.decode(latin1Bytes(b)));
    }), { numRuns: 2000 });
  });

  it('examples: ASCII unchanged, NUL kept, non-ASCII converted both ways', () => {
    expect(binOf('joe-Foo.bar\0x')).toBe('joe-Foo.bar\0x');
    expect(binOf('j\u00f6e')).toBe('j\u00c3\u00b6e');
    expect(textOf('j\u00c3\u00b6e')).toBe('j\u00f6e');
    expect(textOf('\u00ff')).toBe('\ufffd');
  });
});
