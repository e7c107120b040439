// usersCdbLookup's cache in the simulator, where inode numbers are reused at once and timestamps
// are virtual: a long-lived process sees each users/cdb qmail-newu installs, even when the new
// file has the same size as the old one.

import { describe, expect, it } from 'vitest';
import { main as newuMain } from '../../impl/newu/main.ts';
import { UsersCdbCache, usersCdbLookup } from '../../impl/shared/users-cdb.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import type { Sys } from '../../impl/sys/types.ts';
import { newKernel } from '../sim/helpers.ts';
import { runInSim } from '../support/sim-program.ts';

const home = '/var/qmail';
const root = { uid: 0, gid: 0, mode: 0o755 };
const rounds = 4;

/** Looks joe up every 10 s with one cache, printing the user each time. */
async function probe(sys: Sys): Promise<number> {
  const cache = new UsersCdbCache();
  for (let i = 0; i < rounds; i++) {
    const r = await usersCdbLookup(sys, home, 'joe', cache);
    await writeAll(sys, 1, new TextEncoder().encode(`${'record' in r ? r.record.user : JSON.stringify(r)}\n`));
    await sys.clock.sleep(10_000);
  }
  return 0;
}

describe('users/cdb cache (sim)', () => {
  it('sees every replacement by qmail-newu, same-size files and reused inodes included', async () => {
    const k = newKernel(11);
    k.mkdirs(`${home}/users`, root);
    for (const [name, main] of [['qmail-newu', newuMain], ['probe', probe]] as const) {
      k.programs.register(name, main);
      k.install(`${home}/bin/${name}`, name, root);
    }
    const install = async (user: string): Promise<void> => {
      k.writeFile(`${home}/users/assign`, `=joe:${user}:507:100:/home/joe:::\n.\n`, { ...root, mode: 0o644 });
      expect((await runInSim(k, `${home}/bin/qmail-newu`, ['qmail-newu'])).code).toBe(0);
    };
    await install('aaa');
    const p = k.spawn(`${home}/bin/probe`, ['probe']);
    const inos: number[] = [k.fs.peekStat(`${home}/users/cdb`)!.ino];
    for (const user of ['bbb', 'ccc', 'ddd']) {
      await k.run({ untilMs: k.nowMs + 5_000 });
      await install(user);
      inos.push(k.fs.peekStat(`${home}/users/cdb`)!.ino);
      await k.run({ untilMs: k.nowMs + 5_000 });
    }
    await k.run({ until: () => p.status() !== null });
    expect(new TextDecoder().decode(p.output(1))).toBe('aaa\nbbb\nccc\nddd\n');
    // The point of the test: some replacement reused an inode number.
    expect(new Set(inos).size).toBeLessThan(inos.length);
  });
});
