// The delivery property of issue 4 in the simulator: qmail-send, todo-proc and two qmail-cleans
// deliver generated traffic through scripted spawners while power losses (under each crash
// profile), kill -9 of qmail-send and kill -9 of todo-proc hit them; after a healed phase every
// recipient of every accepted message was delivered at least once or bounced, duplicates happened
// only across runs (and are counted), the queue is empty and every log line parses.
//
// Replay a failure with the command printed beside it, e.g.
//   SEED=7 MESSAGES=40 FAULTS=6 PROFILE=posix npx vitest run test/scenarios/send-crash.test.ts -t replay

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runSendCrash, sendCrashReplay, type FaultKind, type SendCrashOpts } from '../../sim/scenarios/send-crash.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';

const env = process.env;

async function holds(opts: SendCrashOpts): Promise<void> {
  const r = await runSendCrash(opts);
  const why = `seed ${opts.seed}: ${r.violations.slice(0, 6).join('; ')}\nreplay: ${sendCrashReplay(opts)}`;
  expect(r.violations, why).toEqual([]);
  expect(r.accepted, why).toBeGreaterThan(0);
}

describe('send crash property (sim)', () => {
  it.runIf(env['SEED'] !== undefined)('replay', async () => {
    await holds({
      seed: Number(env['SEED']), messages: Number(env['MESSAGES'] ?? 40), faults: Number(env['FAULTS'] ?? 6),
      profile: (env['PROFILE'] ?? 'posix') as CrashProfile, bigtodo: env['BIGTODO'] === '1',
      kinds: env['KINDS'] === undefined ? undefined : (env['KINDS'].split(',') as FaultKind[]),
    });
  });

  it('holds without faults, and then has no duplicates', async () => {
    const r = await runSendCrash({ seed: 11, messages: 40, faults: 0, profile: 'posix' });
    expect(r.violations).toEqual([]);
    expect(r.counts.duplicateDeliveries + r.counts.duplicateBounces).toBe(0);
    expect(r.counts.bounced).toBeGreaterThan(0);
  });

  it('holds under posix power losses for random seeds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.boolean(), async (seed, bigtodo) =>
        holds({ seed, messages: 30, faults: 5, profile: 'posix', bigtodo, kinds: ['power'] }),
      ),
      { numRuns: 3, endOnFailure: true },
    );
  });
});
