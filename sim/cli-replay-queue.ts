// qsim replay-queue PATH|TARBALL [--seed N] [--faults N] [--profile posix|ext4-ordered|sync]
//                   [--kinds power,kill-send,...] [--users a,b] [--html FILE]
// Imports a real queue (ours or qmail-1.03's; a directory or a .tar/.tar.gz/.tgz, read by the host:
// scripts/qsim-tree.ts) and delivers it in the simulator under faults (sim/replay-queue.ts). Prints
// the summary table, each recipient's outcome, the notes of the import, the violations, and a line
// that replays the run. Exit: 0 every check held; 1 a violation; 2 usage or an unreadable queue.

import type { CliHost } from './cli.ts';
import type { CrashProfile } from './fs-api.ts';
import { parseArgs } from './args.ts';
import { mtaFaults, type MtaFault } from './scenarios/mta-crash.ts';
import { replayQueue, ReplayQueueError, type ReplayQueueOpts, type ReplayQueueResult } from './replay-queue.ts';
import { htmlReport } from './html-report.ts';
import { tableText, verdictText } from './cli-report.ts';

export const replayQueueUsage = 'usage: qsim replay-queue PATH|TARBALL [--seed N] [--faults N] [--profile posix|ext4-ordered|sync] [--kinds power,kill-send,...] [--users a,b] [--html FILE]\n';

const profiles: readonly string[] = ['posix', 'ext4-ordered', 'sync'];

interface Parsed {
  path: string;
  opts: ReplayQueueOpts;
  html: string | undefined;
}

function parse(host: CliHost, argv: readonly string[]): Parsed | string {
  const positional = argv.filter((a, i) => !a.startsWith('--') && (i === 0 || !/^--(seed|faults|profile|kinds|users|html)$/.test(argv[i - 1] as string)));
  if (positional.length !== 1) return 'one PATH or TARBALL';
  const path = positional[0] as string;
  const parsed = parseArgs(argv.filter((a) => a !== path), { seed: 'int', faults: 'int', profile: 'string', kinds: 'string', users: 'string', html: 'string' });
  if ('error' in parsed) return parsed.error;
  const a = parsed.values;
  const profile = (a['profile'] ?? 'posix') as string;
  if (!profiles.includes(profile)) return `no crash profile ${profile}`;
  const kinds = a['kinds'] === undefined ? undefined : String(a['kinds']).split(',');
  const unknown = kinds?.find((k) => !(mtaFaults as readonly string[]).includes(k));
  if (unknown !== undefined) return `no fault kind ${unknown} (${mtaFaults.join(', ')})`;
  const users = a['users'] === undefined ? undefined : String(a['users']).split(',').filter((u) => u !== '');
  const opts: ReplayQueueOpts = {
    seed: (a['seed'] as number | undefined) ?? host.freshSeed(),
    faults: (a['faults'] as number | undefined) ?? 5,
    profile: profile as CrashProfile,
    ...(kinds === undefined ? {} : { kinds: kinds as MtaFault[] }),
    ...(users === undefined ? {} : { users }),
  };
  return { path, opts, html: a['html'] as string | undefined };
}

export function replayQueueCommand(path: string, o: ReplayQueueOpts): string {
  const flags = [`--seed ${o.seed}`, `--faults ${o.faults}`, `--profile ${o.profile}`];
  if (o.kinds !== undefined) flags.push(`--kinds ${o.kinds.join(',')}`);
  if (o.users !== undefined) flags.push(`--users ${o.users.join(',')}`);
  return `npx tsx scripts/qsim.ts replay-queue ${path} ${flags.join(' ')}`;
}

export async function replayQueueCli(host: CliHost, argv: readonly string[]): Promise<number> {
  const p = parse(host, argv);
  if (typeof p === 'string') {
    host.err(`qsim replay-queue: ${p}\n${replayQueueUsage}`);
    return 2;
  }
  if (host.io?.readTree === undefined) {
    host.err('qsim replay-queue: this host cannot read files\n');
    return 2;
  }
  let r: ReplayQueueResult;
  const t0 = host.wallMs();
  try {
    const tree = host.io.readTree(p.path);
    host.out(`qsim replay-queue: ${p.path}, seed ${p.opts.seed}, commit ${host.commit}\n`);
    r = await replayQueue(tree, p.opts);
  } catch (e) {
    if (!(e instanceof ReplayQueueError)) throw e;
    host.err(`qsim replay-queue: ${e.message}\n`);
    return 2;
  }
  const replay = replayQueueCommand(p.path, p.opts);
  host.out(report(r, p.opts, (host.wallMs() - t0) / 1000, replay));
  if (p.html !== undefined) {
    host.io.writeFile(p.html, htmlReport({ title: `qsim replay-queue: ${r.source}, seed ${r.seed}`, rows: htmlRows(r, p.opts, host.commit), plots: [], crashTimes: [], footer: `replay: ${replay}` }));
    host.out(`html report: ${p.html}\n`);
  }
  return r.violations.length === 0 ? 0 : 1;
}

function summary(r: ReplayQueueResult, o: ReplayQueueOpts, wallSec: number | null): [string, string][] {
  const c = r.counts;
  const f = Object.entries(r.faults).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const states = ['todo', 'preprocessed', 'uncommitted'].map((s) => `${r.messages.filter((m) => m.state === s).length} ${s}`).join(', ');
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['queue', `${r.source} (${r.flavour}, split ${r.split}${r.bigtodo ? ', bigtodo' : ''})`],
    ['crash profile', o.profile],
    ['messages imported', `${r.messages.length}: ${states}`],
    ['users created', r.usersCreated.length === 0 ? 'none' : r.usersCreated.join(', ')],
    ['faults', f === '' ? 'none' : `${f} (${r.faultsMidDelivery} while mail was due)`],
    ['recipients', `${r.outcomes.length}: ${c.delivered} delivered, ${c.bounced} bounced, ${c.deferred} remote deferred, ${c.held} held, ${c['done-before']} done before, ${c.none} without outcome`],
    ['duplicates (6.3 window)', String(c.duplicates)],
    ['log lines', `${r.logLines} (${Object.entries(r.logKinds).map(([k, n]) => `${k} ${n}`).join(', ')})`],
    ['left in the queue', String(r.leftovers.length)],
    ['violations', String(r.violations.length)],
    ['simulated time', `${(r.simMs / 3_600_000).toFixed(1)} h`],
  ];
  if (wallSec !== null) rows.push(['wall time', `${wallSec.toFixed(1)} s`]);
  rows.push(['events', String(r.events)], ['trace hash', r.traceHash]);
  return rows;
}

function report(r: ReplayQueueResult, o: ReplayQueueOpts, wallSec: number, replay: string): string {
  const rows = summary(r, o, wallSec);
  const outcomes = r.outcomes.slice(0, 50).map((x) => `    ${String(x.oldId).padStart(8)} -> ${String(x.id).padEnd(8)} ${x.channel.padEnd(6)} ${x.outcome.padEnd(11)} ${x.recipient}`);
  if (r.outcomes.length > 50) outcomes.push(`    ... ${r.outcomes.length - 50} more`);
  const notes = r.notes.slice(0, 30).map((n) => `    ${n}`);
  if (r.notes.length > 30) notes.push(`    ... ${r.notes.length - 30} more`);
  const verdict = verdictText(r.violations, 'every check held');
  return `${tableText(rows)}  outcomes (old id -> id here):\n${outcomes.join('\n')}\n${notes.length > 0 ? `  import notes:\n${notes.join('\n')}\n` : ''}${verdict}\nreplay: ${replay}\n`;
}

function htmlRows(r: ReplayQueueResult, o: ReplayQueueOpts, commit: string): [string, string][] {
  const rows: [string, string][] = [['commit', commit], ...summary(r, o, null)];
  for (const x of r.outcomes) rows.push([`message ${x.oldId} (${x.id})`, `${x.channel} ${x.recipient}: ${x.outcome}`]);
  for (const n of r.notes) rows.push(['note', n]);
  for (const v of r.violations) rows.push(['violation', v]);
  return rows;
}
