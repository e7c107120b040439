// qsim explore (sim/explore.ts): every crash point of a tiny queue-crash run and the crash states
// the profile allows there, each recovered and checked. The real qmail-queue holds in all of them;
// one that skips its directory fsync is caught with a state that replays exactly.
//
// Replay a failure: the report prints `npx tsx scripts/qsim.ts explore ... --at E --choices a,b`.

import { describe, expect, it } from 'vitest';
import { crashState, explore, trafficEvents, type ExploreOpts } from '../../sim/explore.ts';
import { exploreReplayCommand, exploreReport } from '../../sim/cli-explore.ts';
import { runCli } from '../../sim/cli.ts';
import { main as qmailQueue } from '../../impl/queue/main.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';

const seed = Number(process.env['SEED'] ?? 7);

/** qmail-queue without its directory fsyncs (as test/scenarios/queue-crash.test.ts's broken()). */
function withoutSyncDir(): Program {
  return (sys: Sys) => {
    const fs = new Proxy(sys.fs, {
      get(target, prop, receiver) {
        if (prop === 'syncDir') return async () => undefined;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return qmailQueue({ ...sys, fs });
  };
}

describe('qsim explore', () => {
  it('finds no violation in any crash state of a tiny run (posix and ext4-ordered)', async () => {
    for (const profile of ['posix', 'ext4-ordered'] as const) {
      const opts: ExploreOpts = { crash: { seed, messages: 2, clients: 2, profile, split: 7 }, statesPerPointMax: 3 };
      const r = await explore(opts);
      expect(r.violations, exploreReport(r, opts, 0)).toEqual([]);
      expect(r.points).toBe(r.events + 1);
      expect(r.statesMin).toBeGreaterThanOrEqual(1);
      expect(r.statesTotal).toBeGreaterThanOrEqual(r.points);
      expect(r.statesTotal - r.duplicates).toBeGreaterThanOrEqual(r.points);
      expect(r.stoppedEarly).toBe(false);
    }
  }, 120_000);

  it('walks the whole answer tree of a point when unbounded', async () => {
    const crash = { seed, messages: 2, clients: 2, profile: 'posix' as const, split: 7 };
    const end = await trafficEvents(crash);
    const r = await explore({ crash, at: end, statesPerPointMax: 10_000 });
    expect(r.points).toBe(1);
    expect(r.truncatedPoints).toBe(0);
    expect(r.statesMax).toBeGreaterThan(2);
    // The walk met its first state (everything survives) again at its end.
    expect(r.duplicates).toBeGreaterThanOrEqual(1);
    expect(r.violations).toEqual([]);
  }, 120_000);

  it('catches qmail-queue without syncDir, with a state that replays exactly', async () => {
    const opts: ExploreOpts = { crash: { seed, messages: 2, clients: 1, profile: 'posix', split: 7, queueProgram: withoutSyncDir() }, statesPerPointMax: 2 };
    const r = await explore(opts);
    expect(r.violations.length).toBeGreaterThan(0);
    const v = r.violations[0]!;
    expect(v.violations.join(' ')).toMatch(/exited 0 but the message is queued 0 times/);
    const again = await crashState(opts.crash, v.at, v.choices);
    expect(again.violations).toEqual(v.violations);
    expect(exploreReplayCommand(opts, v.at, v.choices)).toBe(
      `npx tsx scripts/qsim.ts explore --seed ${seed} --messages 2 --clients 1 --profile posix --split 7 --at ${v.at} --choices ${v.choices.join(',')}`);
    // The same state under the real qmail-queue holds.
    const good = await crashState({ ...opts.crash, queueProgram: undefined }, v.at, v.choices);
    expect(good.violations).toEqual([]);
  }, 120_000);

  it('the command line reports the counts and replays one state with --at/--choices', async () => {
    let out = '';
    const host = { out: (t: string) => { out += t; }, err: (t: string) => { out += t; }, wallMs: () => 0, freshSeed: () => 1, commit: 'test' };
    expect(await runCli({ ...host, argv: ['explore', '--seed', String(seed), '--messages', '1', '--clients', '1', '--states-per-point', '3'] })).toBe(0);
    expect(out).toMatch(/crash points explored\s+\d+/);
    expect(out).toMatch(/distinct states per point\s+min \d+, max \d+/);
    out = '';
    expect(await runCli({ ...host, argv: ['explore', '--seed', String(seed), '--messages', '1', '--clients', '1', '--at', '5', '--choices', '0'] })).toBe(0);
    expect(out).toMatch(/crash points explored\s+1\b/);
    expect(await runCli({ ...host, argv: ['explore', '--choices', '0'] })).toBe(2);
    expect(await runCli({ ...host, argv: ['explore', '--seed', String(seed), '--messages', '1', '--at', '100000'] })).toBe(2);
    expect(out).toMatch(/--at 100000: the uncrashed run has only \d+ events/);
  }, 120_000);
});
