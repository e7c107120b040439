// qsim explore: every crash point of a small queue-crash run, every post-crash state the profile
// allows there (up to named bounds), each recovered and checked (sim/explore.ts).
//
//   qsim explore [--seed N] [--messages 10] [--clients 2] [--profile posix|ext4-ordered|sync] [--split N]
//                [--states-per-point N] [--states-max N] [--at EVENT [--choices a,b,c]]
//
// Exit: 0 no violation; 1 a violation (each with its one-line replay); 2 usage.

import { parseArgs } from './args.ts';
import type { CliHost } from './cli.ts';
import type { CrashProfile } from './fs-api.ts';
import { explore, ExploreUsage, statesMaxDefault, statesPerPointMaxDefault, type ExploreOpts, type ExploreResult } from './explore.ts';
import { tableText } from './cli-report.ts';

const profiles: readonly CrashProfile[] = ['posix', 'ext4-ordered', 'sync'];
export const exploreMessagesDefault = 10;
export const exploreClientsDefault = 2;

const usage =
  'usage: qsim explore [--seed N] [--messages N] [--clients N] [--profile posix|ext4-ordered|sync] [--split N] ' +
  '[--states-per-point N] [--states-max N] [--at EVENT [--choices a,b,...]]\n';

export async function exploreCli(host: CliHost, argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, {
    seed: 'int', messages: 'int', clients: 'int', profile: 'string', split: 'int',
    'states-per-point': 'int', 'states-max': 'int', at: 'int', choices: 'string',
  });
  if ('error' in parsed) {
    host.err(`qsim: ${parsed.error}\n${usage}`);
    return 2;
  }
  const a = parsed.values;
  const profile = (a['profile'] ?? 'posix') as CrashProfile;
  const choices = parseChoices(a['choices'] as string | undefined);
  if (!profiles.includes(profile) || choices === 'bad' || (choices !== undefined && a['at'] === undefined)) {
    host.err(usage);
    return 2;
  }
  const opts: ExploreOpts = {
    crash: {
      seed: (a['seed'] as number | undefined) ?? host.freshSeed(),
      messages: (a['messages'] as number | undefined) ?? exploreMessagesDefault,
      clients: (a['clients'] as number | undefined) ?? exploreClientsDefault,
      profile,
      split: (a['split'] as number | undefined) ?? 7,
    },
    statesPerPointMax: (a['states-per-point'] as number | undefined) ?? statesPerPointMaxDefault,
    statesMax: (a['states-max'] as number | undefined) ?? statesMaxDefault,
    ...(a['at'] === undefined ? {} : { at: a['at'] as number }),
    ...(choices === undefined ? {} : { choices }),
    onPoint: (at, events, states) => host.io?.progress(`explore: crash point ${at}/${events}, ${states} states run`),
  };
  host.out(`qsim explore: scenario queue-crash, seed ${opts.crash.seed}, commit ${host.commit}\n`);
  const t0 = host.wallMs();
  let r: ExploreResult;
  try {
    r = await explore(opts);
  } catch (e) {
    if (!(e instanceof ExploreUsage)) throw e;
    host.err(`qsim: ${e.message}\n`);
    return 2;
  } finally {
    host.io?.progress('');
  }
  host.out(exploreReport(r, opts, (host.wallMs() - t0) / 1000));
  return r.violations.length === 0 ? 0 : 1;
}

function parseChoices(s: string | undefined): number[] | undefined | 'bad' {
  if (s === undefined) return undefined;
  if (s === '') return [];
  if (!/^[0-9]+(,[0-9]+)*$/.test(s)) return 'bad';
  return s.split(',').map(Number);
}

/** The one-line command that rebuilds exactly one crash state and checks it. */
export function exploreReplayCommand(o: ExploreOpts, at: number, choices: readonly number[]): string {
  const c = o.crash;
  return `npx tsx scripts/qsim.ts explore --seed ${c.seed} --messages ${c.messages} --clients ${c.clients} --profile ${c.profile} --split ${c.split ?? 7} --at ${at} --choices ${choices.join(',')}`;
}

export function exploreReport(r: ExploreResult, o: ExploreOpts, wallSec: number): string {
  const rows: [string, string][] = [
    ['seed', String(o.crash.seed)],
    ['crash profile', o.crash.profile],
    ['messages, clients', `${o.crash.messages}, ${o.crash.clients}`],
    ['events in the uncrashed run', String(r.events)],
    ['crash points explored', `${r.points}${r.stoppedEarly ? ` (STOPPED at --states-max ${o.statesMax}: later points not visited)` : ''}`],
    ['distinct states per point', `min ${r.statesMin}, max ${r.statesMax}`],
    ['crash states (answer sequences) run', String(r.statesTotal)],
    ['  of which distinct and checked', String(r.statesTotal - r.duplicates)],
    ['points cut by --states-per-point', `${r.truncatedPoints} (bound ${o.statesPerPointMax}; those points are NOT exhaustive)`],
    ['invariants checked', String(r.checks)],
    ['violations', String(r.violations.length)],
    ['wall time', `${wallSec.toFixed(1)} s`],
  ];
  const shown = r.violations.slice(0, 10).map((v) =>
    `  at event ${v.at}, choices [${v.choices.join(',')}]: ${v.violations.slice(0, 3).join('; ')}\n    replay: ${exploreReplayCommand(o, v.at, v.choices)}`);
  const verdict = r.violations.length === 0
    ? (r.truncatedPoints === 0 && !r.stoppedEarly ? 'every crash state held every invariant' : 'every explored crash state held every invariant (exploration bounded, see above)')
    : `FAILED in ${r.violations.length} states:\n${shown.join('\n')}`;
  return `${tableText(rows)}${verdict}\n`;
}
