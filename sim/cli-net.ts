// `qsim run --scenario net-crash`: the whole MTA with mail in over qmail-smtpd and out to scripted
// SMTP peers, under power losses and kill -9 (sim/scenarios/net-crash.ts), from the command line.
// Flags: --seed, --messages (1000), --crashes (faults, 20), --profile, --split. The listeners run as
// in production (root, one qmail-queued each); a caller may ask for listenAs 'qmaild' (a
// qmail-queue per message), which the replay line then carries. Prints the counts,
// the duplicates (fault window, and after a peer kept a message without answering), the
// violations, and a line that replays the run.

import type { CliHost } from './cli.ts';
import type { MtaCliArgs } from './cli-mta.ts';
import type { ListenAs } from './scenarios/net-world.ts';
import { runNetCrash, type NetCrashOpts, type NetCrashResult } from './scenarios/net-crash.ts';
import { tableText, verdictText } from './cli-report.ts';

export async function runNetCli(host: CliHost, a: MtaCliArgs & { listenAs?: ListenAs }): Promise<number> {
  const opts: NetCrashOpts = {
    seed: a.seed ?? host.freshSeed(), messages: a.messages ?? 1000, faults: a.crashes ?? 20, profile: a.profile, split: a.split ?? 7, listenAs: a.listenAs,
  };
  host.out(`qsim run: scenario net-crash, seed ${opts.seed}, commit ${host.commit}\n`);
  const t0 = host.wallMs();
  const r = await runNetCrash(opts);
  host.out(netReport(r, opts, (host.wallMs() - t0) / 1000));
  return r.violations.length === 0 ? 0 : 1;
}

export function netReplayCommand(o: NetCrashOpts): string {
  const listenAs = o.listenAs === undefined || o.listenAs === 'root' ? '' : ` --listen-as ${o.listenAs}`;
  return `npx tsx scripts/qsim.ts run --scenario net-crash --seed ${o.seed} --messages ${o.messages} --crashes ${o.faults} --profile ${o.profile} --split ${o.split ?? 7}${listenAs}`;
}

function netReport(r: NetCrashResult, o: NetCrashOpts, wallSec: number): string {
  const c = r.counts;
  const f = Object.entries(r.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const s = r.sent;
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['crash profile', o.profile],
    ['messages sent', `${s.accepted + s.uncertain + s.refused + s.unsent}: ${s.accepted} accepted (250), ${s.uncertain} uncertain (no reply to the dot), ${s.refused} refused, ${s.unsent} never finished`],
    ['uncertain that arrived', `${r.uncertainArrived} of ${s.uncertain}`],
    ['faults', f === '' ? 'none' : f],
    ['listeners', o.listenAs === 'qmaild' ? 'as qmaild, a qmail-queue per message' : `as root, through qmail-queued: ${r.queued.commits} queued, ${r.queued.named} info msg lines named (${r.queued.unnamed} not)`],
    ['recipients', `${c.recipients}: ${c.delivered} delivered, ${c.bounced} bounced, ${c.held} held (unreachable domain)`],
    ['kept by peers', `${r.peerKept} (${r.peerWindow} without a 250: reset or hang after the dot)`],
    ['duplicates', `${c.duplicateDeliveries} deliveries (${r.windowDuplicates} after a peer's unanswered keep), ${c.duplicateBounces} bounces`],
    ['"Possible duplicate!" logged', String(r.possibleDuplicateLogged)],
    ['invariants checked', String(r.checks)],
    ['violations', String(r.violations.length)],
    ['simulated time', `${(r.simMs / 3_600_000).toFixed(1)} h`],
    ['wall time', `${wallSec.toFixed(1)} s`],
    ['events', String(r.events)],
    ['trace hash', r.traceHash],
  ];
  return `${tableText(rows)}${verdictText(r.violations)}\nreplay: ${netReplayCommand(o)}\n`;
}
