// qmail-getpw against this host's real /etc/passwd and file system, with users the test creates
// (useradd, under the accounts lock of conformance/host/accounts.ts): qtsgetpw and qtsgetpw-list,
// homes owned by them. Needs root and useradd; skips, saying so, otherwise.

import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../impl/getpw/main.ts';
import { getpw } from '../../impl/getpw/getpw.ts';
import { hostSys } from '../../impl/sys/host/index.ts';
import { isRoot, primaryGidOf, uidOf, underAccountsLock } from '../../conformance/host/accounts.ts';
import { runProgram } from '../support/host-program.ts';

const haveUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v flock']).status === 0;
const skip = !isRoot || !haveUseradd;
if (skip) process.stderr.write(`test/getpw/getpw-host.test.ts: skipped: needs root, useradd and flock (creates users)\n`);

const base = join(tmpdir(), 'qmail-ts-getpw');
const users = { main: 'qtsgetpw', list: 'qtsgetpw-list' } as const;
const homeOf = (name: string): string => join(base, name);
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Creates the user (or moves its home here), in group users; returns uid and gid. */
function ensureUserWithHome(name: string): { uid: number; gid: number } {
  const home = homeOf(name);
  const script = [
    'getent group users >/dev/null || groupadd users',
    `getent passwd ${name} >/dev/null || useradd -M -N -g users -s /usr/sbin/nologin -d ${home} ${name}`,
    `[ "$(getent passwd ${name} | cut -d: -f6)" = ${home} ] || usermod -d ${home} ${name}`,
  ].join(' && ');
  underAccountsLock('sh', ['-c', script]);
  return { uid: uidOf(name), gid: primaryGidOf(name) };
}

describe.skipIf(skip)('qmail-getpw on this host (root, real /etc/passwd)', () => {
  const ids: Record<string, { uid: number; gid: number }> = {};
  beforeAll(() => {
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base, { mode: 0o755 });
    for (const name of Object.values(users)) {
      ids[name] = ensureUserWithHome(name);
      mkdirSync(homeOf(name), { mode: 0o755 });
      chownSync(homeOf(name), ids[name]!.uid, ids[name]!.gid);
    }
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const fields = (name: string, dash: string, ext: string): string =>
    [name, String(ids[name]!.uid), String(ids[name]!.gid), homeOf(name), dash, ext, ''].join('\0');

  it('finds a user by name, and the longest user prefix of an extension address', async () => {
    const r = await runProgram(main, { argv: ['qmail-getpw', users.main] });
    expect([r.code, r.stdout]).toEqual([0, fields(users.main, '', '')]);
    const sys = await hostSys();
    expect(await getpw(sys, 'QTSGETPW-List-Foo')).toEqual({
      record: { user: users.list, uid: String(ids[users.list]!.uid), gid: String(ids[users.list]!.gid), homedir: homeOf(users.list), dash: '-', ext: 'Foo' },
    });
    expect(await getpw(sys, 'qtsgetpw-other')).toMatchObject({ record: { user: users.main, dash: '-', ext: 'other' } });
  });

  it('a home owned by someone else rejects the user: the next shorter prefix gets the address', async () => {
    chownSync(homeOf(users.list), 0, 0);
    try {
      expect(await getpw(await hostSys(), 'qtsgetpw-list-x')).toMatchObject({ record: { user: users.main, dash: '-', ext: 'list-x' } });
    } finally {
      chownSync(homeOf(users.list), ids[users.list]!.uid, ids[users.list]!.gid);
    }
  });

  it('no user at all: the alias user with the whole local part, or 116 without one', async () => {
    const r = await getpw(await hostSys(), 'Qtsnobody-X');
    if (spawnSync('getent', ['passwd', 'alias']).status === 0) expect(r).toMatchObject({ record: { user: 'alias', dash: '-', ext: 'Qtsnobody-X' } });
    else expect(r).toEqual({ qlx: 116 });
  });

  it('root (uid 0) is never the answer', async () => {
    const r = await getpw(await hostSys(), 'root');
    if ('record' in r) expect(r.record.user).toBe('alias');
    else expect(r).toEqual({ qlx: 116 });
  });

  it('the entry point prints the same bytes as a real process', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'impl/bin/qmail-getpw.ts', `${users.main}-x`], { cwd: repo, encoding: 'latin1' });
    expect([r.status, r.stdout]).toEqual([0, fields(users.main, '-', 'x')]);
    expect(spawnSync(process.execPath, ['--import', 'tsx', 'impl/bin/qmail-getpw.ts'], { cwd: repo }).status).toBe(100);
  }, 30_000);
});
