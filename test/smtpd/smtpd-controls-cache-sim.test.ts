// qmail-smtpd --listen keeps its controls across connections (impl/smtpd/config.ts SetupCache):
// every change to a control must still show on the next connection, as with a fresh qmail-smtpd.
// In the simulator: a new control, a control rewritten in place with the same size, a control made
// unreadable, a control removed; and SetupCache's own counts show the kept controls are used.

import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { O } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { SetupCache } from '../../impl/smtpd/config.ts';
import { controlsSettleMs } from '../../impl/shared/control-snapshot.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds } from '../../sim/install.ts';
import { addProgram, enc, smtpReply } from '../sim/helpers.ts';

async function put(sys: Sys, path: string, text: string, mode = 0o644): Promise<void> {
  const fd = await sys.fs.open(path, O.WRONLY | O.CREAT | O.TRUNC, mode);
  await writeAll(sys, fd, enc(text));
  await sys.fs.close(fd);
}

/** One connection: the greeting, then each command's reply, then the connection is closed. */
async function session(sys: Sys, cmds: string[]): Promise<string[]> {
  const c = await sys.net.connect({ host: '127.0.0.1', port: 2525 }, 5_000);
  const t = [await smtpReply(sys, c.fd)];
  for (const cmd of cmds) {
    await writeAll(sys, c.fd, enc(cmd));
    t.push(await smtpReply(sys, c.fd));
  }
  await sys.fs.close(c.fd);
  return t;
}

describe('qmail-smtpd --listen: controls kept across connections (simulator)', () => {
  it('a changed control takes effect on the next connection', async () => {
    const k = new Kernel({ seed: 21 });
    const inst = await installQmail(k);
    const control = `${inst.home}/control`;
    k.spawn(`${inst.home}/bin/qmail-smtpd`, ['qmail-smtpd', '--listen', '0.0.0.0:2525'], {
      env: { QMAILHOME: inst.home },
      uid: simIds.users.qmaild,
      gid: simIds.groups.nofiles,
    });
    const seen: string[][] = [];
    const settle = controlsSettleMs + 500;
    const client = addProgram(k, 'smtp-client', async (sys) => {
      await sys.clock.sleep(10);
      const rcpt = ['HELO c\r\n', 'MAIL FROM:<s@x.test>\r\n', 'RCPT TO:<r@elsewhere.test>\r\n', 'QUIT\r\n'];
      const mail = ['HELO c\r\n', 'MAIL FROM:<bad@spam.test>\r\n', 'RCPT TO:<r@elsewhere.test>\r\n', 'QUIT\r\n'];
      seen.push(await session(sys, ['QUIT\r\n'])); // 0: controls as installed
      await sys.clock.sleep(settle);
      seen.push(await session(sys, ['QUIT\r\n'])); // 1: settled, now kept
      await put(sys, `${control}/smtpgreeting`, 'greet-AAA\n'); // a new file in control/
      seen.push(await session(sys, ['QUIT\r\n'])); // 2
      await sys.clock.sleep(settle);
      seen.push(await session(sys, ['QUIT\r\n'])); // 3: kept again
      await put(sys, `${control}/smtpgreeting`, 'greet-BBB\n'); // in place, same size
      seen.push(await session(sys, ['QUIT\r\n'])); // 4
      await put(sys, `${control}/rcpthosts`, 'other.test\n');
      await sys.clock.sleep(settle);
      seen.push(await session(sys, rcpt)); // 5
      await put(sys, `${control}/rcpthosts`, 'elsewhere.test\n');
      seen.push(await session(sys, rcpt)); // 6
      await sys.clock.sleep(settle);
      seen.push(await session(sys, mail)); // 7
      await put(sys, `${control}/badmailfrom`, 'bad@spam.test\n');
      seen.push(await session(sys, mail)); // 8
      await sys.clock.sleep(settle);
      seen.push(await session(sys, [])); // 9
      await sys.fs.chmod(`${control}/smtpgreeting`, 0o600); // root's alone now: qmaild cannot read it
      seen.push(await session(sys, [])); // 10
      await sys.fs.chmod(`${control}/smtpgreeting`, 0o644);
      await sys.clock.sleep(settle);
      seen.push(await session(sys, ['QUIT\r\n'])); // 11
      await sys.fs.unlink(`${control}/smtpgreeting`);
      seen.push(await session(sys, ['QUIT\r\n'])); // 12
      return 0;
    });
    const h = k.spawn(client, ['smtp-client'], {});
    await k.run({ until: () => h.status() !== null });
    expect((await h.wait()).code).toBe(0);
    const greet = (t: string[] | undefined): string | undefined => t?.[0];
    expect(greet(seen[0])).toBe('220 sim.example ESMTP\r\n');
    expect(greet(seen[1])).toBe('220 sim.example ESMTP\r\n');
    expect(greet(seen[2])).toBe('220 greet-AAA ESMTP\r\n');
    expect(greet(seen[3])).toBe('220 greet-AAA ESMTP\r\n');
    expect(greet(seen[4])).toBe('220 greet-BBB ESMTP\r\n');
    expect(seen[5]?.[3]).toBe('553 sorry, that domain isn\'t in my list of allowed rcpthosts (#5.7.1)\r\n');
    expect(seen[6]?.[3]).toBe('250 ok\r\n');
    expect(seen[7]?.[3]).toBe('250 ok\r\n');
    expect(seen[8]?.[3]).toBe('553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n');
    expect(greet(seen[9])).toBe('220 greet-BBB ESMTP\r\n');
    expect(greet(seen[10])).toBe('421 unable to read controls (#4.3.0)\r\n');
    expect(greet(seen[11])).toBe('220 greet-BBB ESMTP\r\n');
    expect(greet(seen[12])).toBe('220 sim.example ESMTP\r\n');
  });

  it('stats alone while nothing changes; a recent change is read again until it settles', async () => {
    const k = new Kernel({ seed: 22 });
    const inst = await installQmail(k);
    const counts: [number, number][] = [];
    const prog = addProgram(k, 'cache-user', async (sys) => {
      const cache = new SetupCache(sys, inst.home);
      const env = { TCPREMOTEIP: '127.0.0.1' };
      await put(sys, `${inst.home}/control/databytes`, '1000\n');
      const first = await cache.load(env);
      const second = await cache.load(env); // changed too recently: read again
      counts.push([cache.hits, cache.reads]);
      await sys.clock.sleep(controlsSettleMs + 500);
      await cache.load(env);
      const kept = await cache.load(env);
      expect((await cache.load({ ...env, DATABYTES: '7' }))?.cfg.databytes).toBe(7);
      counts.push([cache.hits, cache.reads]);
      await put(sys, `${inst.home}/control/databytes`, '2000\n');
      const changed = await cache.load(env);
      counts.push([cache.hits, cache.reads]);
      expect([first?.cfg.databytes, second?.cfg.databytes, kept?.cfg.databytes, changed?.cfg.databytes]).toEqual([1000, 1000, 1000, 2000]);
      return 0;
    });
    const h = k.spawn(prog, ['cache-user'], {});
    await k.run({ until: () => h.status() !== null });
    expect((await h.wait()).code).toBe(0);
    expect(counts).toEqual([[0, 2], [2, 3], [2, 4]]);
  });
});
