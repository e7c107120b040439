// qmail-newu in the simulator: the cdb it writes, its fatal messages, and durability under the
// strictest crash profile: a power loss at any event leaves users/cdb either the old file or the
// complete new one, and after exit 0 always the new one. A qmail-newu without the directory fsync
// (qmail's own behaviour) must be caught losing the new file after exit 0.
// Replay: SEED=<n> npx vitest run test/newu/newu-sim.test.ts

import { describe, expect, it } from 'vitest';
import { main as newuMain } from '../../impl/newu/main.ts';
import { parseAssign } from '../../impl/lib/assign.ts';
import { cdbMake } from '../../impl/lib/cdb.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';
import type { Kernel } from '../../sim/kernel.ts';
import type { FaultHook } from '../../sim/fs-api.ts';
import type { WorldExit } from '../../sim/world.ts';
import { newKernel } from '../sim/helpers.ts';
import { runInSim } from '../support/sim-program.ts';

const home = '/var/qmail';
const root = { uid: 0, gid: 0, mode: 0o755 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

const oldAssign = '=old:old:600:100:/home/old:::\n.\n';
const newAssign = ['=joe:joe:507:100:/home/joe:::', '+joe-:joe:507:100:/home/joe:-::', '+:alias:7790:2108:/var/qmail/alias:-::', '.', ''].join('\n');

function cdbOf(assign: string): Uint8Array {
  const r = parseAssign(enc(assign));
  if (!('records' in r)) throw new Error('format');
  return cdbMake(r.records);
}

function world(seed: number, program: Program = newuMain): Kernel {
  const k = newKernel(seed, { profile: 'posix' });
  k.mkdirs(`${home}/users`, root);
  k.programs.register('qmail-newu', program);
  k.install(`${home}/bin/qmail-newu`, 'qmail-newu', root);
  k.writeFile(`${home}/users/cdb`, cdbOf(oldAssign), { ...root, mode: 0o644 });
  k.writeFile(`${home}/users/assign`, newAssign, { ...root, mode: 0o644 });
  return k;
}

/** Runs qmail-newu; `fault` is installed once the program is loaded (exec reads its file too). */
async function newu(k: Kernel, fault: FaultHook | null = null): Promise<WorldExit> {
  const h = k.spawn(`${home}/bin/qmail-newu`, ['qmail-newu']);
  k.fs.setFaultHook(fault);
  const done = h.wait();
  await k.run({ until: () => h.status() !== null });
  k.fs.setFaultHook(null);
  return done;
}

describe('qmail-newu (sim)', () => {
  it('writes users/cdb: the records of users/assign in order, mode 0644, no cdb.tmp left', async () => {
    const k = world(1);
    const r = await newu(k);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(hex(k.fs.peekFile(`${home}/users/cdb`))).toBe(hex(cdbOf(newAssign)));
    expect(k.fs.peekStat(`${home}/users/cdb`)!.mode & 0o7777).toBe(0o644);
    expect(k.fs.peekFile(`${home}/users/cdb.tmp`)).toBeNull();
  });

  it('finds its home through the installed path or QMAILHOME', async () => {
    const k = world(2);
    k.mkdirs('/other/users', root);
    k.writeFile('/other/users/assign', '.\n', { ...root, mode: 0o644 });
    expect((await runInSim(k, `${home}/bin/qmail-newu`, ['qmail-newu'], { env: { QMAILHOME: '/other' } })).code).toBe(0);
    expect(hex(k.fs.peekFile('/other/users/cdb'))).toBe(hex(cdbMake([[new Uint8Array(0), new Uint8Array(0)]])));
  });

  it('bad format: qmail\'s message, exit 111, users/cdb untouched', async () => {
    const k = world(3);
    k.writeFile(`${home}/users/assign`, '=joe:joe:507\n.\n', { ...root, mode: 0o644 });
    expect(await newu(k)).toMatchObject({ code: 111, stderr: 'qmail-newu: fatal: bad format in users/assign\n' });
    expect(hex(k.fs.peekFile(`${home}/users/cdb`))).toBe(hex(cdbOf(oldAssign)));
  });

  it('each failing step has its own fatal message and exit 111', async () => {
    const cases: [string, FaultHook, string][] = [
      ['no assign', (op, p) => (op === 'open' && p?.endsWith('users/assign') ? 'ENOENT' : null), 'unable to open users/assign'],
      ['read error', (op) => (op === 'read' ? 'EIO' : null), 'unable to read users/assign'],
      ['cdb.tmp', (op, p) => (op === 'open' && p?.endsWith('cdb.tmp') ? 'EACCES' : null), 'unable to open users/cdb.tmp'],
      ['disk full', (op) => (op === 'write' ? 'ENOSPC' : null), 'unable to write users/cdb.tmp'],
      ['fsync', (op) => (op === 'fsync' ? 'EIO' : null), 'unable to write users/cdb.tmp'],
      ['rename', (op) => (op === 'rename' ? 'EIO' : null), 'unable to move users/cdb.tmp to users/cdb'],
      ['sync users', (op, p) => (op === 'open' && (p === 'users' || p?.endsWith('/users')) ? 'EIO' : null), 'unable to sync users'],
    ];
    for (const [name, fault, message] of cases) {
      const k = world(4);
      expect(await newu(k, fault), name).toMatchObject({ code: 111, stderr: `qmail-newu: fatal: ${message}\n` });
      // A failed directory fsync comes after the rename: the new file is there, maybe not durable.
      expect(hex(k.fs.peekFile(`${home}/users/cdb`)), name).toBe(hex(cdbOf(name === 'sync users' ? newAssign : oldAssign)));
    }
    const k = world(5);
    expect(await runInSim(k, `${home}/bin/qmail-newu`, ['qmail-newu'], { env: { QMAILHOME: '/nowhere' } })).toMatchObject({
      code: 111,
      stderr: 'qmail-newu: fatal: unable to chdir\n',
    });
  });
});

/** Runs qmail-newu for `events` events, cuts the power, and says what users/cdb became. */
async function crashAt(seed: number, events: number, program: Program): Promise<{ exited: number | null; cdb: 'old' | 'new' | 'other' }> {
  const k = world(seed, program);
  const h = k.spawn(`${home}/bin/qmail-newu`, ['qmail-newu']);
  await k.run({ maxEvents: events });
  const exited = h.status()?.code ?? null;
  k.powerLoss();
  const now = hex(k.fs.peekFile(`${home}/users/cdb`));
  return { exited, cdb: now === hex(cdbOf(oldAssign)) ? 'old' : now === hex(cdbOf(newAssign)) ? 'new' : 'other' };
}

async function eventsToFinish(seed: number): Promise<number> {
  const k = world(seed);
  const h = k.spawn(`${home}/bin/qmail-newu`, ['qmail-newu']);
  const r = await k.run({ until: () => h.status() !== null });
  return r.events;
}

/** qmail-newu as qmail writes it: no fsync of users/ after the rename. */
const withoutDirSync: Program = (sys: Sys) => newuMain({ ...sys, fs: new Proxy(sys.fs, { get: (t, p) => (p === 'syncDir' ? async () => undefined : (Reflect.get(t, p) as Function).bind(t)) }) });

describe('qmail-newu durability (sim, posix profile)', () => {
  const seeds = process.env['SEED'] === undefined ? Array.from({ length: 12 }, (_, i) => i + 1) : [Number(process.env['SEED'])];

  it('a power loss at any event leaves the old or the new users/cdb; after exit 0 the new one', async () => {
    let crashes = 0;
    const outcomes = new Set<string>();
    for (const seed of seeds) {
      const total = await eventsToFinish(seed);
      for (let n = 0; n <= total + 1; n++) {
        const r = await crashAt(seed, n, newuMain);
        crashes++;
        outcomes.add(r.cdb);
        const why = `seed ${seed}, crash after ${n} of ${total} events: users/cdb is ${r.cdb}, exit ${r.exited}\nreplay: SEED=${seed} npx vitest run test/newu/newu-sim.test.ts`;
        expect(r.cdb, why).not.toBe('other');
        if (r.exited === 0) expect(r.cdb, why).toBe('new');
      }
    }
    expect(crashes).toBeGreaterThan(50);
    expect([...outcomes].sort()).toEqual(['new', 'old']);
  });

  it('catches a qmail-newu without the directory fsync (qmail\'s) losing the new users/cdb after exit 0', async () => {
    const lost: number[] = [];
    for (let seed = 1; seed <= 40 && lost.length === 0; seed++) {
      const total = await eventsToFinish(seed);
      const r = await crashAt(seed, total + 1, withoutDirSync);
      expect(r.exited).toBe(0);
      if (r.cdb === 'old') lost.push(seed);
    }
    expect(lost.length, 'no seed in 1..40 lost the renamed users/cdb').toBeGreaterThan(0);
  });
});
