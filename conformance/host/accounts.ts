// Accounts on this host for the host conformance tests: ids by name, and users created when
// missing. Test files run in parallel workers, and useradd/groupadd fail while another process
// holds the lock on /etc/passwd, so every account change runs under one flock(1) lock, and checks
// again under it whether the account still is missing.

import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Serializes account changes between test processes (flock(1) waits for it). */
const accountsLock = join(tmpdir(), 'qmail-ts-accounts.lock');
/** Names the tests create: plain, so they never need quoting inside the locked shell command. */
const plainName = /^[a-z][a-z0-9_-]{0,30}$/;

export const isRoot = process.getuid?.() === 0;

export function uidOf(name: string): number {
  return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
}

export function primaryGidOf(name: string): number {
  return Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
}

export function gidOfGroup(group: string): number {
  return Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
}

/** Runs a command holding the accounts lock; returns its stdout. */
export function underAccountsLock(command: string, args: string[]): string {
  return execFileSync('flock', [accountsLock, command, ...args], { encoding: 'utf8' });
}

/** Creates group `group` (when missing) and user `name` in it (when missing): no home, no login. */
export function ensureUser(name: string, group: string): { uid: number; gid: number } {
  if (!plainName.test(name) || !plainName.test(group)) throw new Error(`ensureUser: not a plain name: ${name} ${group}`);
  const script = [
    `getent group ${group} >/dev/null || groupadd ${group}`,
    `getent passwd ${name} >/dev/null || useradd -M -N -g ${group} -s /usr/sbin/nologin -d /nonexistent ${name}`,
  ].join(' && ');
  underAccountsLock('sh', ['-c', script]);
  return { uid: uidOf(name), gid: primaryGidOf(name) };
}
