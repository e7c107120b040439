// qmail-setup without root: everything owned by the installing user, bin/qmail-queue not setuid.
// Runs the built program as this user, or as nobody (65534) when the tests run as root, so the
// non-root path is covered everywhere. The root path is test/conformance/setup-host.test.ts.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSetupOptions } from '../../impl/setup/options.ts';

const repo = resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;
const nobody = 65534;
const hasCc = spawnSync('cc', ['--version']).status === 0;

/** argv run as the installing user: this process's user, or nobody when we are root. */
function asInstaller(argv: string[]): string[] {
  return isRoot ? ['setpriv', '--reuid', String(nobody), '--regid', String(nobody), '--clear-groups', ...argv] : argv;
}

function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = asInstaller(argv) as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!hasCc)('qmail-setup without root', () => {
  let tmp: string;
  let home: string;
  let first: ReturnType<typeof run>;
  const uid = isRoot ? nobody : process.getuid!();

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'qmail-setup-user-'));
    chmodSync(tmp, 0o755);
    execFileSync(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'scripts/build.ts'), join(tmp, 'dist')], { cwd: repo, stdio: 'pipe' });
    mkdirSync(join(tmp, 'inst'));
    if (isRoot) chownSync(join(tmp, 'inst'), nobody, nobody);
    home = join(tmp, 'inst/qmail');
    first = run([join(tmp, 'dist/bin/qmail-setup'), '--home', home, '--split', '5']);
  });
  afterAll(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs everything owned by the installer, and says the helper is not setuid', () => {
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`warning: ${home}/bin/qmail-queue is not setuid (not root:`);
    for (const rel of ['', 'bin/qmail-queue', 'libexec/qmail-queue', 'queue', 'queue/mess/4', 'queue/lock/trigger']) {
      expect(statSync(join(home, rel)).uid, rel).toBe(uid);
    }
    expect(statSync(join(home, 'bin/qmail-queue')).mode & 0o7777).toBe(0o755);
  });

  it('marks the queue and each split directory TOPDIR (chattr +T), so that their subdirectories spread over block groups', (ctx) => {
    // Only where the file system has the attribute (ext2/3/4): probe a scratch directory first.
    const probe = join(tmp, 'probe');
    mkdirSync(probe);
    if (spawnSync('chattr', ['+T', probe]).status !== 0) {
      console.warn(`skipped: chattr +T does not work under ${tmpdir()}`);
      ctx.skip();
    }
    const attrs = (rel: string): string => execFileSync('lsattr', ['-d', join(home, rel)], { encoding: 'utf8' }).split(' ')[0] ?? '';
    for (const rel of ['queue', 'queue/mess', 'queue/info', 'queue/local', 'queue/remote']) expect(attrs(rel), rel).toContain('T');
    for (const rel of ['queue/mess/0', 'queue/lock', 'queue/pid', 'queue/intd']) expect(attrs(rel), rel).not.toContain('T');
  });

  it('a second run changes nothing and prints nothing', () => {
    expect(run([join(tmp, 'dist/bin/qmail-setup'), '--home', home, '--split', '5'])).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('refuses --create-users without root', () => {
    const r = run([join(tmp, 'dist/bin/qmail-setup'), '--home', home, '--create-users']);
    expect(r).toEqual({ status: 100, stdout: '', stderr: 'qmail-setup: fatal: --create-users needs root\n' });
  });

  it('its qmail-queue queues as the installer', async () => {
    const [cmd, ...args] = asInstaller([join(home, 'bin/qmail-queue')]) as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    const code = await new Promise<number | null>((done) => {
      child.on('exit', done);
      child.stdin.end('Subject: x\n\ny\n');
      // A 'pipe' stdio is a socketpair: the parent may write into the child's fd 1.
      (child.stdout as unknown as Socket).end(Buffer.from('Fa@b\0Tc@d\0\0', 'latin1'));
    });
    expect(code).toBe(0);
    const todo = readdirSync(join(home, 'queue/todo'));
    expect(todo).toHaveLength(1);
    expect(readFileSync(join(home, 'queue/todo', todo[0] as string), 'latin1')).toBe(`u${uid}\0p${child.pid}\0Fa@b\0Tc@d\0`);
  });
});

describe('qmail-setup options', () => {
  it('parses the flags', () => {
    expect(parseSetupOptions(['--home', '/var/qmail'])).toEqual({ home: '/var/qmail', createUsers: false, split: null, bigtodo: false, node: null });
    expect(parseSetupOptions(['--home=/q/', '--create-users', '--split', '23', '--bigtodo', '--node=/usr/bin/node'])).toEqual({
      home: '/q',
      createUsers: true,
      split: 23,
      bigtodo: true,
      node: '/usr/bin/node',
    });
  });

  it('refuses what it cannot carry safely', () => {
    expect(parseSetupOptions([])).toBeNull();
    expect(parseSetupOptions(['--home', 'relative'])).toBeNull();
    expect(parseSetupOptions(['--home', '/'])).toBeNull();
    expect(parseSetupOptions(['--home', '/a"b'])).toBeNull();
    expect(parseSetupOptions(['--home', '/a b'])).toBeNull();
    expect(parseSetupOptions(['--home', '/q', '--split', '0'])).toBeNull();
    expect(parseSetupOptions(['--home', '/q', '--node', 'node'])).toBeNull();
    expect(parseSetupOptions(['--home', '/q', '--bigtodo=1'])).toBeNull();
    expect(parseSetupOptions(['--home', '/q', '--what'])).toBeNull();
  });
});
