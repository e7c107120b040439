// The MTA on this host, as root, started by the dist-built qmail-start: programs built into a
// temporary directory, qmail-setup --create-users into <tmp>/qmail (conformance/queue/host-install.ts),
// bin/qmail-rspawn linked to the deferring stand-in while there is no real one, and an ordinary user
// (qstartu) whose home and Maildir live in the temporary directory. Then:
//   - etc/rc (its home replaced) starts qmail-start with an empty environment but PATH;
//   - /proc/<pid>/status of every daemon shows the seed table's uid, gid and groups;
//   - a message queued by the user with bin/qmail-queue lands in ~qstartu/Maildir/new, owned by
//     qstartu, and is logged;
//   - TERM: `status: exiting` logged, qmail-start exits 0, every daemon gone;
//   - qmail-lspawn killed: qmail-send's alert, qmail-start stops the rest and exits 111;
//   - with a logger (cat) and USE_SETGROUPS: the logger runs as qmaill:nofiles, qmail-rspawn gets
//     qmailr's supplementary group (a group made for the test, removed afterwards);
//   - NODE_OPTIONS=--perf-basic-prof in a directory the daemons cannot write: V8 would write its code
//     log to their fd 1, a protocol channel (every delivery failed with "messid has nonnumerics");
//     qmail-start passes the heap size only, warns, and the mail is delivered.
// qmail-start runs in a process group of its own, killed (by its id) in afterAll whatever happened.
// Needs root, cc, setpriv, useradd, groupadd, flock, and a temporary directory not mounted nosuid.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qmailGroups, qmailUsers } from '../../spec/queue.ts';
import { buildIntoTemp, gidOfGroup, isRoot, nosuid, qmailSetup, removeTemp, uidOf } from '../../conformance/queue/host-install.ts';
import { queueAs, underAccountsLock, userWithMaildir, type MaildirUser } from '../../conformance/host/accounts.ts';

const userName = 'qstartu';
const testGroup = 'qstartgrp';
const waitMs = 20_000;
const reason = !isRoot ? 'needs root: starts daemons under the qmail uids, creates users and groups' : nosuid('/tmp') ? 'needs /tmp without nosuid: bin/qmail-queue is setuid qmailq' : null;
if (reason !== null) console.warn(`start-host.test.ts: skipped: ${reason}`);

interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: string | null }>;
}

const repo = join(import.meta.dirname, '../..');

/** etc/rc for this home, run as a supervisor runs it (it execs qmail-start: same pid). */
function startRc(tmp: string, home: string): Started {
  const rc = join(tmp, 'rc');
  writeFileSync(rc, readFileSync(join(repo, 'etc/rc'), 'utf8').replaceAll('/var/qmail', home), { mode: 0o755 });
  return startQmail(home, [], {}, rc);
}

function startQmail(home: string, args: string[], env: Record<string, string> = {}, command = join(home, 'bin/qmail-start'), cwd?: string): Started {
  // A process group of its own: afterAll kills the group by its id, daemons included.
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
    env: { PATH: `${home}/bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, ...env },
    detached: true,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => Buffer.concat(out).toString('latin1'), err: () => Buffer.concat(err).toString('latin1'), exit };
}

async function waitFor(what: string, pred: () => boolean, ms = waitMs): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface ProcStatus {
  pid: number;
  cmdline: string[];
  uid: number[];
  gid: number[];
  groups: number[];
}

function childrenOf(ppid: number): ProcStatus[] {
  const out: ProcStatus[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let status: string;
    let cmdline: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'utf8');
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const field = (f: string): number[] => (new RegExp(`^${f}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '').split(/\s+/).filter((s) => s !== '').map(Number);
    if (field('PPid')[0] !== ppid) continue;
    out.push({ pid: Number(name), cmdline: cmdline.split('\0').filter((s) => s !== ''), uid: field('Uid'), gid: field('Gid'), groups: field('Groups') });
  }
  return out;
}

/** The child running <home>/bin/<program> (node <script> ...), or the logger by its name. */
function daemon(children: ProcStatus[], home: string, program: string): ProcStatus[] {
  return children.filter((c) => c.cmdline.some((a) => a === join(home, 'bin', program) || a === program));
}

function killGroup(s: Started | undefined): void {
  const pid = s?.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe.skipIf(reason !== null)('qmail-start on this host (root)', () => {
  let tmp: string;
  let home: string;
  let userHome: string;
  let user: MaildirUser;
  let qmailGid: number;
  const started: Started[] = [];

  beforeAll(() => {
    tmp = buildIntoTemp('qmail-start-');
    home = join(tmp, 'qmail');
    qmailSetup(tmp, home, { split: 7 });
    if (!existsSync(join(home, 'bin/qmail-rspawn'))) symlinkSync('qmail-rspawn-defer', join(home, 'bin/qmail-rspawn'));
    writeFileSync(join(home, 'control/me'), 'host.example\n', { mode: 0o644 });
    writeFileSync(join(home, 'control/locals'), 'host.example\n', { mode: 0o644 });
    user = userWithMaildir(tmp, userName);
    userHome = user.home;
    qmailGid = gidOfGroup(qmailGroups.qmail);
  });

  afterAll(() => {
    for (const s of started) killGroup(s);
    try {
      underAccountsLock('sh', ['-c', `getent group ${testGroup} >/dev/null && groupdel ${testGroup} || true`]);
    } finally {
      removeTemp(tmp);
    }
  });

  describe('booted by etc/rc: ./Maildir/, no logger', () => {
    let s: Started;
    beforeAll(async () => {
      s = startRc(tmp, home);
      started.push(s);
      await waitFor('qmail-send\'s first status line', () => s.out().includes('status: local 0/10 remote 0/20'));
    });

    it('every daemon runs with the seed table\'s uid, gid and groups', () => {
      const children = childrenOf(s.child.pid as number);
      const expectations: [string, number, number][] = [
        ['qmail-send', uidOf(qmailUsers.send), 1],
        ['todo-proc', uidOf(qmailUsers.send), 1],
        ['qmail-clean', uidOf(qmailUsers.queue), 2],
        ['qmail-lspawn', 0, 1],
        ['qmail-rspawn', uidOf(qmailUsers.remote), 1],
      ];
      for (const [program, uid, count] of expectations) {
        const found = daemon(children, home, program);
        expect(found.length, program).toBe(count);
        for (const d of found) {
          expect({ program, uid: d.uid, gid: d.gid }).toEqual({ program, uid: [uid, uid, uid, uid], gid: [qmailGid, qmailGid, qmailGid, qmailGid] });
          // Exactly [gid] as qmail's prot_gid sets it; the host's spawn (libuv) clears the list
          // instead, which grants the same (the gid itself).
          expect(d.groups.filter((g) => g !== qmailGid), program).toEqual([]);
        }
      }
      expect(children).toHaveLength(6);
      // rc's env -: the daemons (and so every delivery) get PATH and nothing else.
      for (const c of children) {
        const environ = readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0').filter((e) => e !== '');
        expect(environ.map((e) => e.split('=')[0])).toEqual(['PATH']);
      }
    });

    it('a message queued by a user with bin/qmail-queue lands in ~user/Maildir/new, owned by the user, and is logged', async () => {
      const code = await queueAs(home, user.uid, user.gid, 'Subject: host test\n\nhello from the host test\n', `F${userName}@host.example\0T${userName}@host.example\0\0`);
      expect(code).toBe(0);
      const newDir = join(userHome, 'Maildir/new');
      await waitFor('the delivery', () => readdirSync(newDir).length > 0 && /^end msg \d+$/m.test(s.out()));
      const files = readdirSync(newDir);
      expect(files).toHaveLength(1);
      const file = join(newDir, files[0] as string);
      expect(readFileSync(file, 'utf8')).toMatch(/Subject: host test\n\nhello from the host test\n$/);
      expect({ uid: statSync(file).uid, gid: statSync(file).gid }).toEqual({ uid: user.uid, gid: user.gid });
      expect(s.out()).toMatch(new RegExp(`^starting delivery \\d+: msg \\d+ to local ${userName}@host\\.example$`, 'm'));
      expect(s.out()).toMatch(/^delivery \d+: success: /m);
    });

    it('TERM: status: exiting, qmail-start exits 0, every daemon gone', async () => {
      const pid = s.child.pid as number;
      process.kill(pid, 'SIGTERM');
      const exit = await Promise.race([s.exit, new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(s.out().trimEnd().split('\n').at(-1)).toBe('status: exiting');
      expect(childrenOf(pid)).toEqual([]);
      expect(s.err()).not.toMatch(/fatal|internal error/);
    });
  });

  describe('a daemon killed', () => {
    it('qmail-lspawn killed: qmail-send\'s alert, everything stopped, qmail-start exits 111', async () => {
      const s = startQmail(home, ['./Maildir/']);
      started.push(s);
      await waitFor('qmail-send\'s first status line', () => s.out().includes('status: local 0/10 remote 0/20'));
      const pid = s.child.pid as number;
      const [lspawn] = daemon(childrenOf(pid), home, 'qmail-lspawn');
      process.kill(lspawn?.pid as number, 'SIGKILL');
      const exit = await Promise.race([s.exit, new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
      expect(exit).toEqual({ code: 111, signal: null });
      expect(s.out()).toContain('alert: oh no! lost spawn connection! dying...');
      expect(s.err()).toContain(`fatal: qmail-start: qmail-lspawn (pid ${lspawn?.pid}) was killed by SIGKILL; stopped everything\n`);
      expect(childrenOf(pid)).toEqual([]);
    });
  });

  describe('NODE_OPTIONS that makes V8 print to stdout', () => {
    let s: Started;
    beforeAll(async () => {
      // Root's directory: qmail-start (root) writes V8's log there; qmail-send (qmails) could not,
      // and V8 would then write it to stdout.
      const cwd = join(tmp, 'rootcwd');
      mkdirSync(cwd, { mode: 0o755 });
      s = startQmail(home, ['./Maildir/'], { NODE_OPTIONS: '--perf-basic-prof --max-old-space-size=256' }, join(home, 'bin/qmail-start'), cwd);
      started.push(s);
      await waitFor('qmail-send\'s first status line', () => s.out().includes('status: local 0/10 remote 0/20'));
    });

    afterAll(() => {
      // --perf-basic-prof's map of qmail-start itself.
      rmSync(`/tmp/perf-${s.child.pid}.map`, { force: true });
    });

    it('warns, and the daemons get the heap size only', () => {
      expect(s.err()).toContain('qmail-start: warn: NODE_OPTIONS --perf-basic-prof not passed to the daemons: it may print to their fd 1, a protocol channel\n');
      const children = childrenOf(s.child.pid as number);
      expect(children).toHaveLength(6);
      for (const c of children) {
        const environ = readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0');
        expect(environ.filter((e) => e.startsWith('NODE_OPTIONS=')), c.cmdline.join(' ')).toEqual(['NODE_OPTIONS=--max-old-space-size=256']);
      }
    });

    it('three messages are delivered, none fails', async () => {
      const newDir = join(userHome, 'Maildir/new');
      const before = readdirSync(newDir).length;
      for (let i = 0; i < 3; i++) {
        const code = await queueAs(home, user.uid, user.gid, `Subject: options ${i}\n\nhello\n`, `F${userName}@host.example\0T${userName}@host.example\0\0`);
        expect(code).toBe(0);
      }
      await waitFor('three deliveries', () => (s.out().match(/^delivery \d+: success: /gm) ?? []).length >= 3);
      expect(readdirSync(newDir).length - before).toBe(3);
      expect(s.out()).not.toMatch(/^delivery \d+: (failure|deferral): /m);
      process.kill(s.child.pid as number, 'SIGTERM');
      const exit = await Promise.race([s.exit, new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
      expect(exit).toEqual({ code: 0, signal: null });
    });
  });

  describe('booted with a logger and USE_SETGROUPS', () => {
    let s: Started;
    let groupGid: number;
    beforeAll(async () => {
      underAccountsLock('sh', ['-c', `getent group ${testGroup} >/dev/null || groupadd ${testGroup}; usermod -a -G ${testGroup} ${qmailUsers.remote}`]);
      groupGid = gidOfGroup(testGroup);
      s = startQmail(home, ['./Maildir/', 'cat'], { USE_SETGROUPS: `${qmailUsers.remote}:${qmailUsers.log}` });
      started.push(s);
      await waitFor('qmail-send\'s first status line through the logger', () => s.out().includes('status: local 0/10 remote 0/20'));
    });

    it('the logger runs as qmaill:nofiles; qmail-rspawn has qmailr\'s supplementary group after qmail', () => {
      const children = childrenOf(s.child.pid as number);
      const [logger] = daemon(children, home, 'cat');
      const nofiles = gidOfGroup(qmailGroups.nofiles);
      const qmaill = uidOf(qmailUsers.log);
      expect(logger?.uid).toEqual([qmaill, qmaill, qmaill, qmaill]);
      expect(logger?.gid).toEqual([nofiles, nofiles, nofiles, nofiles]);
      const [rspawn] = daemon(children, home, 'qmail-rspawn');
      expect(rspawn?.groups).toEqual([qmailGid, groupGid]);
      expect(daemon(children, home, 'qmail-send')[0]?.groups.filter((g) => g !== qmailGid)).toEqual([]);
      // qmaill is in no group of its own: indimail's warning.
      expect(s.err()).toContain('qmail-start: warn: no supplementary groups defined for qmaill (cat)\n');
    });

    it('TERM: the last lines come through the logger, everything ends', async () => {
      const pid = s.child.pid as number;
      process.kill(pid, 'SIGTERM');
      const exit = await Promise.race([s.exit, new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(s.out().trimEnd().split('\n').at(-1)).toBe('status: exiting');
      expect(childrenOf(pid)).toEqual([]);
    });
  });
});
