// qsim: the simulator's command line. The logic lives here; the real world (argv, stdout, the wall
// clock for "wall time", entropy for a fresh seed, the git commit) is handed in by scripts/qsim.ts,
// so sim/ itself stays free of ambient IO.
//
//   qsim list: every scenario with one line (the catalogue's: sim/cli-catalogue.ts, --size N)
//   qsim run [--scenario queue-crash|mta-crash|net-crash|NAME from qsim list] [--seed N] [--messages N] [--clients N] [--crashes N]
//            [--profile posix|ext4-ordered|sync] [--split N] [--bigtodo] [--check-determinism] [--listen-as root|qmaild] [--html FILE]
//   qsim explore: sim/cli-explore.ts
//   qsim replay, qsim swarm, qsim merge: sim/cli-replay.ts, sim/cli-swarm.ts
//   qsim replay-queue PATH|TARBALL: sim/cli-replay-queue.ts
//
// Exit: 0 every invariant held; 1 a violation (the report names it, with the replay command);
// 2 usage.

import { parseArgs } from './args.ts';
import { runQueueCrash, type QueueCrashOpts, type QueueCrashResult } from './scenarios/queue-crash.ts';
import type { CrashProfile } from './fs-api.ts';
import type { HostIo } from './host-io.ts';
import { replayCli } from './cli-replay.ts';
import { mergeCli, swarmCli } from './cli-swarm.ts';
import { exploreCli } from './cli-explore.ts';
import { RunSampler } from './run-sampler.ts';
import { writeRunHtml } from './cli-html.ts';
import { sameTraceTwice } from './determinism.ts';
import { runMtaCli } from './cli-mta.ts';
import { runNetCli } from './cli-net.ts';
import { replayQueueCli } from './cli-replay-queue.ts';
import { listText, runCatalogueCli } from './cli-catalogue.ts';
import { isScenarioName } from './scenarios/catalogue.ts';
import { tableText, verdictText } from './cli-report.ts';

export interface CliHost {
  argv: string[];
  out(text: string): void;
  err(text: string): void;
  /** Real elapsed ms, for the "wall time" line only; never feeds the simulation. */
  wallMs(): number;
  /** A fresh seed when none is given. */
  freshSeed(): number;
  commit: string;
  /** Files, progress line, cores, worker threads (replay --trace, swarm, merge). */
  io?: HostIo;
}

const profiles: readonly CrashProfile[] = ['posix', 'ext4-ordered', 'sync'];

const usage = `usage: qsim list\n       qsim run --scenario NAME (from qsim list) [--seed N] [--size N] [--profile P] [--html FILE]\n       qsim run [--scenario queue-crash|mta-crash|net-crash] [--seed N] [--messages N] [--clients N] [--crashes N] [--profile posix|ext4-ordered|sync] [--split N] [--bigtodo] [--listen-as root|qmaild] [--remote peers|unresolved] [--html FILE]\n       qsim explore --help for its flags (sim/cli-explore.ts)\n       qsim replay-queue PATH|TARBALL [--seed N] [--faults N] [--profile P] [--kinds power,kill-send,...] [--html FILE]\n`;

export async function runCli(host: CliHost): Promise<number> {
  const [command = 'run', ...rest] = host.argv;
  if (command === 'replay') return replayCli(host, rest);
  if (command === 'swarm') return swarmCli(host, rest);
  if (command === 'merge') return mergeCli(host, rest);
  if (command === 'explore') return exploreCli(host, rest);
  if (command === 'replay-queue') return replayQueueCli(host, rest);
  if (command === 'list') {
    host.out(listText());
    return 0;
  }
  if (command !== 'run') {
    host.err(usage);
    return 2;
  }
  const parsed = parseArgs(rest, { seed: 'int', messages: 'int', clients: 'int', crashes: 'int', profile: 'string', split: 'int', bigtodo: 'flag', scenario: 'string', 'check-determinism': 'flag', html: 'string', size: 'string', 'listen-as': 'string', remote: 'string' });
  if ('error' in parsed) {
    host.err(`qsim: ${parsed.error}\n${usage}`);
    return 2;
  }
  const a = parsed.values;
  const profile = (a['profile'] ?? 'posix') as CrashProfile;
  const scenario = a['scenario'] ?? 'queue-crash';
  if (profiles.includes(profile) && isScenarioName(scenario as string)) {
    return runCatalogueCli(host, scenario as Parameters<typeof runCatalogueCli>[1], { seed: a['seed'] as number | undefined, size: a['size'] === undefined ? undefined : Number(a['size']), profile, html: a['html'] as string | undefined });
  }
  if (!profiles.includes(profile) || !['queue-crash', 'mta-crash', 'net-crash'].includes(scenario as string)) {
    host.err(usage);
    return 2;
  }
  if (scenario === 'mta-crash') {
    const num = (k: string): number | undefined => a[k] as number | undefined;
    const remote = a['remote'] ?? 'peers';
    if (remote !== 'peers' && remote !== 'unresolved') {
      host.err(`qsim: --remote peers|unresolved\n${usage}`);
      return 2;
    }
    return runMtaCli(host, { seed: num('seed'), messages: num('messages'), crashes: num('crashes'), profile, split: num('split'), remote });
  }
  if (scenario === 'net-crash') {
    const num = (k: string): number | undefined => a[k] as number | undefined;
    const listenAs = a['listen-as'] ?? 'root';
    if (listenAs !== 'root' && listenAs !== 'qmaild') {
      host.err(`qsim: --listen-as root|qmaild\n${usage}`);
      return 2;
    }
    return runNetCli(host, { seed: num('seed'), messages: num('messages'), crashes: num('crashes'), profile, split: num('split'), listenAs });
  }
  const opts: QueueCrashOpts = {
    seed: (a['seed'] as number | undefined) ?? host.freshSeed(),
    messages: (a['messages'] as number | undefined) ?? 5000,
    clients: (a['clients'] as number | undefined) ?? 32,
    crashes: (a['crashes'] as number | undefined) ?? 20,
    profile,
    split: (a['split'] as number | undefined) ?? 23,
    bigtodo: a['bigtodo'] === true,
  };
  host.out(`qsim run: scenario queue-crash, seed ${opts.seed}, commit ${host.commit}\n`);
  const t0 = host.wallMs();
  const sampler = a['html'] === undefined ? undefined : new RunSampler();
  const r = await runQueueCrash(sampler === undefined ? opts : { ...opts, sampler });
  host.out(report(r, opts, (host.wallMs() - t0) / 1000));
  if (sampler !== undefined && !writeRunHtml(host, a['html'] as string, r, opts, sampler, replayCommand(opts))) return 2;
  if (a['check-determinism'] === true && !(await sameTraceTwice(host, opts, r))) return 1;
  return r.violations.length === 0 ? 0 : 1;
}

export function replayCommand(o: QueueCrashOpts): string {
  const flags = [`--seed ${o.seed}`, `--messages ${o.messages}`, `--clients ${o.clients}`, `--crashes ${o.crashes}`, `--profile ${o.profile}`, `--split ${o.split ?? 23}`];
  if (o.bigtodo === true) flags.push('--bigtodo');
  return `npx tsx scripts/qsim.ts run ${flags.join(' ')}`;
}

function report(r: QueueCrashResult, o: QueueCrashOpts, wallSec: number): string {
  const c = r.counts;
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['crash profile', o.profile],
    ['messages submitted', String(c.attempted)],
    ['accepted (qmail-queue exit 0)', String(c.accepted)],
    ['refused (exit code reported)', String(c.refused)],
    ['cut off by a power loss', `${c.cut} (of which queued anyway: ${c.cutButQueued})`],
    ['power losses', `${r.crashes} (${r.crashChoices} crash-state choices)`],
    ['invariants checked', String(r.checks)],
    ['violations', String(r.violations.length)],
    ['simulated time', `${(r.simMs / 1000).toFixed(1)} s (${(r.simMs / 3_600_000).toFixed(1)} h)`],
    ['wall time', `${wallSec.toFixed(1)} s`],
    ['events', String(r.events)],
    ['trace hash', r.traceHash],
  ];
  return `${tableText(rows)}${verdictText(r.violations)}\nreplay: ${replayCommand(o)}\n`;
}
