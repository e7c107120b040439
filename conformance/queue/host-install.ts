// A qmail installation on this host, for the host tests (queue-host.test.ts, setup-host.test.ts):
// the programs built into a temporary directory of its own, qmail-setup run from there as root
// with --create-users into a temporary home, and an ordinary user who submits mail. The qmail
// users and groups stay on the host, as on any qmail machine; so does the submitter (qqsubmit).
// qmail-setup may create users, so it runs under the accounts lock (conformance/host/accounts.ts).

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureUser, underAccountsLock } from '../host/accounts.ts';

export { gidOfGroup, isRoot, uidOf } from '../host/accounts.ts';

const repo = resolve(import.meta.dirname, '../..');
const submitterName = 'qqsubmit';

/** The submitting user, in a group of its own: created when missing. */
export function ensureSubmitter(): { uid: number; gid: number } {
  return ensureUser(submitterName, submitterName);
}

/** True when setuid bits are ignored below path (the setuid helper cannot work there). */
export function nosuid(path: string): boolean {
  const opts = execFileSync('findmnt', ['-n', '-o', 'OPTIONS', '-T', path], { encoding: 'utf8' });
  return opts.split(',').includes('nosuid');
}

/** A temporary directory every user can traverse (the qmail users and the submitter reach the
 *  home through it), with the programs built into <tmp>/dist. */
export function buildIntoTemp(prefix: string): string {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(tmp, 0o755);
  execFileSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'scripts/build.ts'), join(tmp, 'dist')], { cwd: repo, stdio: 'pipe' });
  return tmp;
}

export interface SetupOpts {
  split: number;
  bigtodo?: boolean;
}

/** Runs the built qmail-setup for home (creating the qmail users when missing); returns its stdout. */
export function qmailSetup(tmp: string, home: string, opts: SetupOpts): string {
  const args = ['--home', home, '--create-users', '--split', String(opts.split), ...(opts.bigtodo === true ? ['--bigtodo'] : [])];
  return underAccountsLock(join(tmp, 'dist/bin/qmail-setup'), args);
}

export function removeTemp(tmp: string | undefined): void {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
}
