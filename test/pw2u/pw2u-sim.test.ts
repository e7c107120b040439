// qmail-pw2u in the simulator (homes made with k.mkdirs, owned as each case needs), and the
// cross-check that makes it worth having: for the users it keeps, users/cdb built from its output by
// qmail-newu answers every address exactly as qmail-getpw does.
// Replay a failing property: SEED=<n> npx vitest run test/pw2u/pw2u-sim.test.ts

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main as pw2uMain } from '../../impl/pw2u/main.ts';
import { main as newuMain } from '../../impl/newu/main.ts';
import { main as getpwMain } from '../../impl/getpw/main.ts';
import { assignLookup, userRecordOf } from '../../impl/lib/assign.ts';
import { CdbReader } from '../../impl/lib/cdb.ts';
import type { Kernel } from '../../sim/kernel.ts';
import type { WorldExit } from '../../sim/world.ts';
import { newKernel } from '../sim/helpers.ts';
import { runInSim, runInSimBytes } from '../support/sim-program.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/pw2u/pw2u-sim.test.ts';
const home = '/var/qmail';
const root = { uid: 0, gid: 0, mode: 0o755 };

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'alias:x:7790:2108::/var/qmail/alias:/bin/false',
  'joe:x:507:100:Joe:/home/joe:/bin/sh',
  'Bob:x:509:100::/home/Bob:/bin/sh',
  'nohome:x:510:100::/home/nohome:/bin/sh',
  'stranger:x:511:100::/home/stranger:/bin/sh',
  'noshell:x:512:100::/home/joe',
  'nul\0:x:513:100::/home/joe:/bin/sh',
  'tail:x:514:100::/home/tail:',
].join('\n');

function world(seed = 1): Kernel {
  const k = newKernel(seed);
  k.mkdirs(`${home}/users`, root);
  for (const [name, main] of [['qmail-pw2u', pw2uMain], ['qmail-newu', newuMain], ['qmail-getpw', getpwMain]] as const) {
    k.programs.register(name, main);
    k.install(`${home}/bin/${name}`, name, root);
  }
  const dir = (path: string, uid: number): void => k.mkdirs(path, { uid, gid: 100, mode: 0o755 });
  dir('/var/qmail/alias', 7790);
  dir('/home/joe', 507);
  dir('/home/Bob', 509);
  dir('/home/stranger', 507);
  dir('/home/tail', 514);
  return k;
}

function pw2u(k: Kernel, args: string[] = [], stdin: string = passwd): Promise<WorldExit> {
  return runInSim(k, `${home}/bin/qmail-pw2u`, ['qmail-pw2u', ...args], { stdin });
}

const users = (k: Kernel, name: string, text: string): void => k.writeFile(`${home}/users/${name}`, text, { ...root, mode: 0o644 });

const joe = ['=joe:joe:507:100:/home/joe:::', '+joe-:joe:507:100:/home/joe:-::'];
const alias = ['+:alias:7790:2108:/var/qmail/alias:-::', '=alias:alias:7790:2108:/var/qmail/alias:::', '+alias-:alias:7790:2108:/var/qmail/alias:-::'];
const tail = ['=tail:tail:514:100:/home/tail:::', '+tail-:tail:514:100:/home/tail:-::'];
const lines = (r: WorldExit): string[] => r.stdout.split('\n');

describe('qmail-pw2u (sim)', () => {
  it('keeps what qmail-getpw would: no root, no uppercase, home present and owned; then "."', async () => {
    const r = await pw2u(world());
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(lines(r)).toEqual([...alias, ...joe, ...tail, '.', '']);
  });

  it('-u admits uppercase names, -H skips the home checks, -h stops at a missing home', async () => {
    expect(lines(await pw2u(world(), ['-u']))).toContain('=Bob:Bob:509:100:/home/Bob:::');
    const all = lines(await pw2u(world(), ['-H']));
    expect(all).toContain('=nohome:nohome:510:100:/home/nohome:::');
    expect(all).toContain('=stranger:stranger:511:100:/home/stranger:::');
    expect(await pw2u(world(), ['-h'])).toMatchObject({ code: 111, stderr: 'qmail-pw2u: fatal: unable to stat /home/nohome\n' });
    expect((await pw2u(world(), ['-ho'])).code).toBe(0);
  });

  it('-/ makes the dash "-/", -c sets the break char, -C drops the wildcard lines', async () => {
    expect(lines(await pw2u(world(), ['-/']))).toContain('+joe-:joe:507:100:/home/joe:-/::');
    expect(lines(await pw2u(world(), ['-c', '+']))).toContain('+joe+:joe:507:100:/home/joe:-::');
    expect(lines(await pw2u(world(), ['-c=']))).toContain('+joe=:joe:507:100:/home/joe:-::');
    expect(lines(await pw2u(world(), ['-C']))).toEqual(['+:alias:7790:2108:/var/qmail/alias:-::', '=alias:alias:7790:2108:/var/qmail/alias:::', joe[0], tail[0], '.', '']);
  });

  it('bad options: sgetopt\'s messages, exit 100', async () => {
    expect(await pw2u(world(), ['-x'])).toMatchObject({ code: 100, stdout: '', stderr: 'qmail-pw2u: illegal option -- x\n' });
    expect(await pw2u(world(), ['-c'])).toMatchObject({ code: 100, stderr: 'qmail-pw2u: option requires an argument -- c\n' });
  });

  it('users/include and users/exclude (case-insensitive; comments and blank lines ignored)', async () => {
    const k = world();
    users(k, 'include', '# who\nALIAS \n\njoe\n');
    expect(lines(await pw2u(k))).toEqual([...alias, ...joe, '.', '']);
    const k2 = world();
    users(k2, 'exclude', 'JOE\n');
    expect(lines(await pw2u(k2))).toEqual([...alias, ...tail, '.', '']);
  });

  it('users/mailnames replaces the names (the later line for a user wins); unknown users are ignored', async () => {
    const k = world();
    users(k, 'mailnames', 'joe:ignored\njoe:joseph::j.smith\nghost:boo\n');
    expect(lines(await pw2u(k))).toEqual([
      ...alias,
      '=joseph:joe:507:100:/home/joe:::',
      '+joseph-:joe:507:100:/home/joe:-::',
      '=j.smith:joe:507:100:/home/joe:::',
      '+j.smith-:joe:507:100:/home/joe:-::',
      ...tail,
      '.',
      '',
    ]);
  });

  it('users/subusers and users/append come after the accounts', async () => {
    const k = world();
    users(k, 'subusers', 'sales:joe:sales:\nbroken:joe:nocolon\nnocolons\n');
    users(k, 'append', '=extra:x:1:1:/x:::\nno newline');
    expect(lines(await pw2u(k))).toEqual([
      ...alias,
      ...joe,
      ...tail,
      '=sales:joe:507:100:/home/joe:-:sales:',
      '+sales-:joe:507:100:/home/joe:-:sales-:',
      '=extra:x:1:1:/x:::',
      'no newline.',
      '',
    ]);
  });

  it('fatal: a subuser of an unknown user, no alias account', async () => {
    const k = world();
    users(k, 'subusers', 'sales:ghost:sales:\n');
    expect(await pw2u(k)).toMatchObject({ code: 111, stderr: 'qmail-pw2u: fatal: unable to find ghost user for subuser\n' });
    expect(await pw2u(world(), [], 'joe:x:507:100::/home/joe:/bin/sh\n')).toMatchObject({ code: 111, stderr: 'qmail-pw2u: fatal: unable to find alias user\n' });
  });

  it('a home that cannot be stat()ed for another reason than ENOENT is fatal', async () => {
    const k = world();
    const h = k.spawn(`${home}/bin/qmail-pw2u`, ['qmail-pw2u'], { stdin: passwd });
    k.fs.setFaultHook((op, p) => (op === 'stat' && p === '/home/joe' ? 'EACCES' : null));
    const done = h.wait();
    await k.run({ until: () => h.status() !== null });
    expect(await done).toMatchObject({ code: 111, stderr: 'qmail-pw2u: fatal: unable to stat /home/joe\n' });
  });
});

describe('qmail-pw2u + qmail-newu agree with qmail-getpw (sim)', () => {
  const name = fc.stringMatching(/^[a-z][a-z.-]{0,6}$/);
  const account = fc.record({ name, home: fc.constantFrom('own', 'none', 'other'), root: fc.boolean() });
  const local = fc.oneof(name, fc.tuple(name, name).map(([a, b]) => `${a}-${b}`), fc.constantFrom('root', 'alias-x', 'ALIAS', '-x', 'Joe-Foo'));

  it('every address resolves to the same six fields both ways', async () => {
    await checkProperty(
      file,
      fc.asyncProperty(fc.uniqueArray(account, { selector: (a) => a.name, maxLength: 6 }), fc.array(local, { minLength: 1, maxLength: 6 }), async (accounts, locals) => {
        const k = newKernel(3);
        k.mkdirs(`${home}/users`, root);
        for (const [n, main] of [['qmail-pw2u', pw2uMain], ['qmail-newu', newuMain], ['qmail-getpw', getpwMain]] as const) {
          k.programs.register(n, main);
          k.install(`${home}/bin/${n}`, n, root);
        }
        const all = [{ name: 'alias', home: 'own', root: false }, ...accounts.filter((a) => a.name !== 'alias')];
        const pw: string[] = [];
        all.forEach((a, i) => {
          const uid = a.root ? 0 : 1000 + i;
          const dir = `/home/u${i}`;
          k.users.addUser({ name: a.name, uid, gid: 100, home: dir });
          if (a.home !== 'none') k.mkdirs(dir, { uid: a.home === 'own' ? uid : 4242, gid: 100, mode: 0o755 });
          pw.push(`${a.name}:x:${uid}:100::${dir}:/bin/sh`);
        });
        const made = await pw2u(k, [], pw.join('\n') + '\n');
        expect(made.code).toBe(0);
        k.writeFile(`${home}/users/assign`, made.stdout, { ...root, mode: 0o644 });
        expect((await runInSim(k, `${home}/bin/qmail-newu`, ['qmail-newu'])).code).toBe(0);
        const cdb = CdbReader.open(k.fs.peekFile(`${home}/users/cdb`)!);
        for (const l of locals) {
          const viaGetpw = await runInSimBytes(k, `${home}/bin/qmail-getpw`, ['qmail-getpw', l]);
          expect(viaGetpw.exit.code).toBe(0);
          const m = assignLookup(cdb, new TextEncoder().encode(l));
          expect('value' in m, l).toBe(true);
          if (!('value' in m)) return;
          expect(userRecordOf(m.value, false), `${l} in ${made.stdout}`).toEqual(userRecordOf(viaGetpw.out, true));
        }
      }),
      { numRuns: 40 },
    );
  });
});
