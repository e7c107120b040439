// The delivery worker pool in the simulator (spec/spawn.md): one worker per user, reused; idle
// workers retire after workerIdleMs of virtual time; the pool and per-worker bounds hold under a load
// spike, with the least recently used idle worker evicted to make room.

import { describe, expect, it } from 'vitest';
import { messageText, queueMessage, tokensIn, userFile, addLocalUser } from '../../sim/scenarios/lspawn-world.ts';
import type { SpawnJob } from '../../sim/scenarios/send-stand-in.ts';
import { workerDeliveriesMax, workerIdleMs, workerPoolMax } from '../../spec/spawn.ts';
import type { Kernel } from '../../sim/kernel.ts';
import { events, spawnsOf, testWorld } from './helpers.ts';
import { lspawnWithPool } from '../../impl/lspawn/main.ts';

function jobs(messid: string, recipients: string[], from = 0): SpawnJob[] {
  return recipients.map((recipient, i) => ({ index: from + i, messid, sender: 'a@b', recipient }));
}

/** Live processes running this program now. */
function live(k: Kernel, program: string): number {
  let n = 0;
  for (const p of k.procs.values()) if (p.exe.endsWith(`/${program}`)) n++;
  return n;
}

describe('worker pool (sim)', () => {
  it('reuses one worker per user across deliveries', async () => {
    const w = await testWorld({ seed: 11, users: 3 });
    const m = queueMessage(w, 2001, messageText(1));
    const rcpts = Array.from({ length: 30 }, (_, i) => `user${(i % 3) + 1}@x`);
    const ledger = await w.sends.run({ jobs: jobs(m, rcpts), concurrency: 10 });
    expect(ledger.attempts.every((a) => a.report === 'Kdid 1+0+0\n')).toBe(true);
    const workers = spawnsOf(w, 'qmail-local-worker');
    expect(workers.map((s) => s.uid).sort()).toEqual([2001, 2002, 2003]);
    for (const u of w.users) expect(tokensIn(w.k, `${u.home}/Maildir`).get(1)).toBe(10);
  });

  it('retires an idle worker after workerIdleMs, while lspawn lives on', async () => {
    const w = await testWorld({ seed: 12, users: 1 });
    const m = queueMessage(w, 2002, messageText(2));
    const { ledger, handle } = w.sends.start({ jobs: jobs(m, ['user1@x', 'user1@x']), holdMs: 3 * workerIdleMs });
    await w.k.run({ until: () => ledger.attempts.every((a) => a.report !== null) && ledger.attempts.length === 2 });
    const reportedAt = w.k.nowMs;
    await w.k.run({ until: () => events(w, 'lspawn.worker_exited').length > 0 });
    const idleFor = w.k.nowMs - reportedAt;
    expect(idleFor).toBeGreaterThanOrEqual(workerIdleMs);
    expect(idleFor).toBeLessThan(workerIdleMs + 1000);
    expect(events(w, 'lspawn.worker_idle').length).toBe(1);
    expect(handle.status()).toBeNull(); // lspawn and the stand-in still run
    await w.k.run({ until: () => handle.status() !== null });
    expect(ledger.lspawnStatus).toEqual({ code: 0, signal: null });
  });

  it('holds the pool bound in a spike over more users than workers, evicting idle workers', async () => {
    // A pool of 8 (spec: workerPoolMax, which is spawnConcurrency) under 120 deliveries in flight
    // to 30 users: deliveries wait for a worker, idle ones are evicted, the bound holds.
    const poolMax = 8;
    const users = 30;
    const w = await testWorld({ seed: 13, users, override: { 'qmail-lspawn': lspawnWithPool({ poolMax }) } });
    const m = queueMessage(w, 2003, messageText(3));
    const rcpts = Array.from({ length: users * 4 }, (_, i) => `user${(i % users) + 1}@x`);
    const { ledger, handle } = w.sends.start({ jobs: jobs(m, rcpts), concurrency: 120 });
    let maxWorkers = 0;
    await w.k.run({
      until: () => {
        maxWorkers = Math.max(maxWorkers, live(w.k, 'qmail-local-worker'));
        return handle.status() !== null;
      },
    });
    expect(ledger.attempts.filter((a) => a.report !== 'Kdid 1+0+0\n')).toEqual([]);
    expect(ledger.maxInFlight).toBe(120);
    expect(maxWorkers).toBe(poolMax);
    expect(events(w, 'lspawn.worker_evicted').length).toBeGreaterThan(0);
    for (const u of w.users) expect(tokensIn(w.k, `${u.home}/Maildir`).get(3), u.name).toBe(4);
    expect(live(w.k, 'qmail-local-worker')).toBe(0);
  });

  it('the default pool holds one worker per user of a burst as large as qmail-send can make', async () => {
    const w = await testWorld({ seed: 16, users: 100 });
    const m = queueMessage(w, 2006, messageText(6));
    const rcpts = Array.from({ length: 300 }, (_, i) => `user${(i % 100) + 1}@x`);
    const ledger = await w.sends.run({ jobs: jobs(m, rcpts), concurrency: 120 });
    expect(ledger.attempts.filter((a) => a.report !== 'Kdid 1+0+0\n')).toEqual([]);
    expect(workerPoolMax).toBeGreaterThanOrEqual(100);
    expect(spawnsOf(w, 'qmail-local-worker').length).toBe(100);
    expect(events(w, 'lspawn.worker_evicted')).toEqual([]);
  });

  it('runs at most workerDeliveriesMax deliveries on one worker at once; the rest wait', async () => {
    const w = await testWorld({ seed: 14, users: 1 });
    userFile(w.k, w.users[0]!, '.qmail-slow', '|sim-sleep 2000\n');
    const m = queueMessage(w, 2004, messageText(4));
    const { ledger, handle } = w.sends.start({ jobs: jobs(m, Array.from({ length: 50 }, () => 'user1-slow@x')), concurrency: 50 });
    let maxPrograms = 0;
    await w.k.run({
      until: () => {
        maxPrograms = Math.max(maxPrograms, live(w.k, 'sim-sleep'));
        return handle.status() !== null;
      },
    });
    expect(ledger.attempts.filter((a) => a.report !== 'Kdid 0+0+1\n')).toEqual([]);
    expect(maxPrograms).toBe(workerDeliveriesMax);
    expect(spawnsOf(w, 'qmail-local-worker').length).toBe(1);
  });

  it('a user whose home differs gets a worker of its own (the key includes the home)', async () => {
    const w = await testWorld({ seed: 15, users: 1 });
    addLocalUser(w.k, 'twin', 2001, '/home/twin');
    const m = queueMessage(w, 2005, messageText(5));
    // twin has user1's uid but its own home: getpw rejects it (home owner check passes: same uid).
    const ledger = await w.sends.run({ jobs: jobs(m, ['user1@x', 'twin@x']) });
    expect(ledger.attempts.map((a) => a.report)).toEqual(['Kdid 1+0+0\n', 'Kdid 1+0+0\n']);
    expect(spawnsOf(w, 'qmail-local-worker').length).toBe(2);
  });
});
