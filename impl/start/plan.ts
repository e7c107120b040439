// What qmail-start will run: for each daemon its program, argv and credentials, decided before the
// first spawn so that a missing user or logger fails with nothing started.

import type { Sys } from '../sys/types.ts';
import type { DaemonRole } from '../../spec/start.ts';
import { daemonPrograms } from '../../spec/start.ts';
import { daemonArgv, queueDirOf } from './argv.ts';
import { credsOf, type Creds, type Ids } from './creds.ts';
import type { StartOptions } from './options.ts';
import { daemonEnv } from './node-options.ts';

export interface Launch {
  role: DaemonRole;
  /** The name in qmail-start's messages (indimail's: "qmail-clean (todo-proc)"). */
  label: string;
  path: string;
  argv: string[];
  creds: Creds;
  /** qmail-start's environment with NODE_OPTIONS cut to heap sizes (node-options.ts). */
  env: Record<string, string>;
}

export type Plan = Record<Exclude<DaemonRole, 'logger'>, Launch> & { logger: Launch | null };

export const daemonRoles = ['lspawn', 'rspawn', 'cleanSend', 'cleanTodo', 'todo', 'send'] as const;

export function labelOf(role: Exclude<DaemonRole, 'logger'>): string {
  if (role === 'cleanSend') return `${daemonPrograms.cleanSend} (${daemonPrograms.send})`;
  if (role === 'cleanTodo') return `${daemonPrograms.cleanTodo} (${daemonPrograms.todo})`;
  return daemonPrograms[role];
}

export interface PlanResult {
  plan: Plan;
  /** indimail's "no supplementary groups defined for ..." warnings. */
  warnings: string[];
}

/** loggerPath: where PATH found the logger's argv[0] (null: no logger). */
export async function makePlan(sys: Sys, home: string, opts: StartOptions, ids: Ids, loggerPath: string | null): Promise<PlanResult> {
  const env = sys.proc.self.env;
  const useSetgroups = env['USE_SETGROUPS'];
  const queueDir = queueDirOf(env);
  const warnings: string[] = [];
  const { env: childEnv, dropped } = daemonEnv(env);
  if (dropped.length > 0) warnings.push(`NODE_OPTIONS ${dropped.join(' ')} not passed to the daemons: it may print to their fd 1, a protocol channel`);
  const launch = async (role: DaemonRole, label: string, path: string, argv: string[]): Promise<Launch> => {
    const { creds, warning } = await credsOf(sys, ids, role, useSetgroups);
    if (warning !== null) warnings.push(`${warning} (${label})`);
    return { role, label, path, argv, creds, env: childEnv };
  };
  // One at a time: the warnings come out in the table's order in both worlds.
  const daemons: Partial<Record<(typeof daemonRoles)[number], Launch>> = {};
  for (const role of daemonRoles) daemons[role] = await launch(role, labelOf(role), `${home}/bin/${daemonPrograms[role]}`, daemonArgv(role, opts, queueDir));
  const logger = loggerPath === null ? null : await launch('logger', opts.logger[0] as string, loggerPath, [...opts.logger]);
  return { plan: { ...(daemons as Record<(typeof daemonRoles)[number], Launch>), logger }, warnings };
}
