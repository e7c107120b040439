// The client's one-buffer frames (impl/lib/queued-protocol.ts encodeQueuedRequestFrame) are byte
// for byte the frame of the encoded request, and decode back to it. SEED=<n> replays.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder } from '../../impl/lib/frame.ts';
import {
  decodeQueuedRequest, encodeQueuedRequest, encodeQueuedRequestFrame, queuedFrameBytesMax,
} from '../../impl/lib/queued-protocol.ts';
import { checkProperty } from '../support/seed.ts';
import { queuedRequest as request } from '../support/queued-arbitraries.ts';

const file = 'test/queued/queued-frame.test.ts';

describe('queued request frames in one buffer', () => {
  it('equal encodeFrame(encodeQueuedRequest(r)) and decode back to r', async () => {
    await checkProperty(
      file,
      fc.property(request, (r) => {
        const framed = encodeQueuedRequestFrame(r);
        expect(framed).toEqual(encodeFrame(encodeQueuedRequest(r)));
        const back = new FrameDecoder(queuedFrameBytesMax).push(framed).map(decodeQueuedRequest);
        expect(back).toEqual([r]);
      }),
    );
  });

  it('refuses a piece over the bound, as encodeQueuedRequest does', () => {
    const big = { kind: 'M' as const, id: 1, bytes: new Uint8Array(queuedFrameBytesMax) };
    expect(() => encodeQueuedRequestFrame(big)).toThrow(/piece of/);
    expect(() => encodeQueuedRequestFrame({ kind: 'O', id: -1 })).toThrow(/request id/);
  });
});
