// The crash property of issue 2, in the simulator: any seed, any crash points while many qmail-queue
// runs are in flight, each crash profile. After each crash queue-fix repairs the queue; at the end the
// OSSIFIED cleanup runs. Every run that exited 0 is queued with byte-identical message and envelope;
// every other run is fully queued or leaves only what the cleanup removes.
//
// Replay a failure: SEED=<seed> npx vitest run test/scenarios/queue-crash.test.ts
// (or the qsim command printed with it).

import { describe, expect, it } from 'vitest';
import { expectDeterministic } from '../support/scenario-checks.ts';
import fc from 'fast-check';
import { runQueueCrash, type QueueCrashOpts } from '../../sim/scenarios/queue-crash.ts';
import { replayCommand } from '../../sim/cli.ts';
import { main as qmailQueue } from '../../impl/queue/main.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';

const envSeed = process.env['SEED'];
const profiles: CrashProfile[] = ['posix', 'ext4-ordered', 'sync'];

function small(seed: number, profile: CrashProfile, extra: Partial<QueueCrashOpts> = {}): QueueCrashOpts {
  return { seed, messages: 60, clients: 8, crashes: 4, profile, split: 7, ...extra };
}

async function holds(opts: QueueCrashOpts): Promise<void> {
  const r = await runQueueCrash(opts);
  const why = `seed ${opts.seed}: ${r.violations.slice(0, 5).join('; ')}\nreplay: ${replayCommand(opts)}\n   or: SEED=${opts.seed} npx vitest run test/scenarios/queue-crash.test.ts`;
  expect(r.violations, why).toEqual([]);
  expect(r.counts.accepted + r.counts.refused + r.counts.cut).toBe(opts.messages);
}

/** qmail-queue with one durability step taken out: the property must catch it. */
function broken(drop: 'syncDir' | 'fsync'): Program {
  return (sys: Sys) => {
    const fs = new Proxy(sys.fs, {
      get(target, prop, receiver) {
        if (prop === drop) return async () => undefined;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return qmailQueue({ ...sys, fs });
  };
}

describe('queue crash property (sim)', () => {
  for (const profile of profiles) {
    it(`holds under ${profile} for random seeds`, async () => {
      const seeds = envSeed === undefined ? fc.integer({ min: 1, max: 2 ** 31 - 1 }) : fc.constant(Number(envSeed));
      await fc.assert(
        fc.asyncProperty(seeds, fc.boolean(), async (seed, bigtodo) => holds(small(seed, profile, { bigtodo }))),
        { numRuns: envSeed === undefined ? 6 : 1, endOnFailure: true },
      );
    });
  }

  it('holds for a larger run with many crashes', async () => {
    await holds({ seed: Number(envSeed ?? 20261121), messages: 400, clients: 24, crashes: 12, profile: 'posix', split: 23 });
  });

  it('is deterministic: the same seed gives the same trace', async () => {
    const opts = small(Number(envSeed ?? 4242), 'posix');
    await expectDeterministic(runQueueCrash, opts);
  });
});

describe('the property catches a writer that skips a durability step', () => {
  for (const drop of ['syncDir', 'fsync'] as const) {
    it(`qmail-queue without ${drop} loses accepted mail under posix`, async () => {
      const failing: number[] = [];
      for (let seed = 1; seed <= 40 && failing.length === 0; seed++) {
        const r = await runQueueCrash({ ...small(seed, 'posix'), crashes: 6, queueProgram: broken(drop) });
        if (r.violations.length > 0) failing.push(seed);
      }
      expect(failing.length, `no seed in 1..40 exposed the missing ${drop}`).toBeGreaterThan(0);
    });
  }

  it('the same broken writer passes under sync, where the file system forgives it', async () => {
    await holds({ ...small(3, 'sync'), queueProgram: broken('syncDir') });
  });
});
