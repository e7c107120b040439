// The scripted SMTP peers (sim/scenarios/net-peers.ts) serve a simulated day: more sessions than a
// process has fds, each client gone after its QUIT without reading the 221 (as qmail-remote does),
// or cut after its final dot. A peer that kept such a connection's fd stopped accepting (EMFILE)
// after about a thousand sessions, and every later delivery was deferred.

import { describe, expect, it } from 'vitest';
import { addPeers, startPeers } from '../../sim/scenarios/net-peers.ts';
import { fdsMax } from '../../sim/proc.ts';
import { addProgram, newKernel } from '../sim/helpers.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import type { Sys } from '../../impl/sys/types.ts';

/** Reads until the buffer holds `want` (a reply's start), or EOF. */
async function until(sys: Sys, fd: number, want: string, got = ''): Promise<string> {
  const buf = new Uint8Array(512);
  while (!got.includes(want)) {
    const n = await sys.fs.read(fd, buf, 0, buf.length, null);
    if (n === 0) return got;
    got += latin1(buf.subarray(0, n));
  }
  return got;
}

describe('scripted SMTP peers', () => {
  it(`serve more than ${fdsMax} sessions whose clients leave without reading the 221`, async () => {
    const seed = 3;
    const k = newKernel(seed, { trace: { syscalls: false, keepLines: 100 } });
    const { peers, ipOf } = addPeers(k, [{ domain: 'accept.example', kind: 'accept' }], { hangGreeting: 0, hangRcpt: 0, afterDot: 0 }, () => 1);
    const ip = ipOf.get('accept.example') as string;
    const sessions = fdsMax + 200;
    let done = 0;
    const client = addProgram(k, 'client', async (sys) => {
      await sys.clock.sleep(1000); // the peer listens first
      for (let i = 0; i < sessions; i++) {
        const c = await sys.net.connect({ host: ip, port: 25 }, 30_000);
        await until(sys, c.fd, '220 ');
        await sys.fs.write(c.fd, latin1Bytes(`HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<r${i}@accept.example>\r\nDATA\r\n`));
        await until(sys, c.fd, '354 ');
        await sys.fs.write(c.fd, latin1Bytes(`Subject: ${i}\r\n\r\nbody\r\n.\r\n`));
        const reply = await until(sys, c.fd, '250 ok kept');
        if (!reply.includes('250 ok kept')) return 1;
        // Half leave after QUIT without reading its reply, half right after the 250.
        if (i % 2 === 0) await sys.fs.write(c.fd, latin1Bytes('QUIT\r\n'));
        await sys.fs.close(c.fd);
        done++;
      }
      return 0;
    });
    startPeers(k, peers);
    const h = k.spawn(client, ['client']);
    await k.run({ untilMs: 24 * 3_600_000 });
    const why = `seed ${seed}: ${k.bugs.map((b) => b.message).join('; ')}`;
    expect(k.bugs, why).toEqual([]);
    expect(h.status()?.code, why).toBe(0);
    expect(done).toBe(sessions);
    expect(peers[0]?.records.length).toBe(sessions);
    // The peer's process still serves, with its listener and nothing else of the sessions open.
    expect([...k.procs.values()].some((p) => p.argv[0] === 'smtp-peer-mx.accept.example')).toBe(true);
  });
});
