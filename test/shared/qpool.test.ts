// qpool/'s give/take protocol (impl/shared/file-pool.ts, impl/clean/remove.ts,
// impl/queue/enqueue.ts; spec/queue.md 8) under every crash state the posix profile allows, at every
// point of a run after the first message is queued (ALICE style, as test/shared/file-pool.test.ts:
// the world is rebuilt for each point and each answer sequence of the crash, walked depth first).
//
// The run, as qmailq: message A is queued (its files created: the pool is empty); qmail-clean's
// todo/A gives A's intd (= todo) inode to qpool/ and, while its directory fsyncs are not yet done,
// message B is queued; then foop/A gives A's mess; then message C is queued from the pool: it takes
// A's two inodes, and so gets a number of A's. The properties, whatever survives the power loss:
//   * every todo/X holds the envelope of the message whose mess/S/X it names, and mess/S/X exists,
//     has inode number X and holds that message's body: a recycled file never mixes two messages;
//   * qpool/'s free names each name a file with one name and its own inode number.
// A qmail-clean that publishes intd at once (before todo/A's removal is durable) breaks the first:
// B overwrites A's envelope, and todo/A comes back with B's bytes. The walk must find that.

import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { PoolGiver, PoolTaker, qpoolDirName } from '../../impl/shared/file-pool.ts';
import { bytesSource, enqueue } from '../../impl/queue/enqueue.ts';
import { runGroup } from '../../impl/clean/remove.ts';
import { messagePath, type QueueLayout } from '../../spec/queue.ts';
import { qq } from '../../spec/exit-codes.ts';
import { Kernel } from '../../sim/kernel.ts';
import { simIds } from '../../sim/install.ts';
import { addProgram, enc } from '../sim/helpers.ts';
import { walkCrashStates } from '../support/crash-walk.ts';

type Variant = 'protocol' | 'publish-at-once';

/** A qmail-clean that makes a given intd free at once, under its inode number (the bug the hidden
 *  step prevents). */
function publishAtOnce(sys: Sys): Sys {
  const rename = async (from: string, to: string): Promise<void> => {
    if (!/\/qpool\/\.[0-9]+\.t$/.test(to)) return sys.fs.rename(from, to);
    const st = await sys.fs.lstat(from);
    return sys.fs.rename(from, to.replace(/\.[0-9]+\.t$/, String(st.ino)));
  };
  return { ...sys, fs: { ...sys.fs, rename } };
}

/** Every syncDir waits for `first` to have run (once): a message queued inside the group's window. */
function syncAfter(sys: Sys, first: () => Promise<void>): Sys {
  let ran: Promise<void> | null = null;
  const syncDir = async (path: string): Promise<void> => {
    ran ??= first();
    await ran;
    return sys.fs.syncDir(path);
  };
  return { ...sys, fs: { ...sys.fs, syncDir } };
}

async function queueOne(sys: Sys, q: QueueLayout, tag: string): Promise<number> {
  let n = 0;
  const r = await enqueue(sys, q, {
    message: bytesSource(enc(`Subject: ${tag}\n\nbody ${tag}\n`)),
    envelope: bytesSource(enc(`Fsender@example\0T${tag}@example\0\0`)),
    received: enc('Received: (qmail 1 invoked by uid 0); 1 Jan 2026 00:00:00 -0000\n'),
    uid: 0,
    pid: sys.proc.self.pid,
    pidNames: (function* () {
      while (n < 9) yield `${sys.proc.self.pid}.0.${tag}${++n}`;
    })(),
    pool: PoolTaker.forQueue(sys, q.dir, qpoolDirName),
  });
  expect(r.code).toBe(qq.ok);
  return r.id as number;
}

async function world(variant: Variant): Promise<{ k: Kernel; aQueued: () => boolean; done: () => boolean; q: QueueLayout }> {
  const k = new Kernel({ seed: 1 });
  // The queue's directories only (installQmail's queue-fix run would cost more than the walk).
  const q: QueueLayout = { dir: '/var/qmail/queue', split: 7, bigtodo: false };
  const owner = { uid: simIds.users.qmailq, gid: simIds.groups.qmail, mode: 0o700 };
  for (const d of ['pid', 'intd', 'todo', 'qpool', 'lock', ...Array.from({ length: 7 }, (_, s) => `mess/${s}`)]) k.mkdirs(`${q.dir}/${d}`, owner);
  let a: number | null = null;
  const path = addProgram(k, 'qpool-run', async (sys) => {
    const aId = await queueOne(sys, q, 'a');
    // A settled (qmail-queue leaves pid/ and intd/ unsynced): fewer pending names to walk.
    for (const d of ['pid', 'intd']) await sys.fs.syncDir(`${q.dir}/${d}`);
    a = aId;
    const cleanSys = variant === 'publish-at-once' ? publishAtOnce(sys) : sys;
    const giver = await PoolGiver.open(cleanSys, q.dir, { dirName: qpoolDirName });
    const inWindow = syncAfter(cleanSys, async () => {
      await queueOne(sys, q, 'b');
      await sys.fs.syncDir(`${q.dir}/pid`);
    });
    expect(await runGroup(inWindow, q, [{ kind: 'todo', id: aId }], giver)).toEqual(['+']);
    expect(await runGroup(cleanSys, q, [{ kind: 'message', id: aId }], giver)).toEqual(['+']);
    await queueOne(sys, q, 'c');
    return 0;
  });
  const h = k.spawn(path, ['qpool-run'], { uid: simIds.users.qmailq, gid: simIds.groups.qmail });
  return { k, aQueued: () => a !== null, done: () => h.status() !== null, q };
}

/** What is wrong with the queue after the crash: a todo/X not matching its mess, a bad free file. */
function violations(k: Kernel, q: QueueLayout): string[] {
  const bad: string[] = [];
  for (const name of k.fs.peekDir(`${q.dir}/todo`) ?? []) {
    const id = Number(name);
    const todo = latin1(k.fs.peekFile(`${q.dir}/todo/${name}`) ?? new Uint8Array());
    const messPath = `${q.dir}/${messagePath('mess', id, q)}`;
    const mess = k.fs.peekFile(messPath);
    const st = k.fs.peekStat(messPath);
    const tag = /\0T([a-z]+)@example\0$/.exec(todo)?.[1];
    if (tag === undefined) bad.push(`todo/${id} is no envelope: ${JSON.stringify(todo)}`);
    else if (mess === null || st === null) bad.push(`todo/${id} (${tag}) has no mess`);
    else if (st.ino !== id) bad.push(`mess of ${id} has inode ${st.ino}`);
    else if (!latin1(mess).endsWith(`\n\nbody ${tag}\n`)) bad.push(`todo/${id} (${tag}) beside mess ${JSON.stringify(latin1(mess))}`);
  }
  for (const name of k.fs.peekDir(`${q.dir}/qpool`) ?? []) {
    if (name.startsWith('.')) continue; // removed by the next qmail-clean's start
    const st = k.fs.peekStat(`${q.dir}/qpool/${name}`);
    if (st === null || st.nlink !== 1 || String(st.ino) !== name) bad.push(`qpool/${name}: ${st?.nlink} names, inode ${st?.ino}`);
  }
  return bad;
}

async function explore(variant: Variant): Promise<{ states: number; bad: string[]; recycled: boolean }> {
  const clean = await world(variant);
  const before = (await clean.k.run({ until: clean.aQueued })).events;
  const events = before + (await clean.k.run({ until: clean.done })).events;
  expect(clean.done()).toBe(true);
  // C took A's files: the last todo names an inode that A's mess or intd had.
  const recycled = (clean.k.fs.peekDir(`${clean.q.dir}/qpool`) ?? []).length === 0;
  const bad: string[] = [];
  const states = await walkCrashStates(before, events, () => world(variant), (w, label) => {
    for (const v of violations(w.k, w.q)) bad.push(`${label}: ${v}`);
  });
  return { states, bad, recycled };
}

describe('qpool/: mess and intd given by qmail-clean and taken by qmail-queue under every crash state', () => {
  it('a queued message\'s todo and mess are its own after any power loss, at any point', async () => {
    const r = await explore('protocol');
    console.log(`qpool crash walk: ${r.states} states`);
    expect(r.recycled).toBe(true);
    expect(r.states).toBeGreaterThan(100);
    expect(r.bad).toEqual([]);
  }, 600_000);

  it('a qmail-clean that frees intd before todo\'s removal is durable is caught: todo/A comes back with B\'s bytes', async () => {
    const r = await explore('publish-at-once');
    expect(r.bad.length).toBeGreaterThan(0);
    expect(r.bad.join('\n')).toMatch(/todo\/[0-9]+ (is no envelope|\(a\) beside mess)/);
  }, 600_000);
});
