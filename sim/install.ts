// Installs qmail into a simulated world, as qmail-setup does on a host: the qmail users and groups,
// the installation tree, every program as a `#!sim` file (qmail-queue setuid qmailq, 04711), the
// installation's control files, and the queue made by the real queue-fix program run as root.

import type { Kernel } from './kernel.ts';
import type { QueueLayout } from '../spec/queue.ts';
import { qmailPrograms } from './registry.ts';
import type { Program } from '../impl/sys/types.ts';
import { simSh } from './sh.ts';

/** Fixed uids and gids of the simulated qmail users (qmail's usual numbering). */
export const simIds = {
  users: { alias: 7790, qmaild: 7791, qmaill: 7792, qmailp: 7793, qmailq: 7794, qmailr: 7795, qmails: 7796 },
  groups: { qmail: 2107, nofiles: 2108 },
} as const;

export interface InstallOpts {
  home?: string;
  split?: number;
  bigtodo?: boolean;
  /** Replace a program's main (e.g. a deliberately broken qmail-queue in a test). */
  override?: Record<string, Program>;
}

export interface Installation {
  home: string;
  queue: QueueLayout;
}

const root = { uid: 0, gid: 0 };
/** The remote spawner installed as bin/qmail-rspawn while there is no real one. */
const rspawnStandIn = 'qmail-rspawn-defer';

export async function installQmail(k: Kernel, opts: InstallOpts = {}): Promise<Installation> {
  const home = opts.home ?? '/var/qmail';
  const queue: QueueLayout = { dir: `${home}/queue`, split: opts.split ?? 23, bigtodo: opts.bigtodo ?? false };
  addUsers(k, home);
  for (const [name, main] of Object.entries({ ...qmailPrograms, ...opts.override })) k.programs.register(name, main);
  // qmail-local runs |program lines with /bin/sh -c (a tiny one: sim/sh.ts).
  if (k.programs.get('sh') === undefined) k.programs.register('sh', simSh);
  k.install('/bin/sh', 'sh', { ...root, mode: 0o755 });
  for (const dir of ['', '/bin', '/control', '/users']) k.mkdirs(`${home}${dir}`, { ...root, mode: 0o755 });
  k.mkdirs(`${home}/alias`, { uid: simIds.users.alias, gid: simIds.groups.qmail, mode: 0o2755 });
  for (const name of Object.keys(qmailPrograms)) {
    const setuid = name === 'qmail-queue';
    const owner = setuid ? { uid: simIds.users.qmailq, gid: simIds.groups.qmail, mode: 0o4711 } : { ...root, mode: 0o755 };
    k.install(`${home}/bin/${name}`, name, owner);
  }
  // qmail-start runs bin/qmail-rspawn; until the real one exists it is the deferring stand-in.
  if (qmailPrograms['qmail-rspawn'] === undefined && qmailPrograms[rspawnStandIn] !== undefined) {
    k.install(`${home}/bin/qmail-rspawn`, rspawnStandIn, { ...root, mode: 0o755 });
  }
  k.writeFile(`${home}/control/conf-split`, `${queue.split}\n`, { ...root, mode: 0o644 });
  k.writeFile(`${home}/control/conf-bigtodo`, queue.bigtodo ? '1\n' : '0\n', { ...root, mode: 0o644 });
  k.writeFile(`${home}/control/me`, 'sim.example\n', { ...root, mode: 0o644 });
  const fix = await queueFix(k, home, []);
  if (fix.code !== 0) throw new Error(`sim install: queue-fix exited ${fix.code}: ${fix.stdout}${fix.stderr}`);
  return { home, queue };
}

/** Runs the real queue-fix as root (at boot, or with -n to check). */
export async function queueFix(k: Kernel, home: string, flags: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const h = k.spawn(`${home}/bin/queue-fix`, ['queue-fix', ...flags, `${home}/queue`], { env: { QMAILHOME: home } });
  const done = h.wait();
  await k.run({ until: () => h.status() !== null });
  const r = await done;
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

function addUsers(k: Kernel, home: string): void {
  const { users, groups } = simIds;
  k.users.addGroup('root', 0);
  k.users.addUser({ name: 'root', uid: 0, gid: 0, home: '/root' });
  k.users.addGroup('qmail', groups.qmail);
  k.users.addGroup('nofiles', groups.nofiles);
  for (const [name, uid] of Object.entries(users)) {
    const gid = name === 'qmailq' || name === 'qmailr' || name === 'qmails' ? groups.qmail : groups.nofiles;
    k.users.addUser({ name, uid, gid, home: name === 'alias' ? `${home}/alias` : home });
  }
}

/** Ordinary users who submit mail: user1 … userN with uids from 1000. */
export function addSubmitters(k: Kernel, n: number): number[] {
  k.users.addGroup('users', 100);
  return Array.from({ length: n }, (_, i) => {
    const uid = 1000 + i;
    k.users.addUser({ name: `user${i + 1}`, uid, gid: 100, home: `/home/user${i + 1}` });
    return uid;
  });
}
