// The delivery property of issue 4 in the simulator: qmail-send, todo-proc and two qmail-cleans
// deliver generated traffic through scripted spawners while power losses (under each crash
// profile), kill -9 of qmail-send and kill -9 of todo-proc hit them; after a healed phase every
// recipient of every accepted message was delivered at least once or bounced, duplicates happened
// only across runs and never after a message's end (they are counted), the queue is empty and every
// log line parses. Daemons with their directory fsyncs taken out must fail it.
//
// Replay a failure with the command printed beside it, e.g.
//   SEED=7 MESSAGES=40 FAULTS=6 PROFILE=posix npx vitest run test/scenarios/send-crash.test.ts -t replay

import { describe, expect, it } from 'vitest';
import { expectDeterministic } from '../support/scenario-checks.ts';
import fc from 'fast-check';
import { runSendCrash, sendCrashReplay, type FaultKind, type SendCrashOpts } from '../../sim/scenarios/send-crash.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';
import { main as todoProc } from '../../impl/todo/main.ts';
import { main as qmailClean } from '../../impl/clean/main.ts';
import { main as qmailSend } from '../../impl/send/main.ts';

const env = process.env;
const seeds = fc.integer({ min: 1, max: 2 ** 31 - 1 });

async function holds(opts: SendCrashOpts): Promise<void> {
  const r = await runSendCrash(opts);
  const why = `seed ${opts.seed}: ${r.violations.slice(0, 6).join('; ')}\nreplay: ${sendCrashReplay(opts)}`;
  expect(r.violations, why).toEqual([]);
  expect(r.accepted, why).toBeGreaterThan(0);
}

/** A daemon whose fsyncs of directories do nothing. */
function withoutSyncDir(main: Program): Program {
  return (sys: Sys) => {
    const fs = new Proxy(sys.fs, {
      get(target, prop, receiver) {
        if (prop === 'syncDir') return async () => undefined;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return main({ ...sys, fs });
  };
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
    expect(r.counts.delivered).toBeGreaterThan(0);
  });

  it('holds under posix power losses, for random seeds, with and without BIGTODO', async () => {
    await fc.assert(
      fc.asyncProperty(seeds, fc.boolean(), async (seed, bigtodo) => holds({ seed, messages: 40, faults: 6, profile: 'posix', bigtodo, kinds: ['power'] })),
      { numRuns: 4, endOnFailure: true },
    );
  });

  it('holds when qmail-send or todo-proc is killed with SIGKILL', async () => {
    await fc.assert(
      fc.asyncProperty(seeds, fc.constantFrom<FaultKind>('kill-send', 'kill-todo'), async (seed, kind) => holds({ seed, messages: 40, faults: 6, profile: 'posix', kinds: [kind] })),
      { numRuns: 4, endOnFailure: true },
    );
  });

  for (const profile of ['ext4-ordered', 'sync'] as const) {
    it(`holds under ${profile}`, async () => {
      await fc.assert(fc.asyncProperty(seeds, async (seed) => holds({ seed, messages: 40, faults: 6, profile })), { numRuns: 2, endOnFailure: true });
    });
  }

  it('holds for a larger run with every kind of fault', async () => {
    await holds({ seed: Number(env['SEED'] ?? 20260405), messages: 150, faults: 15, profile: 'posix' });
  });

  it('is deterministic: the same seed gives the same trace', async () => {
    const opts: SendCrashOpts = { seed: 4242, messages: 30, faults: 4, profile: 'posix' };
    await expectDeterministic(runSendCrash, opts);
  });
});

describe('the property catches a daemon that skips its directory fsyncs', () => {
  for (const [name, main] of [['todo-proc', todoProc], ['qmail-clean', qmailClean], ['qmail-send', qmailSend]] as const) {
    it(`${name} without syncDir fails it under posix`, async () => {
      const failing: number[] = [];
      for (let seed = 1; seed <= 20 && failing.length === 0; seed++) {
        const r = await runSendCrash({ seed, messages: 40, faults: 6, profile: 'posix', kinds: ['power'], override: { [name]: withoutSyncDir(main) } });
        if (r.violations.length > 0) failing.push(seed);
      }
      expect(failing.length, `no seed in 1..20 exposed ${name} without syncDir`).toBeGreaterThan(0);
    });
  }
});
