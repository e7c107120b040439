// The qmail-smtpd --listen <-> qmail-queued frames (impl/lib/queued-protocol.ts): every request and
// reply survives a round trip, and anything malformed is a FrameError, never a wrong request.
// Replay: SEED=<n> npx vitest run test/lib/queued-protocol.test.ts (printed on failure).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameError } from '../../impl/lib/frame.ts';
import {
  decodeQueuedReply, decodeQueuedRequest, encodeQueuedReply, encodeQueuedRequest, queuedPieceBytesMax,
} from '../../impl/lib/queued-protocol.ts';
import { checkProperty } from '../support/seed.ts';
import { queuedId as id, queuedRequest as request } from '../support/queued-arbitraries.ts';

const file = 'test/lib/queued-protocol.test.ts';


describe('queued protocol', () => {
  it('requests and replies round-trip', async () => {
    await checkProperty(
      file,
      fc.property(request, (r) => {
        expect(decodeQueuedRequest(encodeQueuedRequest(r))).toEqual(r);
      }),
    );
    await checkProperty(
      file,
      fc.property(id, fc.integer({ min: 0, max: 255 }), (i, code) => {
        expect(decodeQueuedReply(encodeQueuedReply({ id: i, code }))).toEqual({ id: i, code });
      }),
    );
  });

  it('refuses what is malformed', () => {
    const bad = (b: number[]): Uint8Array => Uint8Array.from(b);
    expect(() => decodeQueuedRequest(bad([0x4f, 0, 0]))).toThrow(FrameError);
    expect(() => decodeQueuedRequest(bad([0x5a, 0, 0, 0, 1]))).toThrow(FrameError);
    expect(() => decodeQueuedRequest(bad([0x45, 0, 0, 0, 1, 0x78]))).toThrow(FrameError);
    expect(() => decodeQueuedReply(bad([0x52, 0, 0, 0, 1]))).toThrow(FrameError);
    expect(() => decodeQueuedReply(bad([0x52, 0, 0, 0, 1, 0x32, 0x35, 0x36]))).toThrow(FrameError);
    expect(() => decodeQueuedReply(encodeQueuedRequest({ kind: 'O', id: 1 }))).toThrow(FrameError);
    expect(() => encodeQueuedRequest({ kind: 'O', id: -1 })).toThrow(FrameError);
    expect(() => encodeQueuedRequest({ kind: 'M', id: 1, bytes: new Uint8Array(queuedPieceBytesMax + 1) })).toThrow(FrameError);
  });
});
