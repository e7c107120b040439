// The pool's give/take protocol (impl/shared/file-pool.ts, spec/queue.md 7) under every crash state
// the posix profile allows, at every point of a run (ALICE style: the world is rebuilt from scratch
// for each point and each answer sequence of the crash, walked depth first).
//
// The run interleaves the two sides as qmail-send and todo-proc can: qmail-send retires local/1/1
// (message 1 is finished) and, before its directory fsync ends, todo-proc makes message 2's file;
// then the fsync, the publish under the file's inode number, and todo-proc makes message 3's file
// from the pool (overwritten, cut only when it was longer). The property: whatever survives,
// local/1/1 either is gone or holds message 1's bytes: never another message's recipients beside
// mess/1. A pool that frees a file before its old name is durably gone (published at once under
// its inode number, a name the taker accepts) breaks it, and the test shows the walk finds that.
// Below: a recycled file is cut only when it was longer, and misnamed or two-named pool entries
// are never handed out.

import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { O } from '../../impl/sys/types.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import { PoolGiver, PoolTaker } from '../../impl/shared/file-pool.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds } from '../../sim/install.ts';
import { addProgram } from '../sim/helpers.ts';
import { walkCrashStates } from '../support/crash-walk.ts';

type Variant = 'protocol' | 'publish-at-once';

/** A qmail-send that puts a retired file straight under its free name, its inode number (the bug
 *  the hidden step prevents). */
function publishAtOnce(sys: Sys): Sys {
  const rename = async (from: string, to: string): Promise<void> => {
    if (!to.endsWith('/pool/.1.l')) return sys.fs.rename(from, to);
    const st = await sys.fs.lstat(from);
    return sys.fs.rename(from, to.replace(/\.1\.l$/, String(st.ino)));
  };
  return { ...sys, fs: { ...sys.fs, rename } };
}

async function world(variant: Variant): Promise<{ k: Kernel; done: () => boolean; queue: string }> {
  const k = new Kernel({ seed: 1 });
  const inst = await installQmail(k, { split: 7, bigtodo: false });
  const q = inst.queue.dir;
  k.writeFile(`${q}/local/1/1`, 'Tone@sim.example\0', { uid: simIds.users.qmails, gid: simIds.groups.qmail, mode: 0o600 });
  const write = async (sys: Sys, taker: PoolTaker, id: number): Promise<void> => {
    const path = `${q}/local/${id % 7}/${id}`;
    const taken = await taker.takeAt(path);
    const fd = taken?.fd ?? (await sys.fs.open(path, O.WRONLY | O.CREAT | O.EXCL, 0o600));
    const bytes = latin1Bytes(`Tmessage-${id}-recipient@elsewhere.example\0`);
    await sys.fs.write(fd, bytes, 0, bytes.length, 0);
    if ((taken?.size ?? 0) > bytes.length) await sys.fs.ftruncate(fd, bytes.length);
    await sys.fs.fsync(fd);
    await sys.fs.close(fd);
  };
  const path = addProgram(k, 'pool-run', async (sysIn) => {
    const send = variant === 'publish-at-once' ? publishAtOnce(sysIn) : sysIn;
    const giver = await PoolGiver.open(send, q);
    const taker = PoolTaker.forQueue(sysIn, q);
    expect(await giver.retire(`${q}/local/1/1`, '.1.l')).toBe('pooled');
    await taker.refill();
    await write(sysIn, taker, 2);
    await send.fs.syncDir(`${q}/local/1`);
    await giver.publish('.1.l');
    await taker.refill();
    await write(sysIn, taker, 3);
    await sysIn.fs.syncDir(`${q}/local/3`);
    await sysIn.fs.syncDir(`${q}/local/2`);
    await sysIn.fs.syncDir(`${q}/pool`);
    return 0;
  });
  const h = k.spawn(path, ['pool-run'], { uid: simIds.users.qmails, gid: simIds.groups.qmail });
  return { k, done: () => h.status() !== null, queue: q };
}

/** Every crash point and state; the states where local/1/1 holds someone else's bytes. */
async function explore(variant: Variant): Promise<{ states: number; bad: string[] }> {
  const clean = await world(variant);
  const events = (await clean.k.run({ until: clean.done })).events;
  expect(clean.done()).toBe(true);
  const bad: string[] = [];
  const states = await walkCrashStates(0, events, () => world(variant), (w, label) => {
    const f = w.k.fs.peekFile(`${w.queue}/local/1/1`);
    if (f !== null && latin1(f) !== 'Tone@sim.example\0') bad.push(`${label}: local/1/1 holds ${JSON.stringify(latin1(f))}`);
  });
  return { states, bad };
}

describe('pool/: give and take under every crash state', () => {
  it('a finished message\'s file is gone or its own after any power loss, at any point', async () => {
    const r = await explore('protocol');
    expect(r.states).toBeGreaterThan(50);
    expect(r.bad).toEqual([]);
  }, 120_000);

  it('a pool that frees a file before its removal is durable is caught: another message\'s recipients come back as local/1/1', async () => {
    const r = await explore('publish-at-once');
    expect(r.bad.length).toBeGreaterThan(0);
    expect(r.bad[0]).toMatch(/message-2-recipient/);
  }, 120_000);
});

describe('pool/: names by inode number', () => {
  it('hands out only one-named files under their own inode number, with their old length', async () => {
    const k = new Kernel({ seed: 2 });
    const inst = await installQmail(k, { split: 7, bigtodo: false });
    const q = inst.queue.dir;
    const own = { uid: simIds.users.qmails, gid: simIds.groups.qmail, mode: 0o600 };
    k.writeFile(`${q}/local/1/1`, 'Ta-rather-long-recipient@sim.example\0', own);
    k.writeFile(`${q}/info/5/5`, 'Fsender@sim.example\0', own);
    k.writeFile(`${q}/pool/4000`, 'a slot-named file of the earlier version', own);
    const seen: unknown[] = [];
    const path = addProgram(k, 'pool-names', (sys) => run(sys).catch((e: unknown) => {
      seen.push(String(e));
      return 1;
    }));
    const run = async (sys: Sys): Promise<number> => {
      const giver = await PoolGiver.open(sys, q);
      expect(await giver.retire(`${q}/local/1/1`, '.1.l')).toBe('pooled');
      await sys.fs.syncDir(`${q}/local/1`);
      await giver.publish('.1.l');
      // A second name in pool/ for a file in use (a crash of a non-atomic rename can leave one).
      const inUse = await sys.fs.lstat(`${q}/info/5/5`);
      await sys.fs.link(`${q}/info/5/5`, `${q}/pool/${inUse.ino}`);
      const taker = PoolTaker.forQueue(sys, q);
      await taker.refill();
      const taken: { size: number }[] = [];
      for (let t = await taker.takeAt(`${q}/local/2/2`); t !== null; t = await taker.takeAt(`${q}/local/2/2`)) {
        taken.push({ size: t.size });
        await sys.fs.close(t.fd);
      }
      seen.push(taken, (await sys.fs.readdir(`${q}/pool`)).sort(), (await sys.fs.lstat(`${q}/info/5/5`)).nlink);
      return 0;
    };
    const h = k.spawn(path, ['pool-names'], { uid: simIds.users.qmails, gid: simIds.groups.qmail });
    await k.run({ until: () => h.status() !== null });
    expect(seen).toEqual([[{ size: 'Ta-rather-long-recipient@sim.example\0'.length }], [], 1]);
  });
});
