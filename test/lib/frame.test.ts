// Frames and fields (impl/lib/frame.ts) and the lspawn <-> worker messages built on them
// (impl/lib/worker-protocol.ts): round trips for arbitrary bytes cut at arbitrary points, and
// refusal of hostile lengths before any buffering.
// Replay a failing property: SEED=<n> npx vitest run test/lib/frame.test.ts (printed on failure).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFields, encodeFields, encodeFrame, FrameDecoder, FrameError } from '../../impl/lib/frame.ts';
import { decodeEnv, decodeReply, decodeRequest, decodeToWorker, encodeEnv, encodeQuit, encodeReply, encodeRequest, requestOverheadBytes, utf8Length, type DeliveryRequest } from '../../impl/lib/worker-protocol.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/lib/frame.test.ts';

/** Cuts bytes at the given points (sorted, deduplicated, clipped). */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('frames', () => {
  it('are a 4-byte big-endian length and the payload', () => {
    expect([...encodeFrame(Uint8Array.of(9, 8, 7))]).toEqual([0, 0, 0, 3, 9, 8, 7]);
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0]);
  });

  it('survive any split of the stream, any payload bytes', async () => {
    await checkProperty(
      file,
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (payloads, points) => {
        const stream = concat(payloads.map(encodeFrame));
        const d = new FrameDecoder(1000);
        const got = cut(stream, points).flatMap((piece) => d.push(piece));
        expect(got.map((b) => [...b])).toEqual(payloads.map((b) => [...b]));
        expect(d.pendingBytes).toBe(0);
      }),
    );
  });

  it('refuse a frame announcing more than the bound, before buffering it', () => {
    const d = new FrameDecoder(10);
    expect(() => d.push(Uint8Array.of(0, 0, 0, 11))).toThrow(FrameError);
    expect(() => new FrameDecoder(2 ** 32 - 1).push(Uint8Array.of(255, 255, 255, 255))).not.toThrow();
  });
});

describe('fields', () => {
  it('round-trip any list of byte strings', async () => {
    await checkProperty(
      file,
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }), (fields) => {
        expect(decodeFields(encodeFields(fields)).map((b) => [...b])).toEqual(fields.map((b) => [...b]));
      }),
    );
  });

  it('never read past the payload: arbitrary bytes decode or throw FrameError', async () => {
    await checkProperty(
      file,
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const fields = decodeFields(bytes);
          expect(fields.reduce((n, f) => n + 4 + f.length, 0)).toBe(bytes.length);
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
      }),
    );
  });
});

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const envName = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('=') && !s.includes('\0'));
const envValue = fc.string({ maxLength: 30 }).filter((s) => !s.includes('\0'));
const request: fc.Arbitrary<DeliveryRequest> = fc.record({
  id: fc.nat(),
  args: fc.record({ user: text, homedir: text, local: text, dash: text, ext: text, domain: text, sender: text, defaultDelivery: text }),
  env: fc.dictionary(envName, envValue, { maxKeys: 6 }),
  message: fc.uint8Array({ maxLength: 500 }),
});

describe('worker protocol', () => {
  it('requests round-trip, arguments in any Unicode, messages in any bytes', async () => {
    await checkProperty(
      file,
      fc.property(request, (r) => {
        const back = decodeRequest(encodeRequest(r));
        expect({ ...back, message: [...back.message] }).toEqual({ ...r, message: [...r.message] });
        expect(decodeToWorker(encodeRequest(r))).toHaveProperty('deliver');
      }),
    );
  });

  it('keeps an environment variable named __proto__ as an entry', () => {
    const env: Record<string, string> = {};
    Object.defineProperty(env, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
    const back = decodeEnv(encodeEnv(env));
    expect(Object.entries(back)).toEqual([['__proto__', 'x']]);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('replies round-trip; quit is recognised; anything else is a FrameError', async () => {
    await checkProperty(
      file,
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 400 }), (id, code, output) => {
        const back = decodeReply(encodeReply({ id, code, output }));
        expect({ ...back, output: [...back.output] }).toEqual({ id, code, output: [...output] });
      }),
    );
    expect(decodeToWorker(encodeQuit())).toEqual({ quit: true });
    expect(() => decodeReply(encodeQuit())).toThrow(FrameError);
    expect(() => decodeReply(encodeFields([Uint8Array.of(82), Uint8Array.of(49), Uint8Array.of(50, 53, 54), new Uint8Array(0)]))).toThrow(FrameError); // code 256
    expect(() => decodeRequest(encodeFields([Uint8Array.of(68)]))).toThrow(FrameError);
  });
});

describe('requestOverheadBytes', () => {
  it('bounds the encoded request without its message', async () => {
    await checkProperty(
      file,
      fc.property(request, (r) => {
        const exact = encodeRequest(r).length - r.message.length;
        const est = requestOverheadBytes(r);
        expect(est).toBeGreaterThanOrEqual(exact);
        expect(est - exact).toBeLessThanOrEqual(32);
      }),
    );
  });
});

describe('utf8Length', () => {
  it('is the length TextEncoder gives, lone surrogates included', async () => {
    const enc = new TextEncoder();
    const units = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x7ff }), fc.integer({ min: 0x800, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 40 });
    await checkProperty(
      file,
      fc.property(units, (codes) => {
        const s = String.fromCharCode(...codes);
        expect(utf8Length(s)).toBe(enc.encode(s).length);
      }),
    );
    expect(utf8Length('a\u00e9\u20ac\u{1f600}')).toBe(1 + 2 + 3 + 4);
  });
});
