// The scenario catalogue of `qsim run --scenario NAME` (sim/scenarios/catalogue.ts, issue 5): each
// scenario holds at a fixed seed and at a random one (each printed with its replay line), its
// coverage marks show it reached the paths it is about, and the checkers of the fault-injecting
// ones can fail: a qmail-queue that says 0 after ENOSPC (disk-full) or after any error (eio),
// delivery workers that never fsync (crash-storm) or that call a deferral a success
// (slow-deliveries), and remote deferrals in other words than the expected bounce's (aged-queue)
// are caught.
//
// Replay a failure: SEED=N SCENARIO=name [SIZE=n] npx vitest run test/scenarios/catalogue.test.ts -t replay
// or the qsim line printed beside it. Big runs: `npx tsx scripts/qsim.ts run --scenario NAME --size 20`.

import { describe, expect, it } from 'vitest';
import { withoutSyncs } from '../support/scenario-checks.ts';
import { catalogue, catalogueReplay, isScenarioName, scenarioNames, type CatalogueOpts, type CatalogueResult, type ScenarioName } from '../../sim/scenarios/catalogue.ts';
import { mergeCoverage } from '../../sim/coverage.ts';
import { buildReport, lostSeed, summaryText, swarmBoundsDefault, type SeedReport } from '../../sim/swarm.ts';
import { qmailPrograms } from '../../sim/registry.ts';
import { qq } from '../../spec/exit-codes.ts';
import type { Program } from '../../impl/sys/types.ts';
import { workerMain } from '../../impl/local-worker/main.ts';
import { qmailLocal } from '../../impl/local/qmail-local.ts';
import { runCli } from '../../sim/cli.ts';

const env = process.env;

async function run(name: ScenarioName, opts: CatalogueOpts): Promise<CatalogueResult> {
  const r = await catalogue[name].run(opts);
  console.info(`${name} seed ${opts.seed} size ${opts.size ?? 1}: ${r.violations.length} violations, ${r.events} events; replay: ${catalogueReplay(name, opts)}`);
  return r;
}

async function holds(name: ScenarioName, opts: CatalogueOpts): Promise<CatalogueResult> {
  const r = await run(name, opts);
  expect(r.violations, `${name} seed ${opts.seed}: ${r.violations.slice(0, 6).join('; ')}\nreplay: ${catalogueReplay(name, opts)}`).toEqual([]);
  expect(r.accepted).toBeGreaterThan(0);
  return r;
}

/** The marks each scenario is about: reached at the fixed seed. */
const aboutMarks: Record<ScenarioName, string[]> = {
  steady: ['remote-deferral'],
  spike: ['local-concurrency-full'],
  'crash-storm': ['power-loss', 'power-loss-in-recovery', 'daemon-killed', 'start-exit-111'],
  'disk-full': ['enospc-qmail-queue', 'enospc-delivery', 'qq-tempfail', 'deferred-then-delivered'],
  eio: ['eio-daemon'],
  'slow-deliveries': ['program-deferred', 'program-bounced', 'program-slow', 'deferred-then-delivered', 'local-deferral-retried'],
  'clock-steps': ['clock-back', 'clock-forward', 'program-deferred', 'deferred-then-delivered'],
  'aged-queue': ['queue-lifetime-bounce', 'bounce'],
};

/** Fixed seeds at which the marks above are reached. */
const fixedSeed: Record<ScenarioName, number> = {
  steady: 1, spike: 1, 'crash-storm': 2, 'disk-full': 1, eio: 1, 'slow-deliveries': 2, 'clock-steps': 1, 'aged-queue': 1,
};

/** qmail-queue, except that these exit codes become 0 (a client told "queued" when it was not). */
function lyingQueue(codes: (code: number) => boolean): Program {
  const real = qmailPrograms['qmail-queue'] as Program;
  return async (sys) => {
    const code = await real(sys);
    return codes(code) ? 0 : code;
  };
}

describe('the scenario catalogue (sim)', () => {
  it.runIf(env['SEED'] !== undefined && env['SCENARIO'] !== undefined)('replay', async () => {
    const name = env['SCENARIO'] as string;
    if (!isScenarioName(name)) throw new Error(`no scenario ${name}: ${scenarioNames.join(' ')}`);
    await holds(name, { seed: Number(env['SEED']), size: Number(env['SIZE'] ?? 1) });
  });

  for (const name of scenarioNames) {
    it(`${name}: holds at seed ${fixedSeed[name]} and reaches its marks, and at a random seed`, async () => {
      const r = await holds(name, { seed: fixedSeed[name] });
      for (const m of aboutMarks[name]) expect(r.coverage[m] ?? 0, `${name}: mark ${m}`).toBeGreaterThan(0);
      const seed = 1 + Math.floor(Math.random() * (2 ** 31 - 2));
      await holds(name, { seed, size: 0.5 });
    });
  }

  it('disk-full: a qmail-queue that exits 0 after ENOSPC is caught', async () => {
    const r = await run('disk-full', { seed: fixedSeed['disk-full'], override: { 'qmail-queue': lyingQueue((c) => c === qq.tempWriteError) } });
    expect(r.violations.join('\n')).toMatch(/neither delivered nor bounced/);
  });

  it('eio: a qmail-queue that exits 0 after any error is caught', async () => {
    const r = await run('eio', { seed: 5, override: { 'qmail-queue': lyingQueue((c) => c !== 0) } });
    expect(r.violations.join('\n')).toMatch(/neither delivered nor bounced/);
  });

  it('crash-storm: delivery workers that never fsync lose mail to the power losses', async () => {
    const r = await run('crash-storm', { seed: fixedSeed['crash-storm'], override: { 'qmail-local-worker': workerMain((sys, args, message, e) => qmailLocal(withoutSyncs(sys), args, message, e)) } });
    expect(r.violations.length).toBeGreaterThan(0);
  });

  it('slow-deliveries: a delivery worker that calls a deferral a success is caught', async () => {
    const lying = workerMain(async (sys, args, message, e) => {
      const r = await qmailLocal(sys, args, message, e);
      return r.code === 111 ? { ...r, code: 0 } : r;
    });
    const r = await run('slow-deliveries', { seed: fixedSeed['slow-deliveries'], override: { 'qmail-local-worker': lying } });
    expect(r.violations.join('\n')).toMatch(/neither delivered nor bounced/);
  });

  it('aged-queue: dying bounces whose text is not the DNS deferral\'s are caught', async () => {
    // qmail-rspawn-defer defers every remote delivery with its own words.
    const r = await run('aged-queue', { seed: fixedSeed['aged-queue'], override: { 'qmail-rspawn': qmailPrograms['qmail-rspawn-defer'] as Program } });
    expect(r.violations.join('\n')).toMatch(/not in qmail's words|differ/);
  });

  it('eio: the same seed gives the same trace (the fault hook draws from the seed)', async () => {
    const a = await run('eio', { seed: 9, size: 0.5 });
    const b = await run('eio', { seed: 9, size: 0.5 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.coverage).toEqual(a.coverage);
  });

  it('coverage counts merge by adding, in swarm reports too', () => {
    expect(mergeCoverage([{ a: 1, b: 2 }, undefined, { b: 3, c: 1 }])).toEqual({ a: 1, b: 5, c: 1 });
    const seed = (n: number, coverage: Record<string, number>): SeedReport => ({ ...lostSeed(n, swarmBoundsDefault, ''), violations: [], coverage });
    const report = buildReport('test', swarmBoundsDefault, [seed(1, { 'power-loss': 2 }), seed(2, { 'power-loss': 1, 'qq-tempfail': 4 })]);
    expect(report.summary.coverage).toEqual({ 'power-loss': 3, 'qq-tempfail': 4 });
    expect(summaryText(report)).toContain('coverage marks reached: power-loss 3, qq-tempfail 4');
  });

  it('qsim list names every scenario; qsim run --scenario reports coverage marks', async () => {
    let out = '';
    const host = { argv: ['list'], out: (t: string) => (out += t), err: (t: string) => (out += t), wallMs: () => 0, freshSeed: () => 1, commit: 'test' };
    expect(await runCli(host)).toBe(0);
    for (const n of scenarioNames) expect(out).toContain(`${n} `);
    out = '';
    expect(await runCli({ ...host, argv: ['run', '--scenario', 'aged-queue', '--seed', '1'] })).toBe(0);
    expect(out).toMatch(/coverage marks: [0-9]+ reached, [0-9]+ never reached/);
    expect(out).toContain('+ queue-lifetime-bounce');
    expect(out).toContain('replay: npx tsx scripts/qsim.ts run --scenario aged-queue --seed 1 --size 1 --profile posix');
  });
});
