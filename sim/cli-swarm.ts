// qsim swarm --seeds A..B [--jobs N] [--out report.json] [--messages-min N] [--messages-max N]
//            [--check-determinism]
//   Runs every seed of the range, each with the knobs it draws itself (sim/swarm.ts), on N worker
//   threads when the host has them; a progress line on stderr; the JSON report to --out (default:
//   none); the summary with a replay command per failing seed on stdout. Exit 1 if a seed failed.
// qsim merge a.json b.json ... [--out all.json]
//   Merges shard reports (dedupe by seed, sorted, summary recomputed); exit 1 if a seed failed.

import type { CliHost } from './cli.ts';
import type { HostIo } from './host-io.ts';
import { parseArgs } from './args.ts';
import { buildReport, checkBounds, formatReport, mergeReports, parseRange, runSwarmSeed, summaryText, swarmBoundsDefault, type SeedReport, type SwarmBounds, type SwarmPlan, type SwarmReport } from './swarm.ts';

export const swarmUsage = 'usage: qsim swarm --seeds A..B [--jobs N] [--out report.json] [--messages-min N] [--messages-max N] [--check-determinism]\n       qsim merge a.json b.json ... [--out all.json]\n';

/** Seeds in one swarm: a bound on the report's size; shard bigger ranges and merge. */
export const swarmSeedsMax = 1_000_000;

export async function swarmCli(host: CliHost, argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, { seeds: 'string', jobs: 'int', out: 'string', 'messages-min': 'int', 'messages-max': 'int', 'check-determinism': 'flag' });
  const rangeText = 'error' in p ? undefined : (p.values['seeds'] as string | undefined);
  const range = rangeText === undefined ? null : parseRange(rangeText);
  if ('error' in p || range === null) {
    host.err(`qsim swarm: ${'error' in p ? p.error : '--seeds A..B is required (A <= B)'}\n${swarmUsage}`);
    return 2;
  }
  const v = p.values;
  const bounds: SwarmBounds = {
    messagesMin: (v['messages-min'] as number | undefined) ?? swarmBoundsDefault.messagesMin,
    messagesMax: (v['messages-max'] as number | undefined) ?? swarmBoundsDefault.messagesMax,
  };
  const bad = checkBounds(bounds) ?? (range.last - range.first + 1 > swarmSeedsMax ? `at most ${swarmSeedsMax} seeds per swarm` : null);
  const out = v['out'] as string | undefined;
  if (bad !== null || (out !== undefined && host.io === undefined)) {
    host.err(`qsim swarm: ${bad ?? 'this host cannot write files'}\n${swarmUsage}`);
    return 2;
  }
  const seeds: number[] = [];
  for (let s = range.first; s <= range.last; s++) seeds.push(s);
  const jobs = Math.max(1, (v['jobs'] as number | undefined) ?? host.io?.cores() ?? 1);
  const plan: SwarmPlan = { bounds, twice: v['check-determinism'] === true };
  const twice = plan.twice ? ', each seed twice' : '';
  host.out(`qsim swarm: seeds ${range.first}..${range.last}, ${jobs} jobs, messages ${bounds.messagesMin}..${bounds.messagesMax}${twice}, commit ${host.commit}\n`);
  const results = await runAll(host, seeds, plan, jobs);
  const report = buildReport(host.commit, bounds, results);
  return finishReport(host, report, out);
}

async function runAll(host: CliHost, seeds: readonly number[], plan: SwarmPlan, jobs: number): Promise<SeedReport[]> {
  const results: SeedReport[] = [];
  const t0 = host.wallMs();
  let failed = 0;
  const done = (r: SeedReport): void => {
    results.push(r);
    if (r.violations.length > 0) failed++;
    const sec = (host.wallMs() - t0) / 1000;
    const eta = (sec / results.length) * (seeds.length - results.length);
    host.io?.progress(`swarm: ${results.length}/${seeds.length} seeds, ${failed} failed, ${sec.toFixed(0)} s, about ${eta.toFixed(0)} s to go`);
  };
  const io: HostIo | undefined = host.io;
  if (io?.runSeeds !== undefined) await io.runSeeds(seeds, plan, jobs, done);
  else for (const seed of seeds) done(await runSwarmSeed(seed, plan, () => host.wallMs()));
  host.io?.progress('');
  return results;
}

function finishReport(host: CliHost, report: SwarmReport, out: string | undefined): number {
  if (out !== undefined && host.io !== undefined) host.io.writeFile(out, formatReport(report));
  host.out(summaryText(report));
  if (out !== undefined) host.out(`report: ${out}\n`);
  return report.summary.failed === 0 ? 0 : 1;
}

export function mergeCli(host: CliHost, argv: readonly string[]): number {
  const files: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--out') out = argv[++i];
    else if (a.startsWith('--out=')) out = a.slice('--out='.length);
    else if (a.startsWith('--')) out = '';
    else files.push(a);
  }
  const io = host.io;
  if (files.length === 0 || out === '' || io === undefined) {
    host.err(`qsim merge: ${io === undefined ? 'this host cannot read files' : 'report files expected'}\n${swarmUsage}`);
    return 2;
  }
  const reports: SwarmReport[] = [];
  for (const f of files) {
    try {
      reports.push(JSON.parse(io.readFile(f)) as SwarmReport);
    } catch (e) {
      host.err(`qsim merge: ${f}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  const merged = mergeReports(reports);
  if ('error' in merged) {
    host.err(`qsim merge: ${merged.error}\n`);
    return 2;
  }
  return finishReport(host, merged, out);
}
