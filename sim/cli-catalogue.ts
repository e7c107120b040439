// `qsim run --scenario NAME` for the catalogue's scenarios (sim/scenarios/catalogue.ts), and
// `qsim list`. Flags: --seed, --size (traffic scale, 1), --profile, --html FILE. Prints the counts,
// the scenario's own figures, the coverage marks reached and never reached (sim/coverage.ts), the
// violations, and a line that replays the run.

import type { CrashProfile } from './fs-api.ts';
import type { CliHost } from './cli.ts';
import { catalogue, catalogueReplay, scenarioNames, type CatalogueOpts, type CatalogueResult, type ScenarioName } from './scenarios/catalogue.ts';
import { coverageRows, coverageText } from './coverage.ts';
import { htmlReport, type HtmlPlot } from './html-report.ts';
import { tableText, verdictText } from './cli-report.ts';

export interface CatalogueCliArgs {
  seed?: number;
  size?: number;
  profile: CrashProfile;
  html?: string;
}

/** The scenarios `qsim run --scenario` knows beyond the catalogue (sim/cli.ts dispatches them). */
const otherScenarios: [string, string][] = [
  ['queue-crash', 'qmail-queue clients under power losses (the default)'],
  ['mta-crash', 'the whole MTA with the local channel under power losses and kill -9'],
  ['net-crash', 'the MTA with SMTP in and out under faults'],
];

export function listText(): string {
  const rows: [string, string][] = [...otherScenarios, ...scenarioNames.map((n): [string, string] => [n, catalogue[n].summary])];
  const width = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, s]) => `${n.padEnd(width)}  ${s}\n`).join('');
}

export async function runCatalogueCli(host: CliHost, name: ScenarioName, a: CatalogueCliArgs): Promise<number> {
  const size = a.size ?? 1;
  if (!(Number.isFinite(size) && size > 0 && size <= 1000)) {
    host.err('qsim: --size must be a number above 0, at most 1000\n');
    return 2;
  }
  const opts: CatalogueOpts = { seed: a.seed ?? host.freshSeed(), size, profile: a.profile };
  host.out(`qsim run: scenario ${name}, seed ${opts.seed}, size ${size}, commit ${host.commit}\n`);
  const t0 = host.wallMs();
  const r = await catalogue[name].run(opts);
  host.out(catalogueReport(r, opts, (host.wallMs() - t0) / 1000));
  if (a.html !== undefined) {
    if (host.io === undefined) {
      host.err('qsim: --html needs a host that writes files\n');
      return 2;
    }
    host.io.writeFile(a.html, catalogueHtml(r, opts, host.commit));
    host.out(`html report: ${a.html}\n`);
  }
  return r.violations.length === 0 ? 0 : 1;
}

function summaryRows(r: CatalogueResult, o: CatalogueOpts): [string, string][] {
  const c = r.counts;
  const f = Object.entries(r.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    ['seed', String(r.seed)],
    ['size', String(r.size)],
    ['crash profile', o.profile ?? 'posix'],
    ['messages submitted', String(r.submitted)],
    ['accepted (qmail-queue exit 0)', String(r.accepted)],
    ['faults', f === '' ? 'none' : f],
    ['recipients', `${c.recipients}: ${c.delivered} delivered, ${c.bounced} bounced, ${c.held} remote and still queued`],
    ['found', `${r.found.maildir} maildir files, ${r.found.mbox} mbox entries, ${r.found.program} program runs, ${r.found.queued} messages queued`],
    ['duplicates (6.3 window)', `${c.duplicateDeliveries} deliveries, ${c.duplicateBounces} bounces`],
    ...r.rows,
    ['invariants checked', String(r.checks)],
    ['violations', String(r.violations.length)],
    ['simulated time', `${(r.simMs / 3_600_000).toFixed(1)} h`],
    ['events', String(r.events)],
    ['trace hash', r.traceHash],
  ];
}

export function catalogueReport(r: CatalogueResult, o: CatalogueOpts, wallSec: number): string {
  const rows = [...summaryRows(r, o), ['wall time', `${wallSec.toFixed(1)} s`] as [string, string]];
  return `${tableText(rows)}${coverageText(r.coverage)}${verdictText(r.violations)}\nreplay: ${catalogueReplay(r.scenario, o)}\n`;
}

export function catalogueHtml(r: CatalogueResult, o: CatalogueOpts, commit: string): string {
  const { reached, never } = coverageRows(r.coverage);
  const rows: [string, string][] = [
    ['scenario', r.scenario],
    ['commit', commit],
    ...summaryRows(r, o),
    ...reached.map(([n, c]): [string, string] => [`coverage: reached`, `${n} (${c})`]),
    ['coverage: never reached', never.join(', ') || '(none)'],
  ];
  for (const v of r.violations.slice(0, 20)) rows.push(['violation', v]);
  const plots: HtmlPlot[] = [
    { title: 'queue depth (messages in mess/)', points: r.samples.map((s) => [s.tMs, s.depth] as const) },
    { title: 'messages submitted, cumulative', points: r.samples.map((s) => [s.tMs, s.submitted] as const) },
  ];
  return htmlReport({ title: `qsim run: ${r.scenario}, seed ${r.seed}`, rows, plots, crashTimes: r.faultTimes, footer: `replay: ${catalogueReplay(r.scenario, o)}` });
}
