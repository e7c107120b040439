// The one-copy frame encoders (encodeFieldsFrame, encodeRequestFrame, encodeReplyFrame) give the
// same bytes as framing the payload encoders' output (a request around a message read with room
// before it too, without copying it), and what they make decodes back whatever
// pieces the stream cuts it into.
//
// Replay a failure: SEED=<n> npx vitest run test/lspawn/frames.test.ts

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeFields, encodeFieldsFrame, encodeFrame, FrameDecoder } from '../../impl/lib/frame.ts';
import { decodeReply, decodeRequest, encodeReply, encodeReplyFrame, encodeRequest, encodeRequestFrame, requestRoomBytes, type DeliveryRequest } from '../../impl/lib/worker-protocol.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/lspawn/frames.test.ts';

const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
// Any UTF-16 code units, lone surrogates included (written as U+FFFD): the in-place UTF-8 writer
// must agree with TextEncoder on every one.
const str = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }));
const envName = fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes('=') && !s.includes('\0') && s !== '__proto__');
const request: fc.Arbitrary<DeliveryRequest> = fc.record({
  id: fc.integer({ min: 0, max: 2 ** 40 }),
  args: fc.record({ user: str, homedir: str, local: str, dash: str, ext: str, domain: str, sender: str, defaultDelivery: str }),
  env: fc.dictionary(envName, str.filter((s) => !s.includes('\0'))),
  message: bytes(3000),
});

const wellFormed = (s: string): string => new TextDecoder().decode(new TextEncoder().encode(s));

/** The frame fed to a decoder in the given cut points; the payloads it returns. */
function decodeInPieces(frame: Uint8Array, cuts: number[]): Uint8Array[] {
  const d = new FrameDecoder(1 << 20);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts.map((x) => x % (frame.length + 1)).sort((a, b) => a - b), frame.length]) {
    out.push(...d.push(frame.slice(at, Math.max(at, c))));
    at = Math.max(at, c);
  }
  expect(d.pendingBytes).toBe(0);
  return out;
}

describe('one-copy frames', () => {
  it('encodeFieldsFrame is encodeFrame(encodeFields)', async () => {
    await checkProperty(file, fc.property(fc.array(bytes(50), { maxLength: 8 }), (fields) => {
      expect(encodeFieldsFrame(fields)).toEqual(encodeFrame(encodeFields(fields)));
    }));
  });

  it('a request frame is the framed request, and decodes back in any pieces', async () => {
    await checkProperty(file, fc.property(request, fc.array(fc.nat(), { maxLength: 4 }), (r, cuts) => {
      const frame = encodeRequestFrame(r);
      expect(frame).toEqual(encodeFrame(encodeRequest(r)));
      const payloads = decodeInPieces(frame, cuts);
      expect(payloads).toHaveLength(1);
      const back = decodeRequest(payloads[0] as Uint8Array);
      // What comes back is each string's UTF-8 round trip (a lone surrogate is U+FFFD).
      const want = {
        id: r.id,
        args: Object.fromEntries(Object.entries(r.args).map(([k, v]) => [k, wellFormed(v)])),
        env: Object.fromEntries(Object.entries(r.env).map(([k, v]) => [wellFormed(k), wellFormed(v)])),
        message: [...r.message],
      };
      expect({ ...back, message: [...back.message] }).toEqual(want);
    }), { numRuns: 200 });
  });

  it('a request built around a message read with room before it is the same frame, a view of that buffer', async () => {
    await checkProperty(file, fc.property(request, fc.integer({ min: -40, max: 40 }), fc.uint8Array({ minLength: 1, maxLength: 1 }), (r, slack, fill) => {
      // room: what requestRoomBytes promises, give or take; too little falls back to a copy.
      const room = Math.max(0, requestRoomBytes(r) + slack);
      const buf = new Uint8Array(room + r.message.length).fill(fill[0] as number);
      buf.set(r.message, room);
      const frame = encodeRequestFrame({ ...r, message: { buf, at: room } });
      expect(frame).toEqual(encodeRequestFrame(r));
      const inPlace = frame.buffer === buf.buffer;
      if (slack >= 0) expect(inPlace).toBe(true);
      if (inPlace) expect(frame.byteOffset + frame.length).toBe(buf.length);
    }), { numRuns: 300 });
  });

  it('an environment variable named __proto__ decodes as an entry, not a prototype change', () => {
    const args = { user: 'u', homedir: '/h', local: 'u', dash: '', ext: '', domain: 'd', sender: 's', defaultDelivery: './Maildir/\n' };
    const env = JSON.parse('{"A":"1","__proto__":"x","B":"2"}') as Record<string, string>;
    const back = decodeRequest(encodeRequest({ id: 7, args, env, message: new Uint8Array(0) }));
    expect(Object.getPrototypeOf(back.env)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back.env, '__proto__')?.value).toBe('x');
    expect(Object.entries(back.env)).toEqual([['A', '1'], ['__proto__', 'x'], ['B', '2']]);
  });

  it('a reply frame is the framed reply, and decodes back', async () => {
    const reply = fc.record({ id: fc.integer({ min: 0, max: 2 ** 40 }), code: fc.integer({ min: 0, max: 255 }), output: bytes(3001) });
    await checkProperty(file, fc.property(reply, fc.array(fc.nat(), { maxLength: 4 }), (r, cuts) => {
      const frame = encodeReplyFrame(r);
      expect(frame).toEqual(encodeFrame(encodeReply(r)));
      const back = decodeReply(decodeInPieces(frame, cuts)[0] as Uint8Array);
      expect({ ...back, output: [...back.output] }).toEqual({ ...r, output: [...r.output] });
    }), { numRuns: 200 });
  });
});
