import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { EnvelopeParser, encodeEnvelope, parseEnvelope, type Envelope } from '../../impl/lib/envelope.ts';
import { addressBytesMax } from '../../spec/limits.ts';

// Replay: SEED=<n> npx vitest run test/lib/envelope.test.ts (fast-check prints the seed on failure).
const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);
const params = seed === undefined ? {} : { seed };

const addr = fc.uint8Array({ minLength: 0, maxLength: 60 }).map((a) => a.map((b) => (b === 0 ? 0x41 : b)));
const envelope: fc.Arbitrary<Envelope> = fc.record({ sender: addr, recipients: fc.array(addr, { maxLength: 8 }) });

/** The reference reading of qmail-queue's loop, written as plainly as possible. */
function reference(bytes: Uint8Array): 'done' | 'format' | 'tooLong' | 'eof' {
  let i = 0;
  const readAddr = (): 'ok' | 'tooLong' | 'eof' => {
    let len = 0;
    for (;;) {
      if (i >= bytes.length) return 'eof';
      const b = bytes[i++];
      if (b === 0) return 'ok';
      if (++len >= addressBytesMax) return 'tooLong';
    }
  };
  if (i >= bytes.length) return 'eof';
  if (bytes[i++] !== 0x46) return 'format';
  let r = readAddr();
  if (r !== 'ok') return r;
  for (;;) {
    if (i >= bytes.length) return 'eof';
    const b = bytes[i++];
    if (b === 0) return 'done';
    if (b !== 0x54) return 'format';
    r = readAddr();
    if (r !== 'ok') return r;
  }
}

describe('envelope', () => {
  test.prop([envelope], params)('round-trips', (env) => {
    const r = parseEnvelope(encodeEnvelope(env));
    expect(r).toEqual({ envelope: env, consumed: encodeEnvelope(env).length });
  });

  test.prop([envelope, fc.nat()], params)('every proper truncation is eof, never done or format', (env, cut) => {
    const bytes = encodeEnvelope(env);
    const at = cut % bytes.length;
    expect(parseEnvelope(bytes.subarray(0, at))).toEqual({ error: 'eof' });
  });

  test.prop([fc.uint8Array({ maxLength: 300 })], params)('agrees with the reference on arbitrary bytes', (bytes) => {
    const r = parseEnvelope(bytes);
    expect('error' in r ? r.error : 'done').toBe(reference(bytes));
  });

  test.prop([envelope, fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 })], params)(
    'chunking does not matter',
    (env, sizes) => {
      const bytes = encodeEnvelope(env);
      const seen: Uint8Array[] = [];
      const p = new EnvelopeParser({ onRecipient: (a) => seen.push(a) });
      let off = 0;
      let k = 0;
      while (off < bytes.length && !p.finished) {
        const n = sizes[k++ % sizes.length] as number;
        off += p.push(bytes.subarray(off, off + n));
      }
      expect(p.error).toBeNull();
      expect(p.result()).toEqual(env);
      expect(seen).toEqual(env.recipients);
    },
  );

  it('bounds an address at 1002 bytes', () => {
    const ok = new Uint8Array(addressBytesMax - 1).fill(0x61);
    const long = new Uint8Array(addressBytesMax).fill(0x61);
    expect('envelope' in parseEnvelope(encodeEnvelope({ sender: ok, recipients: [ok] }))).toBe(true);
    expect(parseEnvelope(encodeEnvelope({ sender: long, recipients: [] }))).toEqual({ error: 'tooLong' });
    expect(parseEnvelope(encodeEnvelope({ sender: ok, recipients: [long] }))).toEqual({ error: 'tooLong' });
  });

  it('classifies qmail-queue format errors', () => {
    const enc = new TextEncoder();
    expect(parseEnvelope(enc.encode('Ta\0\0'))).toEqual({ error: 'format' });
    expect(parseEnvelope(enc.encode('Fa\0Xb\0\0'))).toEqual({ error: 'format' });
    expect(parseEnvelope(enc.encode(''))).toEqual({ error: 'eof' });
    expect(parseEnvelope(enc.encode('Fa\0Tb\0'))).toEqual({ error: 'eof' });
    expect(parseEnvelope(enc.encode('F\0\0'))).toMatchObject({ envelope: { recipients: [] } });
  });
});
