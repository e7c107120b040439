// Model-based tests over the whole MTA in the simulator (issue 5): fast-check commands (Inject,
// RunFor, Crash, Kill(daemon), Restart, EditDotQmail; sim/workload.ts worldCommands) drive a World
// (sim/world-api.ts: the real qmail-start, qmail-send, todo-proc, qmail-cleans, qmail-lspawn and
// its workers, qmail-rspawn), checking the step invariants after each command and, healed and run
// to idle, the whole ledger at the end: every accepted recipient delivered byte for byte, bounced
// in qmail's words or (remote) held; duplicates only across faults.
//
// (a) the property holds for MODEL_RUNS runs (default 10) from a fixed fast-check seed
//     (MODEL_FC_SEED=random for a fresh one); it prints the seed and a replay line:
//       MODEL_SEED=... MODEL_PATH=... npx vitest run test/scenarios/model.test.ts
// (b) with a deliberately broken delivery worker (qmail-local without fsyncs) the same property
//     fails, and fast-check shrinks the failure to a handful of commands that include a Crash.

import { describe, expect, it } from 'vitest';
import { withoutSyncs } from '../support/scenario-checks.ts';
import fc from 'fast-check';
import { createWorld, type World } from '../../sim/world-api.ts';
import { initialModel, settleAndCheck, worldCommands, type Fault, type WorldModel } from '../../sim/workload.ts';
import type { Program } from '../../impl/sys/types.ts';
import { workerMain } from '../../impl/local-worker/main.ts';
import { qmailLocal } from '../../impl/local/qmail-local.ts';

const env = process.env;
const runs = Number(env['MODEL_RUNS'] ?? 10);
/** fast-check's seed for (a): fixed, so that the suite is the same every time; MODEL_FC_SEED=random
 *  draws a fresh one (printed with its replay line), a number picks one. */
const fcSeed = env['MODEL_FC_SEED'] === 'random' ? undefined : Number(env['MODEL_FC_SEED'] ?? 20261122);
const replay = env['MODEL_SEED'] !== undefined;

interface PropOpts {
  override?: Record<string, Program>;
  faults?: fc.Arbitrary<Fault>;
  maxCommands?: number;
}

type Input = [number, Iterable<fc.AsyncCommand<WorldModel, World>>];
type Details = fc.RunDetails<Input>;

/** The property: a world from a seed, the commands, then settle and check. */
function modelProperty(o: PropOpts = {}): fc.IAsyncProperty<Input> {
  const cmds = worldCommands({ faults: o.faults, maxCommands: o.maxCommands, replayPath: env['MODEL_REPLAY_PATH'] });
  return fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), cmds, async (seed, commands) => {
    const world = await createWorld({ seed, override: o.override });
    const model = initialModel();
    await fc.asyncModelRun(() => ({ model, real: world }), commands);
    const violations = await settleAndCheck(world, model);
    if (violations.length > 0) throw new Error(`world seed ${seed}: ${violations.slice(0, 6).join('; ')}`);
  });
}

/** The failure, its error and the line that replays it. */
function report(r: Details): string {
  const error = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
  return `${fc.defaultReportMessage(r) ?? ''}\nerror: ${error.slice(0, 2000)}\nreplay: ${replayLine(r)}`;
}

function replayLine(r: Details): string {
  const path = r.counterexamplePath === null ? '' : ` MODEL_PATH=${r.counterexamplePath}`;
  return `MODEL_SEED=${r.seed}${path} npx vitest run test/scenarios/model.test.ts`;
}

/** The commands that ran in a counterexample (fast-check prints those only). */
function ranCommands(r: Details): string[] {
  const cmds = r.counterexample?.[1];
  const text = cmds === undefined ? '' : String(cmds).replace(/\/\*.*?\*\//g, '').trim();
  return text === '' ? [] : text.split(/,(?=(?:Inject|RunFor|Crash|Kill|Restart|EditDotQmail)\b)/);
}

describe('model-based commands over the whole MTA (sim)', () => {
  it.runIf(replay)('replay', async () => {
    const r = await fc.check(modelProperty(), { seed: Number(env['MODEL_SEED']), path: env['MODEL_PATH'], endOnFailure: true });
    expect(r.failed, report(r)).toBe(false);
  }, 600_000);

  it.skipIf(replay)(`the property holds: ${runs} runs of up to 12 commands`, async () => {
    const t0 = performance.now();
    const r = await fc.check(modelProperty(), { numRuns: runs, seed: fcSeed });
    console.info(`model: ${r.numRuns} runs in ${Math.round(performance.now() - t0)} ms; replay: ${replayLine(r)}`);
    expect(r.failed, report(r)).toBe(false);
  }, 120_000);
});

describe('a World is deterministic', () => {
  it.skipIf(replay)('the same world seed and commands give the same trace', async () => {
    const runOnce = async (seed: number): Promise<string> => {
      const world = await createWorld({ seed });
      const model = initialModel();
      // The same commands each time, drawn afresh from one fast-check seed: the longest of 20.
      const lists = fc.sample(worldCommands(), { numRuns: 20, seed: 77 }).map((cmds) => [...cmds]);
      const list = lists.reduce((a, b) => (b.length > a.length ? b : a));
      expect(list.length).toBeGreaterThan(5);
      for (const c of list) if (c.check(model)) await c.run(model, world);
      expect(await settleAndCheck(world, model)).toEqual([]);
      return world.check().traceHash;
    };
    const a = await runOnce(5);
    expect(await runOnce(5)).toBe(a);
    expect(await runOnce(6)).not.toBe(a);
  }, 60_000);
});

describe('the model-based property catches a deliberately broken worker', () => {
  it.skipIf(replay)('qmail-local without fsyncs: fails, shrunk to a few commands with a Crash', async () => {
    const broken = workerMain((sys, args, message, e) => qmailLocal(withoutSyncs(sys), args, message, e));
    const t0 = performance.now();
    const r = await fc.check(modelProperty({ override: { 'qmail-local-worker': broken }, faults: fc.constant<Fault>({ kind: 'power' }) }), {
      numRuns: 40, seed: Number(env['MODEL_BUG_SEED'] ?? 20261122),
    });
    const ran = ranCommands(r);
    console.info(`model (broken worker): failed ${r.failed} after ${r.numRuns} runs, ${r.numShrinks} shrinks, ${Math.round(performance.now() - t0)} ms; shrunk to ${ran.length} commands: ${ran.join(' ; ')}\n${r.errorInstance instanceof Error ? r.errorInstance.message.slice(0, 400) : ''}\nreplay: MODEL_BUG_SEED=${r.seed} npx vitest run test/scenarios/model.test.ts -t broken`);
    expect(r.failed).toBe(true);
    expect(ran.length).toBeLessThanOrEqual(4);
    expect(ran.some((c) => c === 'Crash')).toBe(true);
  }, 300_000);
});

