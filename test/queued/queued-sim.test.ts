// qmail-queued in the simulator, driven directly over its pipes (impl/lib/queued-protocol.ts):
// interleaved requests each queued as qmail-queue would (Received line and intd u record from the
// uid it was started with), an abort or an unfinished request at EOF queues nothing and leaves no
// file behind, a broken frame ends it with 81, a bad argument with 100.

import { describe, expect, it } from 'vitest';
import type { Fd, Sys } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { encodeFrame, FrameDecoder } from '../../impl/lib/frame.ts';
import { decodeQueuedReply, encodeQueuedRequest, type QueuedRequest } from '../../impl/lib/queued-protocol.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { addProgram, dec, enc } from '../sim/helpers.ts';

type Step = QueuedRequest | { kind: 'raw'; bytes: Uint8Array } | { kind: 'wait'; replies: number };

interface Run {
  replies: Array<{ id: number; code: number }>;
  exit: number | null;
  inst: Installation;
  k: Kernel;
}

/** Starts qmail-queued as qmailq with argv, plays the steps, closes its input, reads all replies. */
async function drive(argv: string[], steps: Step[]): Promise<Run> {
  const k = new Kernel({ seed: 7 });
  const inst = await installQmail(k);
  const out: Run = { replies: [], exit: null, inst, k };
  const prog = addProgram(k, 'driver', async (sys: Sys) => {
    const child = await sys.proc.spawn(`${inst.home}/bin/qmail-queued`, argv, {
      env: { QMAILHOME: inst.home }, uid: simIds.users.qmailq, gid: simIds.groups.qmail, fds: ['pipe', 'pipe', 2],
    });
    const to = child.fds[0] as Fd;
    const from = child.fds[1] as Fd;
    const decoder = new FrameDecoder(1024);
    const buf = new Uint8Array(1024);
    const readReply = async (): Promise<boolean> => {
      while (true) {
        const n = await sys.fs.read(from, buf, 0, buf.length, null);
        if (n === 0) return false;
        const got = decoder.push(buf.slice(0, n)).map(decodeQueuedReply);
        out.replies.push(...got);
        if (got.length > 0) return true;
      }
    };
    for (const s of steps) {
      if (s.kind === 'wait') {
        while (out.replies.length < s.replies) if (!(await readReply())) break;
      } else await writeAll(sys, to, s.kind === 'raw' ? s.bytes : encodeFrame(encodeQueuedRequest(s)));
    }
    await sys.fs.close(to);
    while (await readReply());
    out.exit = (await child.wait()).code;
    return 0;
  });
  k.spawn(prog, ['driver']);
  await k.run();
  return out;
}

function queueFiles(r: Run): { todo: string[]; mess: string[]; pid: string[]; intd: string[] } {
  const q = r.inst.queue;
  const all = (sub: string): string[] => Array.from({ length: q.split }, (_, i) => (r.k.fs.peekDir(`${q.dir}/${sub}/${i}`) ?? []).map((f) => `${i}/${f}`)).flat();
  return { todo: r.k.fs.peekDir(`${q.dir}/todo`) ?? [], mess: all('mess'), pid: r.k.fs.peekDir(`${q.dir}/pid`) ?? [], intd: r.k.fs.peekDir(`${q.dir}/intd`) ?? [] };
}

const M = (id: number, s: string): QueuedRequest => ({ kind: 'M', id, bytes: enc(s) });
const V = (id: number, s: string): QueuedRequest => ({ kind: 'V', id, bytes: enc(s) });

describe('qmail-queued (simulator)', () => {
  it('interleaved requests are each queued, as qmail-queue queues for that uid', async () => {
    const uid = simIds.users.qmaild;
    const r = await drive(['qmail-queued', String(uid)], [
      { kind: 'O', id: 1 }, { kind: 'O', id: 2 },
      M(2, 'Subject: two\n\n'), M(1, 'Subject: one\n'), M(1, '\nbody one\n'),
      V(1, 'Fa@x\0Tb@y\0'), M(2, 'body two\n'), V(1, 'Tc@z\0\0'), { kind: 'E', id: 1 },
      V(2, 'F\0Td@w\0\0'), { kind: 'E', id: 2 }, { kind: 'wait', replies: 2 },
    ]);
    expect(r.replies.sort((a, b) => a.id - b.id)).toEqual([{ id: 1, code: 0 }, { id: 2, code: 0 }]);
    expect(r.exit).toBe(0);
    const f = queueFiles(r);
    expect(f.todo).toHaveLength(2);
    const q = r.inst.queue;
    const bodies = f.todo.map((id) => dec(r.k.fs.peekFile(`${q.dir}/mess/${Number(id) % q.split}/${id}`)!)).sort();
    for (const b of bodies) expect(b).toMatch(/^Received: \(qmail [0-9]+ invoked from network\); [^\n]+\n/);
    expect(bodies.map((b) => b.slice(b.indexOf('\n') + 1))).toEqual(['Subject: one\n\nbody one\n', 'Subject: two\n\nbody two\n']);
    const todos = f.todo.map((id) => dec(r.k.fs.peekFile(`${q.dir}/todo/${id}`)!).replace(/\0p[0-9]+\0/, '\0p\0')).sort();
    expect(todos).toEqual([`u${uid}\0p\0F\0Td@w\0`, `u${uid}\0p\0Fa@x\0Tb@y\0Tc@z\0`]);
  });

  it('another uid is "by uid N"', async () => {
    const r = await drive(['qmail-queued', '4321'], [{ kind: 'O', id: 9 }, M(9, 'x\n'), V(9, 'Fa@b\0Tc@d\0\0'), { kind: 'E', id: 9 }, { kind: 'wait', replies: 1 }]);
    expect(r.replies).toEqual([{ id: 9, code: 0 }]);
    const q = r.inst.queue;
    const [id] = queueFiles(r).todo;
    expect(dec(r.k.fs.peekFile(`${q.dir}/mess/${Number(id) % q.split}/${id}`)!)).toMatch(/^Received: \(qmail [0-9]+ invoked by uid 4321\); [^\n]+\nx\n$/);
  });

  it('an abort, a bad envelope and an unfinished request at EOF queue nothing and leave nothing', async () => {
    const r = await drive(['qmail-queued', '100'], [
      { kind: 'O', id: 1 }, M(1, 'gone\n'), { kind: 'A', id: 1 },
      { kind: 'O', id: 2 }, M(2, 'bad\n'), V(2, 'Xnonsense\0\0'), { kind: 'E', id: 2 },
      { kind: 'O', id: 3 }, M(3, 'half\n'), { kind: 'wait', replies: 2 },
    ]);
    const codes = new Map(r.replies.map((x) => [x.id, x.code]));
    expect(codes.get(1)).toBe(54); // read error: qmail-queue's input failed
    expect(codes.get(2)).toBe(79); // envelope format
    expect(codes.get(3)).toBe(54); // EOF before its end: aborted
    expect(r.exit).toBe(0);
    expect(queueFiles(r)).toEqual({ todo: [], mess: [], pid: [], intd: [] });
  });

  it('a broken frame ends it with 81, finishing nothing unfinished', async () => {
    const r = await drive(['qmail-queued', '100'], [{ kind: 'O', id: 1 }, M(1, 'x\n'), { kind: 'raw', bytes: encodeFrame(enc('Zjunk')) }]);
    expect(r.exit).toBe(81);
    expect(r.replies).toEqual([{ id: 1, code: 54 }]);
    expect(queueFiles(r).todo).toEqual([]);
  });

  it('a missing or bad uid argument is a usage error (100)', async () => {
    expect((await drive(['qmail-queued'], [])).exit).toBe(100);
    expect((await drive(['qmail-queued', 'qmaild'], [])).exit).toBe(100);
  });
});
