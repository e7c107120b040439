// `qsim run --scenario mta-crash`: the whole MTA with the real local channel under power losses and
// kill -9 (sim/scenarios/mta-crash.ts), from the command line. Flags: --seed, --messages (2000),
// --crashes (faults, 20), --profile, --split, --remote (peers: scripted SMTP peers, the default;
// unresolved: every remote recipient held, deferred). Prints the counts, the duplicates the 6.3 window
// allowed, the violations, and a line that replays the run.

import type { CrashProfile } from './fs-api.ts';
import type { RemoteMode } from './scenarios/mta-world.ts';
import type { CliHost } from './cli.ts';
import { runMtaCrash, type MtaCrashOpts, type MtaCrashResult } from './scenarios/mta-crash.ts';
import { tableText, verdictText } from './cli-report.ts';

export interface MtaCliArgs {
  seed?: number;
  messages?: number;
  crashes?: number;
  profile: CrashProfile;
  split?: number;
  remote?: RemoteMode;
}

export async function runMtaCli(host: CliHost, a: MtaCliArgs): Promise<number> {
  const opts: MtaCrashOpts = {
    seed: a.seed ?? host.freshSeed(), messages: a.messages ?? 2000, faults: a.crashes ?? 20, profile: a.profile, split: a.split ?? 7,
    ...(a.remote === undefined ? {} : { remote: a.remote }),
  };
  host.out(`qsim run: scenario mta-crash, seed ${opts.seed}, commit ${host.commit}\n`);
  const t0 = host.wallMs();
  const r = await runMtaCrash(opts);
  host.out(mtaReport(r, opts, (host.wallMs() - t0) / 1000));
  return r.violations.length === 0 ? 0 : 1;
}

export function mtaReplayCommand(o: MtaCrashOpts): string {
  const remote = o.remote === undefined || o.remote === 'peers' ? '' : ` --remote ${o.remote}`;
  return `npx tsx scripts/qsim.ts run --scenario mta-crash --seed ${o.seed} --messages ${o.messages} --crashes ${o.faults} --profile ${o.profile} --split ${o.split ?? 7}${remote}`;
}

function mtaReport(r: MtaCrashResult, o: MtaCrashOpts, wallSec: number): string {
  const c = r.counts;
  const f = Object.entries(r.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['crash profile', o.profile],
    ['messages submitted', String(r.accepted + r.uncertain)],
    ['accepted (qmail-queue exit 0)', String(r.accepted)],
    ['cut off by a power loss', String(r.uncertain)],
    ['faults', f === '' ? 'none' : f],
    ['recipients', `${c.recipients}: ${c.delivered} delivered, ${c.bounced} bounced, ${c.held} remote (unresolved) and still queued`],
    ['found', `${r.found.maildir} maildir files, ${r.found.mbox} mbox entries, ${r.found.program} program runs, ${r.found.peer} copies kept by SMTP peers, ${r.found.queued} messages queued`],
    ['duplicates (6.3 window)', `${c.duplicateDeliveries} deliveries (${r.peerWindow.duplicates} after a peer kept a copy unanswered), ${c.duplicateBounces} bounces`],
    ['invariants checked', String(r.checks)],
    ['violations', String(r.violations.length)],
    ['simulated time', `${(r.simMs / 3_600_000).toFixed(1)} h`],
    ['wall time', `${wallSec.toFixed(1)} s`],
    ['events', String(r.events)],
    ['trace hash', r.traceHash],
  ];
  return `${tableText(rows)}${verdictText(r.violations)}\nreplay: ${mtaReplayCommand(o)}\n`;
}
