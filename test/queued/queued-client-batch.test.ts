// The listener's qmail-queued client (impl/smtpd/queued-client.ts) holds the pieces its source
// already has at hand (ByteSource.ready) and sends them with what follows, up to a piece's size:
// fewer writes on the pipe, the same frames in the same order. In the simulator, against a small
// stand-in server that records every request and answers 0 at E.

import { describe, expect, it } from 'vitest';
import type { Fd, Sys } from '../../impl/sys/types.ts';
import type { ByteSource } from '../../impl/queue/enqueue.ts';
import { encodeFrame, FrameDecoder } from '../../impl/lib/frame.ts';
import { decodeQueuedRequest, encodeQueuedReply, queuedFrameBytesMax, queuedPieceBytesMax } from '../../impl/lib/queued-protocol.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { QueuedClient } from '../../impl/smtpd/queued-client.ts';
import { Kernel } from '../../sim/kernel.ts';
import { addProgram } from '../sim/helpers.ts';

/** Pieces from memory; with ready, each next read is at hand; with lend, they are lent
 *  (readPiece) rather than copied into the reader's buffer. */
function piecesSource(pieces: Uint8Array[], ready: boolean, onRead: () => void, lend = false): ByteSource {
  let i = 0;
  const read = async (buf: Uint8Array): Promise<number> => {
    onRead();
    const p = pieces[i++];
    if (p === undefined) return 0;
    buf.set(p);
    return p.length;
  };
  const readPiece = async (max: number): Promise<Uint8Array> => {
    onRead();
    const p = pieces[i++] ?? new Uint8Array(0);
    expect(p.length).toBeLessThanOrEqual(max);
    return p;
  };
  return { read, ...(ready ? { ready: () => true } : {}), ...(lend ? { readPiece } : {}) };
}

/** sys whose writes on fd are counted. */
function counting(sys: Sys, fd: Fd, count: { writes: number }): Sys {
  const fs = new Proxy(sys.fs, {
    get(t, prop) {
      if (prop === 'write') {
        return (f: Fd, ...rest: Parameters<Sys['fs']['write']> extends [Fd, ...infer R] ? R : never) => {
          if (f === fd) count.writes++;
          return t.write(f, ...rest);
        };
      }
      const v = Reflect.get(t, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return new Proxy(sys, { get: (t, prop) => (prop === 'fs' ? fs : Reflect.get(t, prop)) });
}

async function run(sizes: number[], ready: boolean, lend = false): Promise<{ writes: number; code: number | null; kinds: string; bytes: number[]; atRead: number[] }> {
  const k = new Kernel({ seed: 5 });
  const got: string[] = [];
  const bytes: number[] = [];
  const server = addProgram(k, 'fake-queued', async (sys) => {
    const dec = new FrameDecoder(queuedFrameBytesMax);
    const buf = new Uint8Array(200_000);
    for (;;) {
      const n = await sys.fs.read(0, buf, 0, buf.length, null);
      if (n === 0) return 0;
      for (const p of dec.push(buf.slice(0, n))) {
        const r = decodeQueuedRequest(p);
        got.push(r.kind);
        if (r.kind === 'M') bytes.push(...r.bytes.subarray(0, 1), r.bytes.length);
        if (r.kind === 'E') await writeAll(sys, 1, encodeFrame(encodeQueuedReply({ id: r.id, code: 0 })));
      }
    }
  });
  const out: { writes: number; code: number | null } = { writes: 0, code: null };
  const atRead: number[] = [];
  const client = addProgram(k, 'client', async (sys) => {
    const child = await sys.proc.spawn(server, ['fake-queued'], { env: {}, fds: ['pipe', 'pipe', 2] });
    const to = child.fds[0] as Fd;
    const count = { writes: 0 };
    const q = new QueuedClient(counting(sys, to, count), child.pid, to, child.fds[1] as Fd);
    const pieces = sizes.map((n, i) => new Uint8Array(n).fill(65 + i));
    const r = await q.queue(piecesSource(pieces, ready, () => atRead.push(count.writes), lend), { sender: new TextEncoder().encode('s@x'), recipients: [new TextEncoder().encode('r@y')] });
    out.writes = count.writes;
    out.code = r?.status?.code ?? null;
    await sys.fs.close(to);
    await child.wait();
    return 0;
  });
  const h = k.spawn(client, ['client'], {});
  await k.run({ until: () => h.status() !== null });
  expect((await h.wait()).code).toBe(0);
  return { ...out, kinds: got.join(''), bytes, atRead };
}

describe('QueuedClient: pieces at hand go together', () => {
  it('a small message whose pieces are at hand is one write', async () => {
    const r = await run([100, 2000, 30], true);
    expect(r).toEqual({ writes: 1, code: 0, kinds: 'OMMMVE', bytes: [65, 100, 66, 2000, 67, 30], atRead: [0, 0, 0, 0] });
  });

  it('without ready, each piece is its own write (the open with the first, the envelope with the end)', async () => {
    const r = await run([100, 2000, 30], false);
    expect(r).toEqual({ writes: 4, code: 0, kinds: 'OMMMVE', bytes: [65, 100, 66, 2000, 67, 30], atRead: [0, 1, 2, 3] });
  });

  it('a source that lends its pieces (readPiece): the same frames and writes', async () => {
    expect(await run([100, 2000, 30], true, true)).toEqual(await run([100, 2000, 30], true));
    expect(await run([100, 2000, 30], false, true)).toEqual(await run([100, 2000, 30], false));
  });

  it('held pieces go out once they reach a piece\'s size', async () => {
    const big = Math.ceil(queuedPieceBytesMax / 2) + 1;
    const r = await run([big, big, big, 10], true);
    // Nothing written before the third read; then the first two pieces are out (a write of more
    // than the pipe holds is several write calls), and the rest goes with the end.
    expect({ ...r, atRead: undefined, writes: undefined }).toEqual({ code: 0, kinds: 'OMMMMVE', bytes: [65, big, 66, big, 67, big, 68, 10] });
    const w = r.atRead[2] as number;
    expect(w).toBeGreaterThan(0);
    expect(r.atRead).toEqual([0, 0, w, w, w]);
    expect(r.writes).toBeGreaterThan(w);
  });
});
