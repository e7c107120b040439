// pool/ (spec/queue.md 7, impl/shared/file-pool.ts): qmail-send gives a finished message's info
// and channel files to the pool (named by inode number), todo-proc makes the next messages' files
// from them, overwritten and cut to length when they were longer, durably; a queue without pool/ works as qmail's. In the simulator, with the
// real qmail-send, todo-proc and qmail-clean and scripted spawners.

import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import type { SendBoot } from '../../sim/boot-send.ts';
import type { SpawnAnswer, SpawnScript } from '../../sim/fake-spawner.ts';
import { checkLog, queueLeftovers } from '../../sim/checkers/send-state.ts';
import { simIds } from '../../sim/install.ts';
import { sendWorld, type SendWorld } from '../../sim/scenarios/send-world.ts';
import { addProgram } from '../sim/helpers.ts';

const K: SpawnAnswer = { report: 'Kdid 0+0+1\n', delayMs: 100 };
const Z: SpawnAnswer = { report: 'ZMailbox busy. (#4.2.1)\n', delayMs: 100 };
/** Recipients starting with z are deferred (their files stay), all others delivered. */
const script: SpawnScript = (r) => (r.recipient.startsWith('z') ? Z : K);

const split = 7;

async function world(): Promise<SendWorld> {
  return sendWorld({ seed: 5, split, local: script, remote: script, controls: { me: 'sim.example\n', locals: 'sim.example\n' } });
}

async function started(w: SendWorld): Promise<SendBoot> {
  const b = w.boot();
  await w.k.run({ until: () => b.log().includes('info: todo-proc: pid') || b.handle.status() !== null });
  return b;
}

async function runUntil(w: SendWorld, f: () => boolean): Promise<void> {
  await w.k.run({ until: f, untilMs: w.k.nowMs + 3_600_000 });
  expect(f()).toBe(true);
}

/** Runs `f` as root in the world (to shape the queue as an administrator or a crash would). */
async function asRoot(w: SendWorld, f: (sys: Sys) => Promise<void>): Promise<void> {
  const path = addProgram(w.k, `root-${w.k.nowMs}`, async (sys) => {
    await f(sys);
    return 0;
  });
  const h = w.k.spawn(path, ['root']);
  await w.k.run({ until: () => h.status() !== null });
  expect(h.status()?.code).toBe(0);
}

const pool = (w: SendWorld): string => `${w.inst.queue.dir}/pool`;
const ids = (log: string, kind: 'end' | 'new'): number[] => [...log.matchAll(new RegExp(`^${kind} msg ([0-9]+)$`, 'gm'))].map((m) => Number(m[1]));

describe('pool/: recycled queue files', () => {
  it("a finished message's info and local go to pool/; the next message's are those files, rewritten to their exact bytes, durably", async () => {
    const w = await world();
    const b = await started(w);
    const long = ['a-very-long-recipient-name-number-one', 'a-very-long-recipient-name-number-two', 'a-very-long-recipient-name-three'];
    w.submit({ sender: 'a-rather-long-sender-address@somewhere.example', recipients: long.map((r) => `${r}@sim.example`) });
    await runUntil(w, () => ids(b.log(), 'end').length === 1);
    await w.k.run({ untilMs: w.k.nowMs + 5_000 });
    const names = w.k.fs.peekDir(pool(w)) ?? [];
    // info and local, each free under its own inode number; nothing hidden left.
    expect(names).toHaveLength(2);
    for (const n of names) expect(w.k.fs.peekStat(`${pool(w)}/${n}`)?.ino).toBe(Number(n));
    const pooled = new Set(names.map(Number));

    w.submit({ sender: 'x@y', recipients: ['zed@sim.example'] });
    await runUntil(w, () => ids(b.log(), 'new').length === 2);
    await w.k.run({ untilMs: w.k.nowMs + 5_000 });
    const id = ids(b.log(), 'new')[1] as number;
    const q = w.inst.queue.dir;
    const info = `${q}/info/${id % split}/${id}`;
    const local = `${q}/local/${id % split}/${id}`;
    expect(new Set([w.k.fs.peekStat(info)?.ino, w.k.fs.peekStat(local)?.ino])).toEqual(pooled);
    expect(w.k.fs.peekDir(pool(w))).toEqual([]);
    const check = (): void => {
      expect(latin1(w.k.fs.peekFile(info) as Uint8Array)).toBe('Fx@y\0');
      expect(latin1(w.k.fs.peekFile(local) as Uint8Array)).toBe('Tzed@sim.example\0');
      expect(w.k.fs.peekStat(local)?.mode).toBe(0o100600);
    };
    check();
    w.k.powerLoss();
    check();
    expect(w.k.fs.peekDir(pool(w))).toEqual([]);
  });

  it('removes the hidden names a killed qmail-send left at its start; a pool file todo-proc cannot write is dropped, the file created', async () => {
    const w = await world();
    const root = { uid: 0, gid: 0, mode: 0o600 };
    const qmails = { uid: simIds.users.qmails, gid: simIds.groups.qmail, mode: 0o600 };
    w.k.writeFile(`${pool(w)}/.77.l`, 'Tleft@sim.example\0', qmails);
    w.k.writeFile(`${pool(w)}/9`, 'T'.repeat(200), root);
    // Under its inode number, so that only the open for writing refuses it.
    const stray = String(w.k.fs.peekStat(`${pool(w)}/9`)?.ino);
    await asRoot(w, (sys) => sys.fs.rename(`${pool(w)}/9`, `${pool(w)}/${stray}`));
    const b = await started(w);
    await w.k.run({ untilMs: w.k.nowMs + 2_000 });
    expect(w.k.fs.peekDir(pool(w))).toEqual([stray]);
    w.submit({ sender: 'x@y', recipients: ['zoe@sim.example', 'joe@sim.example'] });
    await runUntil(w, () => b.log().includes('delivery 2:'));
    const id = ids(b.log(), 'new')[0] as number;
    const local = `${w.inst.queue.dir}/local/${id % split}/${id}`;
    expect(latin1(w.k.fs.peekFile(local) as Uint8Array)).toMatch(/^[TD]zoe@sim\.example\0[TD]joe@sim\.example\0$/);
    expect(w.k.fs.peekStat(local)?.uid).toBe(simIds.users.qmails);
    expect(w.k.fs.peekDir(pool(w))).toEqual([]);
    expect(checkLog(b.log()).violations).toEqual([]);
    expect(b.log()).not.toMatch(/warning/);
  });

  it('a queue without pool/ (made by another qmail) is served as qmail does: files created and unlinked', async () => {
    const w = await world();
    await asRoot(w, async (sys) => {
      await sys.fs.rmdir(pool(w));
      await sys.fs.syncDir(w.inst.queue.dir);
    });
    const b = await started(w);
    for (let i = 0; i < 3; i++) w.submit({ sender: 'x@y', recipients: [`joe${i}@sim.example`] });
    await runUntil(w, () => ids(b.log(), 'end').length === 3);
    await w.k.run({ untilMs: w.k.nowMs + 5_000 });
    expect(w.k.fs.peekStat(pool(w))).toBeNull();
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
    expect(b.log()).not.toMatch(/warning/);
  });
});
