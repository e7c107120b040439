// qmail-lspawn on this host, for the host conformance test: the build installed by qmail-setup into
// a temporary home, ordinary users with temporary homes they own (created when missing, their home
// pointed at this run's directory), messages queued through the installed setuid qmail-queue (so
// that mess files are qmailq's), and qmail-lspawn run as root speaking the spawn protocol.
// Account changes run under the accounts lock (conformance/host/accounts.ts).

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { ensureSubmitter } from '../queue/host-install.ts';
import { primaryGidOf, uidOf, underAccountsLock } from '../host/accounts.ts';

export const path = '/usr/bin:/bin:/usr/sbin:/sbin';

export interface HostUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A user (in a group of its own) whose home is `home`, owned by it, mode 0755, with a Maildir;
 *  with `extraGroup`, also a member of that group. */
export function ensureHomeUser(name: string, home: string, extraGroup?: string): HostUser {
  const script = [
    `getent group ${name} >/dev/null || groupadd ${name}`,
    `getent passwd ${name} >/dev/null || useradd -M -N -g ${name} -s /usr/sbin/nologin -d ${home} ${name}`,
    `usermod -d ${home} ${name}`,
    ...(extraGroup === undefined ? [] : [`getent group ${extraGroup} >/dev/null || groupadd ${extraGroup}`, `usermod -a -G ${extraGroup} ${name}`]),
  ].join(' && ');
  underAccountsLock('sh', ['-c', script]);
  const u = { name, uid: uidOf(name), gid: primaryGidOf(name), home };
  for (const d of ['', 'Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) {
    mkdirSync(join(home, d), { recursive: true });
    chownSync(join(home, d), u.uid, u.gid);
    chmodSync(join(home, d), d === '' ? 0o755 : 0o700);
  }
  return u;
}

/** A file in the user's home, owned by the user. */
export function userFile(u: HostUser, name: string, text: string, mode = 0o644): void {
  const p = join(u.home, name);
  writeFileSync(p, text);
  chownSync(p, u.uid, u.gid);
  chmodSync(p, mode);
}

/** Queues a message through bin/qmail-queue as the submitter; returns its messid (`S/ID`). */
export function queueMessage(home: string, split: number, message: string, recipient: string): string {
  const todo = join(home, 'queue/todo');
  const before = new Set(readdirSync(todo));
  const who = ensureSubmitter();
  const envelope = `Fsender@example.com\0T${recipient}\0\0`;
  // fd 1 of qmail-queue is the envelope: a file opened for reading, given as its stdout.
  const envFile = join(home, '..', `envelope-${process.pid}-${Date.now()}`);
  writeFileSync(envFile, envelope);
  execFileSync('sh', ['-c', `setpriv --reuid ${who.uid} --regid ${who.gid} --clear-groups ${home}/bin/qmail-queue 1<"${envFile}"`], {
    input: message,
    env: { PATH: path },
  });
  const added = readdirSync(todo).filter((n) => !before.has(n));
  if (added.length !== 1) throw new Error(`queueMessage: ${added.length} new todo entries`);
  const id = Number(added[0]);
  return `${id % split}/${id}`;
}

export interface LspawnRun {
  code: number | null;
  concurrency: number | null;
  reports: Map<number, string>;
  stderr: string;
}

/** The report qmail-local gives for a local part that only the catch-all user alias takes, with no
 *  .qmail file for it: D "no mailbox", or, on a host whose alias user has a home that no longer exists
 *  (an earlier installation's), Z "Unable to switch to". Either way alias, never root. */
export function aliasNoMailboxReport(noMailbox: string, switchHome: (h: string, e: string) => string): string {
  const aliasHome = execFileSync('getent', ['passwd', 'alias'], { encoding: 'utf8' }).split(':')[5] ?? '';
  try {
    execFileSync('test', ['-d', aliasHome]);
    return `D${noMailbox}\n`;
  } catch {
    return `Z${switchHome(aliasHome, 'file does not exist')}\n`;
  }
}

/** Runs the installed qmail-lspawn as root with these commands on fd 0, then EOF. */
export function runLspawn(home: string, input: Uint8Array, env: Record<string, string> = {}): Promise<LspawnRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(home, 'bin/qmail-lspawn'), ['./Maildir/'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: path, QMAILHOME: home, LOGLEVEL: 'warn', ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const bytes = Buffer.concat(out);
      const reports = new Map<number, string>();
      let line: number[] = [];
      for (const b of bytes.subarray(1)) {
        line.push(b);
        if (b !== 0 || line.length <= 1) continue;
        reports.set(line[0] as number, Buffer.from(line.slice(1, -1)).toString('latin1'));
        line = [];
      }
      resolve({ code, concurrency: bytes.length > 0 ? (bytes[0] as number) : null, reports, stderr: Buffer.concat(err).toString() });
    });
    (child.stdin as unknown as Socket).end(Buffer.from(input));
  });
}

export function command(delnum: number, messid: string, sender: string, recipient: string): Uint8Array {
  return Buffer.concat([Buffer.of(delnum), Buffer.from(`${messid}\0${sender}\0${recipient}\0`, 'latin1')]);
}
