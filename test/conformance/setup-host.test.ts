// qmail-setup and the setuid qmail-queue on this host, as root, with the real qmail users and an
// ordinary user. The build goes into a temporary directory of its own; qmail-setup installs from
// it into a temporary home with --create-users (the qmail users and groups stay on the host, as
// on any qmail machine; so does the submitting test user qqsubmit). Then:
//   - every queue directory and file has the owner and mode of spec/queue.ts;
//   - bin/qmail-queue is setuid qmailq, 04711;
//   - an ordinary user queues a message through it: mess is qmailq's, 0644, named by its inode, in
//     mess/<ino % split>; the Received line and the intd u record carry the user's real uid, the p
//     record and the Received line the process id; todo and intd are one inode;
//   - that user cannot write into the queue directly (EACCES);
//   - QMAILHOME and QUEUEDIR from that user are ignored: the message lands in the real queue.
// Needs root (skipped otherwise), cc, setpriv, useradd, and a temp dir not mounted nosuid.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDirs, queueFiles, type QmailUser } from '../../spec/queue.ts';

const repo = resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;
const split = 23;
const submitter = 'qqsubmit';

if (!isRoot) {
  console.warn('setup-host.test.ts: skipped: needs root (creates users, installs a setuid helper)');
}

function id(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
}

function gidOf(group: string): number {
  return Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
}

function ensureSubmitter(): { uid: number; gid: number } {
  if (spawnSync('getent', ['passwd', submitter]).status !== 0) {
    execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', '-d', '/nonexistent', submitter]);
  }
  return { uid: id('-u', submitter), gid: id('-g', submitter) };
}

function nosuid(path: string): boolean {
  const opts = execFileSync('findmnt', ['-n', '-o', 'OPTIONS', '-T', path], { encoding: 'utf8' });
  return opts.split(',').includes('nosuid');
}

interface Submitted {
  pid: number;
  code: number | null;
  stderr: string;
}

/** Runs bin/qmail-queue as `who` (real uid and gid, no supplementary groups): the message on its
 *  fd 0, the envelope written into its fd 1 (a socketpair, so the parent can write into it). */
function submit(prog: string, who: { uid: number; gid: number }, message: string, envelope: string, env: Record<string, string>): Promise<Submitted> {
  return new Promise((done, fail) => {
    const args = ['--reuid', String(who.uid), '--regid', String(who.gid), '--clear-groups', prog];
    const child = spawn('setpriv', args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => done({ pid: child.pid ?? -1, code, stderr }));
    child.stdin.end(message);
    // A 'pipe' stdio is a socketpair: the parent may write into the child's fd 1.
    (child.stdout as unknown as Socket).end(Buffer.from(envelope, 'latin1'));
  });
}

/** The mess file whose content contains marker: [relative path, id]. */
function findMessage(queue: string, marker: string): { rel: string; id: number } {
  for (let s = 0; s < split; s++) {
    for (const name of readdirSync(join(queue, 'mess', String(s)))) {
      if (readFileSync(join(queue, 'mess', String(s), name), 'latin1').includes(marker)) return { rel: `mess/${s}/${name}`, id: Number(name) };
    }
  }
  throw new Error(`no message with ${marker} in ${queue}`);
}

describe.skipIf(!isRoot)('qmail-setup and qmail-queue on this host (root)', () => {
  let tmp: string;
  let home: string;
  let queue: string;
  let firstRun: string;
  let user: { uid: number; gid: number };
  const qmailGid = () => gidOf('qmail');
  const uidOf = (u: QmailUser) => id('-u', u);

  beforeAll(() => {
    tmp = mkdtempSync('/tmp/qmail-setup-');
    chmodSync(tmp, 0o755); // the qmail users and the submitter must be able to reach the home
    home = join(tmp, 'qmail');
    queue = join(home, 'queue');
    execFileSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'scripts/build.ts'), join(tmp, 'dist')], { cwd: repo, stdio: 'pipe' });
    firstRun = execFileSync(join(tmp, 'dist/bin/qmail-setup'), ['--home', home, '--create-users', '--split', String(split)], { encoding: 'utf8' });
    user = ensureSubmitter();
  });
  afterAll(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it('the build has every program, and the setuid helper source', () => {
    for (const p of ['qmail-queue', 'queue-fix', 'qmail-qread', 'qmail-qstat', 'qmail-nullqueue', 'qmail-setup']) {
      expect(statSync(join(tmp, 'dist/bin', p)).mode & 0o777, p).toBe(0o755);
    }
    expect(existsSync(join(tmp, 'dist/setuid/qmail-queue.c'))).toBe(true);
  });

  it('installs, and a second run changes nothing and prints nothing', () => {
    expect(firstRun).toMatch(/^fixed: install .*\/bin\/qmail-queue \(4711 qmailq:qmail\)$/m);
    const again = execFileSync(join(tmp, 'dist/bin/qmail-setup'), ['--home', home, '--create-users', '--split', String(split)], { encoding: 'utf8' });
    expect(again).toBe('');
  });

  it('gives every queue directory and file the owner and mode of spec/queue.ts', () => {
    const gid = qmailGid();
    for (const d of queueDirs) {
      const dirs = d.split === 'always' ? [d.name, ...Array.from({ length: split }, (_, i) => `${d.name}/${i}`)] : [d.name];
      for (const rel of dirs) {
        const st = statSync(join(queue, rel));
        expect({ rel, kind: st.isDirectory(), uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ rel, kind: true, uid: uidOf(d.owner), gid, mode: d.mode });
      }
    }
    for (const f of queueFiles) {
      const st = statSync(join(queue, f.name));
      expect({ name: f.name, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ name: f.name, uid: uidOf(f.owner), gid, mode: f.mode });
      if (f.kind === 'fifo') expect(st.isFIFO()).toBe(true);
      else expect(readFileSync(join(queue, f.name))).toEqual(Buffer.alloc(f.bytes));
    }
    expect(existsSync(join(queue, 'todo/0'))).toBe(false); // BIGTODO off by default
  });

  it('installs bin/qmail-queue setuid qmailq 04711, and the home as hier.c does', () => {
    const helper = statSync(join(home, 'bin/qmail-queue'));
    expect({ uid: helper.uid, gid: helper.gid, mode: helper.mode & 0o7777 }).toEqual({ uid: uidOf('qmailq'), gid: qmailGid(), mode: 0o4711 });
    const alias = statSync(join(home, 'alias'));
    expect({ uid: alias.uid, mode: alias.mode & 0o7777 }).toEqual({ uid: uidOf('alias'), mode: 0o2755 });
    expect(statSync(join(home, 'libexec/qmail-queue')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(home, 'control/conf-split'), 'utf8')).toBe(`${split}\n`);
  });

  it('the installed queue-fix finds the queue sound', () => {
    const r = spawnSync(join(home, 'bin/queue-fix'), ['-n'], { encoding: 'utf8', env: { QMAILHOME: home, PATH: process.env['PATH'] ?? '' } });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
  });

  it.skipIf(isRoot && nosuid('/tmp'))('queues a message from an ordinary user with the kernel-given uid', async () => {
    const marker = randomUUID();
    const message = `Subject: ${marker}\n\nhello\n`;
    const r = await submit(join(home, 'bin/qmail-queue'), user, message, 'Fa@b\0Tc@d\0\0', { PATH: '/usr/bin:/bin' });
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('{')).join('\n') }).toEqual({ code: 0, stderr: '' });

    const { rel, id: msgId } = findMessage(queue, marker);
    const st = statSync(join(queue, rel));
    expect({ rel, uid: st.uid, mode: st.mode & 0o7777, ino: st.ino }).toEqual({ rel: `mess/${st.ino % split}/${st.ino}`, uid: uidOf('qmailq'), mode: 0o644, ino: msgId });

    const mess = readFileSync(join(queue, rel), 'latin1');
    const received = new RegExp(`^Received: \\(qmail ${r.pid} invoked by uid ${user.uid}\\); \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} -0000\\n`);
    expect(mess).toMatch(received);
    expect(mess.replace(received, '')).toBe(message);

    const todo = statSync(join(queue, 'todo', String(msgId)));
    const intd = statSync(join(queue, 'intd', String(msgId)));
    expect(todo.ino).toBe(intd.ino);
    expect(readFileSync(join(queue, 'todo', String(msgId)), 'latin1')).toBe(`u${user.uid}\0p${r.pid}\0Fa@b\0Tc@d\0`);
  });

  it('an ordinary user cannot write into the queue directly', () => {
    const probe = "try { require('fs').openSync(process.argv[1], 'w'); console.log('opened') } catch (e) { console.log(e.code) }";
    const r = spawnSync('setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', process.execPath, '-e', probe, join(queue, 'todo/x')], {
      encoding: 'utf8',
    });
    expect(r.stdout.trim()).toBe('EACCES');
    expect(existsSync(join(queue, 'todo/x'))).toBe(false);
  });

  it.skipIf(isRoot && nosuid('/tmp'))('ignores QMAILHOME and QUEUEDIR from the user: the message lands in the real queue', async () => {
    const marker = randomUUID();
    const evil = join(tmp, 'evil');
    const env = { PATH: '/usr/bin:/bin', QMAILHOME: evil, QUEUEDIR: evil, CONFSPLIT: '1', BIGTODO: '1', NODE_OPTIONS: '--require /nonexistent.js' };
    const r = await submit(join(home, 'bin/qmail-queue'), user, `Subject: ${marker}\n\nx\n`, 'Fe@v\0Til@x\0\0', env);
    expect(r.code).toBe(0);
    const { id: msgId } = findMessage(queue, marker);
    expect(readFileSync(join(queue, 'todo', String(msgId)), 'latin1')).toBe(`u${user.uid}\0p${r.pid}\0Fe@v\0Til@x\0`);
    expect(existsSync(evil)).toBe(false);
  });
});
