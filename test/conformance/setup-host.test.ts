// qmail-setup on this host, as root, with the real qmail users: what belongs to the installation
// itself rather than to the queue. The build goes into a temporary directory of its own and
// qmail-setup installs from it into a temporary home with --create-users
// (conformance/queue/host-install.ts). Then:
//   - the build has every program and the setuid helper's source;
//   - a second run changes nothing and prints nothing;
//   - bin/qmail-queue is setuid qmailq 04711, the home is laid out as hier.c does;
//   - the installed queue-fix finds the new queue sound.
// The queue itself (owners and modes, qmail-queue as an ordinary user, EACCES, a hostile
// environment) is the queue conformance suite's: queue-host.test.ts and queue-sim.test.ts.
// Needs root (skipped otherwise), cc, useradd and flock.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qmailGroups, qmailUsers } from '../../spec/queue.ts';
import { buildIntoTemp, gidOfGroup, isRoot, qmailSetup, removeTemp, uidOf } from '../../conformance/queue/host-install.ts';

const split = 23;
const programs = ['qmail-queue', 'queue-fix', 'qmail-qread', 'qmail-qstat', 'qmail-nullqueue', 'qmail-setup'];

if (!isRoot) console.warn('setup-host.test.ts: skipped: needs root (creates users, installs a setuid helper)');

describe.skipIf(!isRoot)('qmail-setup on this host (root)', () => {
  let tmp: string;
  let home: string;
  let firstRun: string;

  beforeAll(() => {
    tmp = buildIntoTemp('qmail-setup-');
    home = join(tmp, 'qmail');
    firstRun = qmailSetup(tmp, home, { split });
  });
  afterAll(() => removeTemp(tmp));

  it('the build has every program, and the setuid helper source', () => {
    for (const p of programs) expect(statSync(join(tmp, 'dist/bin', p)).mode & 0o777, p).toBe(0o755);
    expect(existsSync(join(tmp, 'dist/setuid/qmail-queue.c'))).toBe(true);
  });

  it('installs, and a second run changes nothing and prints nothing', () => {
    expect(firstRun).toMatch(/^fixed: install .*\/bin\/qmail-queue \(4711 qmailq:qmail\)$/m);
    expect(qmailSetup(tmp, home, { split })).toBe('');
  });

  it('installs bin/qmail-queue setuid qmailq 04711, and the home as hier.c does', () => {
    const helper = statSync(join(home, 'bin/qmail-queue'));
    const qmailGid = gidOfGroup(qmailGroups.qmail);
    expect({ uid: helper.uid, gid: helper.gid, mode: helper.mode & 0o7777 }).toEqual({ uid: uidOf(qmailUsers.queue), gid: qmailGid, mode: 0o4711 });
    const alias = statSync(join(home, 'alias'));
    expect({ uid: alias.uid, mode: alias.mode & 0o7777 }).toEqual({ uid: uidOf(qmailUsers.alias), mode: 0o2755 });
    expect(statSync(join(home, 'libexec/qmail-queue')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(home, 'control/conf-split'), 'utf8')).toBe(`${split}\n`);
    expect(existsSync(join(home, 'queue/todo/0'))).toBe(false); // BIGTODO off by default
  });

  it('the installed queue-fix finds the queue sound', () => {
    const r = spawnSync(join(home, 'bin/queue-fix'), ['-n'], { encoding: 'utf8', env: { QMAILHOME: home, PATH: process.env['PATH'] ?? '' } });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
  });
});
