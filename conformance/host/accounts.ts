// Accounts on this host for the host conformance tests: ids by name, users created when missing
// (with a Maildir home: userWithMaildir), and qmail-queue run as one of them (queueAs). Test files run in parallel workers, and useradd/groupadd fail while another process
// holds the lock on /etc/passwd, so every account change runs under one flock(1) lock, and checks
// again under it whether the account still is missing.

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
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

export interface MaildirUser {
  uid: number;
  gid: number;
  /** BASE/home/NAME, 0755, the user's. */
  home: string;
  /** home/Maildir, with tmp, new and cur, 0700, the user's. */
  maildir: string;
}

/** An ordinary user (created when missing) whose home, BASE/home/NAME, holds an empty ./Maildir/:
 *  the account's home is set there (usermod -d), so that qmail-getpw and the pool find it. The
 *  home is the host's, not the test's: test files that run at the same time need different names,
 *  or one file's mail lands in the other's Maildir. */
export function userWithMaildir(base: string, name: string): MaildirUser {
  const user = ensureUser(name, name);
  const home = join(base, 'home', name);
  underAccountsLock('usermod', ['-d', home, name]);
  mkdirSync(join(base, 'home'), { mode: 0o755, recursive: true });
  mkdirSync(home, { mode: 0o755 });
  for (const d of ['Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) {
    mkdirSync(join(home, d), { mode: 0o700 });
    chownSync(join(home, d), user.uid, user.gid);
  }
  chownSync(home, user.uid, user.gid);
  chmodSync(home, 0o755);
  return { ...user, home, maildir: join(home, 'Maildir') };
}

/** Runs HOME/bin/qmail-queue (the setuid helper) as uid:gid, as a local user's mail program would:
 *  the message on fd 0, the envelope (`F...\0T...\0\0`) on fd 1. Resolves with its exit code. */
export function queueAs(home: string, uid: number, gid: number, message: string | Uint8Array, envelope: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', join(home, 'bin/qmail-queue')], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin' },
    });
    child.on('error', reject);
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('error', () => undefined);
    child.on('close', (code) => resolve(code));
    child.stdin?.end(typeof message === 'string' ? Buffer.from(message, 'latin1') : message);
    (child.stdout as unknown as Socket).end(Buffer.from(envelope, 'latin1'));
  });
}
