// Fault properties of qmail-lspawn and its worker pool, in the simulator, for random seeds: kill -9
// of a worker or of lspawn at any point, and power loss, never lose or double a report, a K is
// always in the maildir (durably), a delivery caught by a dead worker is reported Z and its retry
// succeeds (sim/scenarios/lspawn-faults.ts).
//
// Replay a failure: SEED=<seed> npx vitest run test/lspawn/faults-sim.test.ts

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runLspawnFaults, type LspawnFault, type LspawnFaultOpts } from '../../sim/scenarios/lspawn-faults.ts';
import { workerMain } from '../../impl/local-worker/main.ts';
import { qmailLocal } from '../../impl/local/qmail-local.ts';
import type { Program } from '../../impl/sys/types.ts';

const envSeed = process.env['SEED'];
const file = 'test/lspawn/faults-sim.test.ts';
/** Fixed seeds tried at most when the random ones never killed a busy worker. */
const busyKillSeedsMax = 20;

async function holds(opts: LspawnFaultOpts): Promise<Awaited<ReturnType<typeof runLspawnFaults>>> {
  const r = await runLspawnFaults(opts);
  const why = `seed ${opts.seed} (${opts.fault}): ${r.violations.slice(0, 6).join('; ')}\nreplay: SEED=${opts.seed} npx vitest run ${file}`;
  expect(r.violations, why).toEqual([]);
  return r;
}

function seeds(): fc.Arbitrary<number> {
  return envSeed === undefined ? fc.integer({ min: 1, max: 2 ** 31 - 1 }) : fc.constant(Number(envSeed));
}

describe('qmail-lspawn under faults (sim)', () => {
  for (const fault of ['kill-worker', 'kill-lspawn', 'power-loss'] as LspawnFault[]) {
    it(`${fault}: no lost or doubled report; every K delivered; every job delivered in the end`, async () => {
      let crashed = 0;
      let struck = 0;
      await fc.assert(
        fc.asyncProperty(seeds(), async (seed) => {
          const r = await holds({ seed, fault, deliveries: 30, users: 4, concurrency: 10 });
          crashed += r.crashedReports;
          struck += r.strikes;
        }),
        { numRuns: envSeed === undefined ? 6 : 1, endOnFailure: true },
      );
      expect(struck).toBeGreaterThan(0);
      // The property must have met a kill of a busy worker. About one random seed in two gives one
      // (so 6 missed it in about 1 run of the test in 100): fixed seeds top them up until one does.
      for (let extra = 1; fault === 'kill-worker' && envSeed === undefined && crashed === 0 && extra <= busyKillSeedsMax; extra++) {
        crashed += (await holds({ seed: extra * 7919, fault, deliveries: 30, users: 4, concurrency: 10 })).crashedReports;
      }
      if (fault === 'kill-worker' && envSeed === undefined) expect(crashed, `no killed worker was busy in 6 random and ${busyKillSeedsMax} fixed runs`).toBeGreaterThan(0);
    });
  }

  it('a worker killed mid-delivery: Z for what it held, then the retry succeeds (fixed seed)', async () => {
    const runs = await Promise.all([101, 102, 103, 104].map((seed) => holds({ seed, fault: 'kill-worker', strikes: 4, deliveries: 30 })));
    expect(runs.reduce((n, r) => n + r.crashedReports, 0)).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same trace', async () => {
    const a = await runLspawnFaults({ seed: 77, fault: 'kill-worker' });
    const b = await runLspawnFaults({ seed: 77, fault: 'kill-worker' });
    const c = await runLspawnFaults({ seed: 78, fault: 'kill-worker' });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
    expect(c.traceHash).not.toBe(a.traceHash);
  });
});

/** A worker whose qmail-local skips one durability step: the power-loss property must catch it. */
function brokenWorker(drop: 'syncDir' | 'fsync'): Program {
  return workerMain((sys, args, message, env) => {
    const fs = new Proxy(sys.fs, {
      get(target, prop, receiver) {
        if (prop === drop) return async () => undefined;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return qmailLocal({ ...sys, fs }, args, message, env);
  });
}

describe('the power-loss property catches a worker that reports K too early', () => {
  for (const drop of ['syncDir', 'fsync'] as const) {
    it(`a qmail-local without ${drop} loses K-reported mail under posix`, async () => {
      let caught = 0;
      for (let seed = 1; seed <= 30 && caught === 0; seed++) {
        const r = await runLspawnFaults({ seed, fault: 'power-loss', deliveries: 30, worker: brokenWorker(drop) });
        if (r.violations.some((v) => v.includes('reported K, not in'))) caught = seed;
      }
      expect(caught, `no seed in 1..30 exposed the missing ${drop}`).toBeGreaterThan(0);
    });
  }
});
