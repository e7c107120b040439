// What qmail-lspawn learns once at start: the installation, the queue, the qmail ids it checks and
// runs helpers as, the environment switches of qmail-lspawn(8), and the environments it hands on.

import type { Sys } from '../sys/types.ts';
import { qmailGroups, qmailUsers } from '../../spec/queue.ts';
import { localProgram, workerNodeOptions, workerProgram } from '../../spec/spawn.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';

export interface LspawnConfig {
  home: string;
  /** Absolute path of queue/mess (lspawn's cwd, as in qmail). */
  messDir: string;
  defaultDelivery: string;
  /** The owner every message file must have. */
  qmailqUid: number;
  /** qmail-getpw runs as qmailp, group nofiles (only with QMAILGETPW; otherwise getpw is in-process). */
  getpwUid: number;
  getpwGid: number;
  /** QMAILLOCAL: run this program per delivery, as qmail runs qmail-local; null = the worker pool. */
  qmailLocal: string | null;
  /** The program a per-delivery process runs when QMAILLOCAL is unset (messages too big for a worker). */
  localProgram: string;
  /** QMAILGETPW: run this program per delivery instead of the in-process lookup. */
  qmailGetpw: string | null;
  workerProgram: string;
  setuserPrivileges: boolean;
  authself: boolean;
  /** ROUTE_NULL_USER, set and non-empty (only consulted with AUTHSELF). */
  routeNullUser: string | null;
  /** Environment of every delivery, before MESSID: ours without QMAILREMOTE (indimail). */
  deliveryEnv: Record<string, string>;
  /** Environment of a worker process itself (its deliveries get deliveryEnv + MESSID). */
  workerEnv: Record<string, string>;
}

/** Environment entries that cost a Node process start time or change its behaviour; a worker is our
 *  own Node program and never wants them (../shared/research/node-ecosystem.md 6, pitfall 7); it
 *  gets its own NODE_OPTIONS. Deliveries still see them (deliveryEnv), as with qmail. */
const nodeOnly = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];

export type ConfigError = { error: string };

export async function loadConfig(sys: Sys, defaultDelivery: string): Promise<LspawnConfig | ConfigError> {
  const env = sys.proc.self.env;
  let home: string;
  try {
    home = qmailHome(sys);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  const layout = await queueLayout(sys, home);
  if ('error' in layout) return { error: `${layout.error}: ${layout.detail}` };
  const qmailq = await sys.users.getpwnam(qmailUsers.queue);
  const qmailp = await sys.users.getpwnam(qmailUsers.passwd);
  const nofiles = await sys.users.getgrnam(qmailGroups.nofiles);
  if (qmailq === null) return { error: `no user ${qmailUsers.queue}` };
  const deliveryEnv = { ...env };
  delete deliveryEnv['QMAILREMOTE'];
  const workerEnv = { ...deliveryEnv };
  for (const name of nodeOnly) delete workerEnv[name];
  workerEnv['NODE_OPTIONS'] = workerNodeOptions;
  const set = (name: string): string | null => (env[name] === undefined ? null : (env[name] as string));
  const nonEmpty = (name: string): string | null => (env[name] === undefined || env[name] === '' ? null : (env[name] as string));
  return {
    home,
    messDir: `${layout.dir}/mess`,
    defaultDelivery,
    qmailqUid: qmailq.uid,
    // Without qmailp/nofiles, QMAILGETPW cannot run safely: ids -1 make every spawn fail (QLX_EXECPW).
    getpwUid: qmailp?.uid ?? -1,
    getpwGid: nofiles?.gid ?? -1,
    qmailLocal: nonEmpty('QMAILLOCAL'),
    localProgram: `${home}/${localProgram}`,
    qmailGetpw: nonEmpty('QMAILGETPW') ?? null,
    workerProgram: `${home}/${workerProgram}`,
    setuserPrivileges: set('SETUSER_PRIVILEGES') !== null,
    authself: set('AUTHSELF') !== null,
    routeNullUser: nonEmpty('ROUTE_NULL_USER'),
    deliveryEnv,
    workerEnv,
  };
}
