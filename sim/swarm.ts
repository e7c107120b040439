// Swarm testing (TigerBeetle's VOPR, "swarm testing" after Groce et al.): each seed draws its own
// knobs (clients, crashes, crash profile, split, bigtodo, message count within bounds) from a PRNG
// stream of its own, so the knobs are part of what the seed replays. A report lists, per seed, the
// knobs, the counts, the violations, the trace hash and the wall time; its summary names each failing
// seed with the one-line command that replays it. Reports of disjoint (or overlapping) ranges merge.
//
// Pure: no IO. The wall clock is a parameter and feeds the report only, never the run.

import { assert } from './assert.ts';
import { Prng } from './prng.ts';
import { runQueueCrash, type QueueCrashOpts } from './scenarios/queue-crash.ts';
import type { LedgerCounts } from './checkers/ledger.ts';
import type { CrashProfile } from './fs-api.ts';
import { coverageRows, mergeCoverage, type CoverageCounts } from './coverage.ts';

export interface SwarmBounds {
  messagesMin: number;
  messagesMax: number;
}

/** What every seed of one swarm shares: the bounds of its knobs, and whether each seed runs twice
 *  to check that its trace hash repeats. */
export interface SwarmPlan {
  bounds: SwarmBounds;
  twice: boolean;
}

export const swarmBoundsDefault: SwarmBounds = { messagesMin: 10, messagesMax: 300 };
export const clientsMax = 64;
export const crashesMax = 30;
export const splitChoices: readonly number[] = [1, 2, 7, 23, 101];
export const profileChoices: readonly CrashProfile[] = ['posix', 'ext4-ordered', 'sync'];

/** The knobs one seed runs with: exactly the flags of its `qsim run` replay command. */
export type SwarmKnobs = Required<Pick<QueueCrashOpts, 'seed' | 'messages' | 'clients' | 'crashes' | 'profile' | 'split' | 'bigtodo'>>;

export interface SeedReport {
  seed: number;
  knobs: SwarmKnobs;
  counts: LedgerCounts | null;
  crashChoices: number;
  checks: number;
  events: number;
  simMs: number;
  violations: string[];
  traceHash: string;
  /** Ran twice and compared hashes (swarm --check-determinism). */
  checkedTwice: boolean;
  wallMs: number;
  replay: string;
  /** Coverage marks reached (sim/coverage.ts); absent in reports of older commits. */
  coverage?: CoverageCounts;
}

export interface SwarmSummary {
  seeds: number;
  passed: number;
  failed: number;
  first: number | null;
  last: number | null;
  wallMs: number;
  failing: { seed: number; violation: string; replay: string }[];
  /** Coverage marks reached, added up over the seeds. */
  coverage?: CoverageCounts;
}

export interface SwarmReport {
  kind: 'qsim-swarm';
  version: 1;
  commit: string;
  bounds: SwarmBounds;
  summary: SwarmSummary;
  seeds: SeedReport[];
}

export function checkBounds(b: SwarmBounds): string | null {
  if (!(Number.isSafeInteger(b.messagesMin) && b.messagesMin >= 1)) return 'messages-min must be at least 1';
  if (!(Number.isSafeInteger(b.messagesMax) && b.messagesMax >= b.messagesMin)) return 'messages-max must be at least messages-min';
  return null;
}

/** The knobs of a seed: drawn from the seed's own 'swarm' stream, nothing else. Skewed towards
 *  small values (half the draws below the cube-root-ish middle) so that both few-and-busy and
 *  many-and-quiet worlds come up. */
export function drawKnobs(seed: number, bounds: SwarmBounds = swarmBoundsDefault): SwarmKnobs {
  assert(checkBounds(bounds) === null, 'swarm bounds are sane');
  const p = new Prng(seed, 'swarm.knobs');
  const skewed = (lo: number, hi: number): number => lo + Math.floor((hi - lo + 1) * p.float() ** 2);
  const messages = skewed(bounds.messagesMin, bounds.messagesMax);
  // More clients than messages, or a crash every few messages, would cut every message in flight.
  const clients = skewed(1, Math.min(clientsMax, messages));
  // Some seeds run without faults: the swarm must also cover the calm path.
  const crashes = p.chance(0.1) ? 0 : skewed(1, Math.min(crashesMax, Math.max(1, Math.floor(messages / 5))));
  const profile = p.pick(profileChoices);
  const split = p.pick(splitChoices);
  const bigtodo = p.chance(0.5);
  return { seed, messages, clients, crashes, profile, split, bigtodo };
}

/** `npx tsx scripts/qsim.ts run …`: replays one seed with exactly these knobs. */
export function replayCommandFor(o: SwarmKnobs): string {
  const flags = [`--seed ${o.seed}`, `--messages ${o.messages}`, `--clients ${o.clients}`, `--crashes ${o.crashes}`, `--profile ${o.profile}`, `--split ${o.split}`];
  if (o.bigtodo) flags.push('--bigtodo');
  return `npx tsx scripts/qsim.ts run ${flags.join(' ')}`;
}

/** Runs one seed with its drawn knobs; a scenario that throws is a failure of that seed, not of the swarm. */
export async function runSwarmSeed(seed: number, plan: SwarmPlan, wallMs: () => number): Promise<SeedReport> {
  const knobs = drawKnobs(seed, plan.bounds);
  const replay = replayCommandFor(knobs);
  const t0 = wallMs();
  const checkedTwice = plan.twice;
  try {
    const r = await runQueueCrash({ ...knobs, keepTraceLines: 0 });
    const violations = [...r.violations];
    if (plan.twice) {
      const again = await runQueueCrash({ ...knobs, keepTraceLines: 0 });
      if (again.traceHash !== r.traceHash) violations.unshift(`nondeterminism: trace hash ${r.traceHash}, then ${again.traceHash} (run --check-determinism)`);
    }
    const base = { seed, knobs, counts: r.counts, crashChoices: r.crashChoices, checks: r.checks, events: r.events, simMs: r.simMs };
    // The marks queue-crash's result shows (its world has no trace watch).
    const coverage: CoverageCounts = {};
    if (r.crashes > 0) coverage['power-loss'] = r.crashes;
    if (r.counts.refused > 0) coverage['qq-tempfail'] = r.counts.refused;
    return { ...base, violations, traceHash: r.traceHash, checkedTwice, wallMs: Math.round(wallMs() - t0), replay, coverage };
  } catch (e) {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ...lostSeed(seed, plan.bounds, ''), violations: [`scenario threw: ${message}`], checkedTwice, wallMs: Math.round(wallMs() - t0) };
  }
}

/** The report of a seed whose worker died under it (out of memory, a bug in the harness). */
export function lostSeed(seed: number, bounds: SwarmBounds, why: string): SeedReport {
  const knobs = drawKnobs(seed, bounds);
  return { seed, knobs, counts: null, crashChoices: 0, checks: 0, events: 0, simMs: 0, violations: [`worker died: ${why}`], traceHash: '', checkedTwice: false, wallMs: 0, replay: replayCommandFor(knobs) };
}

/** The report as a file: the head indented, then one line per seed (big reports stay greppable). */
export function formatReport(r: SwarmReport): string {
  const { seeds, ...head } = r;
  const top = JSON.stringify({ ...head, seeds: [] }, null, 1).replace(/"seeds": \[\]\n\}$/, '"seeds": [');
  return `${top}\n${seeds.map((s) => JSON.stringify(s)).join(',\n')}\n]}\n`;
}

/** Seeds A..B inclusive. */
export function parseRange(text: string): { first: number; last: number } | null {
  const m = /^([0-9]{1,15})\.\.([0-9]{1,15})$/.exec(text);
  if (m === null) return null;
  const first = Number(m[1]);
  const last = Number(m[2]);
  return last >= first ? { first, last } : null;
}

/** A report from per-seed results in any order: sorted by seed, one entry per seed (the first seen). */
export function buildReport(commit: string, bounds: SwarmBounds, results: readonly SeedReport[]): SwarmReport {
  const bySeed = new Map<number, SeedReport>();
  for (const r of results) if (!bySeed.has(r.seed)) bySeed.set(r.seed, r);
  const seeds = [...bySeed.values()].sort((a, b) => a.seed - b.seed);
  const failing = seeds.filter((s) => s.violations.length > 0).map((s) => ({ seed: s.seed, violation: s.violations[0] as string, replay: s.replay }));
  const summary: SwarmSummary = {
    seeds: seeds.length,
    passed: seeds.length - failing.length,
    failed: failing.length,
    first: seeds[0]?.seed ?? null,
    last: seeds[seeds.length - 1]?.seed ?? null,
    wallMs: seeds.reduce((sum, s) => sum + s.wallMs, 0),
    failing,
    coverage: mergeCoverage(seeds.map((x) => x.coverage)),
  };
  return { kind: 'qsim-swarm', version: 1, commit, bounds, summary, seeds };
}

/** Merges shard reports: dedupe by seed, sorted, summary recomputed. Shards must share the bounds
 *  (the knobs of a seed depend on them); differing commits are joined into one commit field. */
export function mergeReports(reports: readonly SwarmReport[]): SwarmReport | { error: string } {
  const first = reports[0];
  if (first === undefined) return { error: 'nothing to merge' };
  for (const r of reports) {
    if (r.kind !== 'qsim-swarm' || r.version !== 1) return { error: 'not a qsim swarm report (version 1)' };
    if (r.bounds.messagesMin !== first.bounds.messagesMin || r.bounds.messagesMax !== first.bounds.messagesMax) return { error: 'reports were drawn with different message bounds' };
  }
  const commits = [...new Set(reports.map((r) => r.commit))];
  const seen = new Map<number, SeedReport>();
  for (const r of reports) {
    for (const s of r.seeds) {
      const old = seen.get(s.seed);
      if (old !== undefined && old.traceHash !== s.traceHash && commits.length === 1) return { error: `seed ${s.seed}: two trace hashes on one commit (${old.traceHash}, ${s.traceHash}): nondeterminism` };
      if (old === undefined) seen.set(s.seed, s);
    }
  }
  return buildReport(commits.join(','), first.bounds, [...seen.values()]);
}

/** The lines printed after a swarm or merge. */
export function summaryText(r: SwarmReport): string {
  const s = r.summary;
  const range = s.first === null ? 'no seeds' : `seeds ${s.first}..${s.last}`;
  const head = `${range}: ${s.seeds} run, ${s.passed} passed, ${s.failed} failed (${(s.wallMs / 1000).toFixed(1)} s of work)\n`;
  const lines = s.failing.map((f) => `  seed ${f.seed}: ${f.violation}\n    replay: ${f.replay}\n`);
  const { reached } = coverageRows(s.coverage ?? {});
  const marks = reached.length === 0 ? '' : `coverage marks reached: ${reached.map(([n, c]) => `${n} ${c}`).join(', ')}\n`;
  return head + lines.join('') + marks;
}
