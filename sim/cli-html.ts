// `qsim run --html FILE`: writes the run's report page through the host (sim/html-report.ts).

import type { CliHost } from './cli.ts';
import type { QueueCrashOpts, QueueCrashResult } from './scenarios/queue-crash.ts';
import type { RunSampler } from './run-sampler.ts';
import { htmlReport, queuePlots } from './html-report.ts';

export function runHtml(r: QueueCrashResult, o: QueueCrashOpts, sampler: RunSampler, commit: string, replay: string): string {
  const c = r.counts;
  const rows: [string, string][] = [
    ['scenario', 'queue-crash'],
    ['seed', String(r.seed)],
    ['commit', commit],
    ['crash profile', o.profile],
    ['messages submitted', String(c.attempted)],
    ['accepted (qmail-queue exit 0)', String(c.accepted)],
    ['refused (exit code reported)', String(c.refused)],
    ['cut off by a power loss', `${c.cut} (of which queued anyway: ${c.cutButQueued})`],
    ['power losses', `${r.crashes} (${r.crashChoices} crash-state choices)`],
    ['invariants checked', String(r.checks)],
    ['violations', String(r.violations.length)],
    ['simulated time', `${(r.simMs / 1000).toFixed(1)} s (including the OSSIFIED sweep)`],
    ['events', String(r.events)],
    ['trace hash', r.traceHash],
    ['samples', String(sampler.samples.length)],
  ];
  for (const v of r.violations.slice(0, 20)) rows.push(['violation', v]);
  return htmlReport({ title: `qsim run: queue-crash, seed ${r.seed}`, rows, plots: queuePlots(sampler.samples), crashTimes: sampler.crashTimes, footer: `replay: ${replay}` });
}

/** Writes the page; false (with a message) when the host cannot write files. */
export function writeRunHtml(host: CliHost, path: string, r: QueueCrashResult, o: QueueCrashOpts, sampler: RunSampler, replay: string): boolean {
  if (host.io === undefined) {
    host.err('qsim: --html needs a host that writes files\n');
    return false;
  }
  host.io.writeFile(path, runHtml(r, o, sampler, host.commit, replay));
  host.out(`html report: ${path}\n`);
  return true;
}
