// Each daemon's argv, as indimail's qmail-start builds it: QUEUEDIR (when set) is appended so that ps
// tells the queues apart; qmail-clean also names its client, but only after a QUEUEDIR (indimail
// fills qcargs[2] behind an empty qcargs[1], which ends the list). Pure.

import type { DaemonRole } from '../../spec/start.ts';
import { daemonPrograms } from '../../spec/start.ts';
import { sendFlags, todoFlags, type StartOptions } from './options.ts';

export function daemonArgv(role: Exclude<DaemonRole, 'logger'>, opts: StartOptions, queueDir: string | null): string[] {
  const q = queueDir === null ? [] : [queueDir];
  const name = daemonPrograms[role];
  switch (role) {
    case 'send':
      return [name, ...sendFlags(opts.flags), ...q];
    case 'todo':
      return [name, ...todoFlags(opts.flags), ...q];
    case 'lspawn':
      return [name, opts.defaultDelivery, ...q];
    case 'rspawn':
      return [name, ...q];
    case 'cleanSend':
      return queueDir === null ? [name] : [name, queueDir, daemonPrograms.send];
    case 'cleanTodo':
      return queueDir === null ? [name] : [name, queueDir, daemonPrograms.todo];
  }
}

/** QUEUEDIR from the environment; empty counts as unset. */
export function queueDirOf(env: Readonly<Record<string, string>>): string | null {
  const q = env['QUEUEDIR'];
  return q === undefined || q === '' ? null : q;
}
