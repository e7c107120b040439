// queue-fix on the real host Sys in a temp dir, in -u mode (every owner is this process), so that
// it runs as root and as an ordinary user alike. The owner-by-name paths use a fake passwd world
// and a "non-root" self (test/support/host-program.ts).
//
// Not covered here, better in the simulator once sim/ is complete: that each mkdir is durable
// (a crash right after queue-fix must not lose a directory: posix profile, syncDir of the parent),
// and interrupted moves (crash between link and unlink, then a second run).

import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../impl/queue-fix/main.ts';
import { parseOptions } from '../../impl/queue-fix/options.ts';
import { hostSys } from '../../impl/sys/host/index.ts';
import { O } from '../../impl/sys/types.ts';
import { queueDirs, queueFiles } from '../../spec/queue.ts';
import { fakeUsers, runProgram, type RunResult } from '../support/host-program.ts';

let tmp: string;
let q: string;
const env = { CONFSPLIT: '3' };

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'queue-fix-'));
  q = join(tmp, 'queue');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const fix = (args: string[], e: Record<string, string> = env): Promise<RunResult> => runProgram(main, { argv: ['queue-fix', ...args], env: e });
const lines = (r: RunResult): string[] => r.stdout.split('\n').filter((l) => l !== '');
const mode = (p: string): number => statSync(p).mode & 0o7777;

describe('queue-fix: a new queue', () => {
  it('creates every directory, split subdirectory and lock file with its mode', async () => {
    const r = await fix(['-u', q]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const d of queueDirs) {
      const p = d.name === '' ? q : join(q, d.name);
      expect(mode(p), d.name).toBe(d.mode);
      if (d.split === 'always') for (const i of [0, 1, 2]) expect(mode(join(p, String(i)))).toBe(d.mode);
      if (d.split !== 'always' && d.name !== '') expect(existsSync(join(p, '0'))).toBe(false);
    }
    for (const f of queueFiles) expect(mode(join(q, f.name)), f.name).toBe(f.mode);
    expect(statSync(join(q, 'lock/tcpto')).size).toBe(1024);
    expect(statSync(join(q, 'lock/sendmutex')).size).toBe(0);
    expect(lstatSync(join(q, 'lock/trigger')).isFIFO()).toBe(true);
    expect(lines(r)).toContain(`fixed: mkdir queue/mess/2 (0750 ${process.geteuid!()}:${process.getegid!()})`);
  });

  it('is sound afterwards: -n is silent and exits 0, and a second run changes nothing', async () => {
    await fix(['-u', q]);
    expect(await fix(['-n', '-u', q])).toMatchObject({ code: 0, stdout: '' });
    expect(await fix(['-u', q])).toMatchObject({ code: 0, stdout: '' });
  });

  it('splits todo and intd under BIGTODO', async () => {
    const r = await fix(['-u', q], { CONFSPLIT: '3', BIGTODO: '1' });
    expect(r.code).toBe(0);
    for (const d of ['todo', 'intd']) for (const i of [0, 1, 2]) expect(statSync(join(q, d, String(i))).isDirectory()).toBe(true);
  });

  it('-n on a missing queue reports the whole tree and creates nothing', async () => {
    const r = await fix(['-n', '-u', q]);
    expect(r.code).toBe(1);
    expect(lines(r)[0]).toMatch(/^would fix: mkdir queue \(0750 /);
    expect(lines(r)).toContain(`would fix: mkfifo queue/lock/trigger (0622 ${process.geteuid!()}:${process.getegid!()})`);
    expect(existsSync(q)).toBe(false);
  });

  it('-v prints ok lines for what is sound', async () => {
    await fix(['-u', q]);
    const r = await fix(['-nv', '-u', q]);
    expect(r.code).toBe(0);
    expect(lines(r)).toContain('ok: queue/mess/1');
    expect(lines(r)).toContain('ok: queue/lock/trigger');
  });
});

describe('queue-fix: a broken queue', () => {
  beforeEach(async () => {
    expect((await fix(['-u', q])).code).toBe(0);
    chmodSync(join(q, 'pid'), 0o755);
    rmdirSync(join(q, 'mess/2'));
    unlinkSync(join(q, 'lock/trigger'));
    writeFileSync(join(q, 'lock/trigger'), '');
    chmodSync(join(q, 'lock/trigger'), 0o622);
  });

  it('-n reports each problem, exits 1 and changes nothing', async () => {
    const r = await fix(['-n', '-u', q]);
    expect(r.code).toBe(1);
    expect(lines(r)).toEqual([
      'would fix: chmod 0700 queue/pid (was 0755)',
      expect.stringMatching(/^would fix: mkdir queue\/mess\/2 \(0750 \d+:\d+\)$/),
      'would fix: rm queue/lock/trigger (a regular file, not a FIFO)',
      expect.stringMatching(/^would fix: mkfifo queue\/lock\/trigger \(0622 \d+:\d+\)$/),
    ]);
    expect(mode(join(q, 'pid'))).toBe(0o755);
    expect(existsSync(join(q, 'mess/2'))).toBe(false);
    expect(lstatSync(join(q, 'lock/trigger')).isFile()).toBe(true);
  });

  it('repairs them, and the queue is sound afterwards', async () => {
    const r = await fix(['-u', q]);
    expect(r.code).toBe(0);
    expect(lines(r).map((l) => l.split(' (')[0])).toEqual([
      'fixed: chmod 0700 queue/pid',
      'fixed: mkdir queue/mess/2',
      'fixed: rm queue/lock/trigger',
      'fixed: mkfifo queue/lock/trigger',
    ]);
    expect(mode(join(q, 'pid'))).toBe(0o700);
    expect(mode(join(q, 'mess/2'))).toBe(0o750);
    expect(lstatSync(join(q, 'lock/trigger')).isFIFO()).toBe(true);
    expect(await fix(['-n', '-u', q])).toMatchObject({ code: 0, stdout: '' });
  });

  it('a file where a directory belongs cannot be fixed', async () => {
    rmSync(join(q, 'bounce'), { recursive: true });
    writeFileSync(join(q, 'bounce'), 'x');
    const r = await fix(['-u', q]);
    expect(r.code).toBe(1);
    expect(lines(r)).toContain('cannot fix: mkdir queue/bounce (a regular file is in the way)');
  });
});

describe('queue-fix: message files', () => {
  beforeEach(async () => {
    expect((await fix(['-u', q])).code).toBe(0);
  });

  it('fixes modes of message files, keeping their content', async () => {
    writeFileSync(join(q, 'mess/1/4'), 'message', { mode: 0o600 });
    writeFileSync(join(q, 'info/1/4'), 'Fa@b\0', { mode: 0o644 });
    const r = await fix(['-u', q]);
    expect(lines(r)).toEqual(['fixed: chmod 0644 queue/mess/1/4 (was 0600)', 'fixed: chmod 0600 queue/info/1/4 (was 0644)']);
    expect(mode(join(q, 'mess/1/4'))).toBe(0o644);
    expect(mode(join(q, 'info/1/4'))).toBe(0o600);
  });

  it("checks pool/'s and qpool/'s recycled files for their mode only: slot, inode and hidden names are not messages, nothing moves", async () => {
    writeFileSync(join(q, 'pool/7'), 'Tsomeone@x\0', { mode: 0o644 });
    writeFileSync(join(q, 'pool/.12.l'), 'Tother@x\0', { mode: 0o600 });
    writeFileSync(join(q, 'qpool/5'), 'u1\0p2\0Fa@b\0', { mode: 0o600 });
    const r = await fix(['-u', q]);
    expect(lines(r)).toEqual(['fixed: chmod 0600 queue/pool/7 (was 0644)', 'fixed: chmod 0644 queue/qpool/5 (was 0600)']);
    expect(readdirSync(join(q, 'pool')).sort()).toEqual(['.12.l', '7']);
    expect(readdirSync(join(q, 'qpool'))).toEqual(['5']);
  });

  it('moves a message to its split subdirectory (ID mod split)', async () => {
    writeFileSync(join(q, 'mess/0/4'), 'message', { mode: 0o644 });
    writeFileSync(join(q, 'todo/4'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    expect(lines(await fix(['-n', '-u', q]))).toEqual(['would fix: mv queue/mess/0/4 queue/mess/1/4 (wrong split directory)']);
    expect(existsSync(join(q, 'mess/0/4'))).toBe(true);
    const r = await fix(['-u', q]);
    expect(lines(r)).toEqual(['fixed: mv queue/mess/0/4 queue/mess/1/4 (wrong split directory)']);
    expect(readdirSync(join(q, 'mess/0'))).toEqual([]);
    expect(readdirSync(join(q, 'mess/1'))).toEqual(['4']);
    expect(r.code).toBe(0);
  });

  it('after the split is lowered, empties and removes the unused subdirectories', async () => {
    mkdirSync(join(q, 'mess/7'), { mode: 0o750 });
    writeFileSync(join(q, 'mess/7/9'), 'message', { mode: 0o644 });
    writeFileSync(join(q, 'todo/9'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    const r = await fix(['-u', q]);
    expect(lines(r)).toEqual(['fixed: mv queue/mess/7/9 queue/mess/0/9 (wrong split directory)', 'fixed: rmdir queue/mess/7 (not used with split 3)']);
    expect(existsSync(join(q, 'mess/7'))).toBe(false);
    expect(existsSync(join(q, 'mess/0/9'))).toBe(true);
  });

  it('after BIGTODO is turned on, moves todo and intd into subdirectories, keeping them one inode', async () => {
    writeFileSync(join(q, 'mess/2/5'), 'message', { mode: 0o644 });
    writeFileSync(join(q, 'intd/5'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    linkSync(join(q, 'intd/5'), join(q, 'todo/5'));
    const big = { CONFSPLIT: '3', BIGTODO: '1' };
    const r = await fix(['-u', q], big);
    expect(r.code).toBe(0);
    expect(lines(r)).toEqual(
      expect.arrayContaining(['fixed: mv queue/intd/5 queue/intd/2/5 (wrong split directory)', 'fixed: mv queue/todo/5 queue/todo/2/5 (wrong split directory)']),
    );
    expect(statSync(join(q, 'todo/2/5')).ino).toBe(statSync(join(q, 'intd/2/5')).ino);
    expect(await fix(['-n', '-u', q], big)).toMatchObject({ code: 0, stdout: '' });
  });

  it('finishes a move cut short between link and unlink', async () => {
    writeFileSync(join(q, 'mess/1/4'), 'message', { mode: 0o644 });
    linkSync(join(q, 'mess/1/4'), join(q, 'mess/0/4'));
    writeFileSync(join(q, 'todo/4'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    const r = await fix(['-u', q]);
    expect(lines(r)).toEqual(['fixed: rm queue/mess/0/4 (second name of queue/mess/1/4)']);
    expect(readdirSync(join(q, 'mess/1'))).toEqual(['4']);
  });

  it('moves nothing while qmail-send holds lock/sendmutex', async () => {
    writeFileSync(join(q, 'mess/0/4'), 'message', { mode: 0o644 });
    writeFileSync(join(q, 'todo/4'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    const sys = await hostSys();
    const fd = await sys.fs.open(join(q, 'lock/sendmutex'), O.WRONLY | O.NONBLOCK);
    try {
      await sys.fs.lock(fd, false);
      const r = await fix(['-u', q]);
      expect(r.code).toBe(1);
      expect(lines(r)).toEqual(['cannot fix: mv queue/mess/0/4 queue/mess/1/4 (qmail-send is running)']);
      expect(existsSync(join(q, 'mess/0/4'))).toBe(true);
    } finally {
      await sys.fs.close(fd);
    }
  });

  it('reports leftovers and deletes nothing', async () => {
    writeFileSync(join(q, 'todo/11'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    writeFileSync(join(q, 'intd/12'), 'u0\0p1\0Fa\0', { mode: 0o644 });
    writeFileSync(join(q, 'local/1/13'), 'Ta\0', { mode: 0o600 });
    writeFileSync(join(q, 'remote/2/14'), 'Ta\0', { mode: 0o600 });
    writeFileSync(join(q, 'mess/2/8'), 'message', { mode: 0o644 });
    writeFileSync(join(q, 'info/2/8'), 'Fa\0', { mode: 0o600 });
    writeFileSync(join(q, 'local/2/8'), 'Ta\0', { mode: 0o600 });
    writeFileSync(join(q, 'mess/junk'), 'x', { mode: 0o644 });
    const r = await fix(['-u', q]);
    expect(r.code).toBe(0);
    expect(lines(r)).toEqual([
      'warning: unexpected file queue/mess/junk (not a message number; not changed)',
      'warning: queue/todo/11: todo without mess (left for qmail-send or a human)',
      'warning: queue/intd/12: intd without mess (left for qmail-send or a human)',
      'warning: queue/local/1/13: local without info (left for qmail-send or a human)',
      'warning: queue/remote/2/14: remote without info (left for qmail-send or a human)',
    ]);
    for (const f of ['todo/11', 'intd/12', 'local/1/13', 'remote/2/14', 'mess/junk']) expect(existsSync(join(q, f))).toBe(true);
  });
});

describe('queue-fix: owners by name', () => {
  const world = fakeUsers({ qmailq: 4201, qmails: 4202, qmailr: 4203 }, { qmail: 4200 });
  const notRoot = { euid: 54321, egid: 54321, uid: 54321, gid: 54321, groups: [54321] };

  it('without root, a wrong owner cannot be fixed: exit 1', async () => {
    await fix(['-u', q]);
    const r = await runProgram(main, { argv: ['queue-fix', q], env, users: world, self: notRoot });
    expect(r.code).toBe(1);
    expect(lines(r)[0]).toMatch(/^cannot fix: chown qmailq:qmail queue \(was \d+:\d+; not root\)$/);
    expect(lines(r)).toContain(`cannot fix: chown qmails:qmail queue/lock/trigger (was ${process.geteuid!()}:${process.getegid!()}; not root)`);
    expect(lines(r).every((l) => l.startsWith('cannot fix: chown '))).toBe(true);
  });

  it('without root, the mode of a file someone else owns cannot be fixed either', async () => {
    await fix(['-u', q]);
    chmodSync(join(q, 'pid'), 0o755);
    const r = await runProgram(main, { argv: ['queue-fix', q], env, users: world, self: notRoot });
    expect(lines(r)).toContain('cannot fix: chmod 0700 queue/pid (was 0755; not the owner)');
    expect(mode(join(q, 'pid'))).toBe(0o755);
  });

  it('a missing user is a temporary error: exit 111', async () => {
    const r = await runProgram(main, { argv: ['queue-fix', q], env, users: fakeUsers({ qmailq: 1, qmails: 2 }, { qmail: 3 }) });
    expect(r).toMatchObject({ code: 111, stdout: '', stderr: 'queue-fix: fatal: unknown user qmailr\n' });
    expect(existsSync(q)).toBe(false);
  });

  it('a bad CONFSPLIT is a temporary error: exit 111', async () => {
    const r = await fix(['-u', q], { CONFSPLIT: 'x' });
    expect(r.code).toBe(111);
    expect(r.stderr).toMatch(/^queue-fix: fatal: bad-confsplit/);
  });
});

describe('queue-fix: command line', () => {
  it('parses flags, bundled flags and the queue directory', () => {
    expect(parseOptions([])).toEqual({ dryRun: false, verbose: false, selfOwned: false, queueDir: null });
    expect(parseOptions(['-nv', '-u', '/q'])).toEqual({ dryRun: true, verbose: true, selfOwned: true, queueDir: '/q' });
    expect(parseOptions(['--', '-q'])).toMatchObject({ queueDir: '-q' });
    expect(parseOptions(['-x'])).toBeNull();
    expect(parseOptions(['a', 'b'])).toBeNull();
  });

  it('exits 100 with a usage line on a bad flag', async () => {
    expect(await fix(['-z'])).toMatchObject({ code: 100, stderr: 'queue-fix: usage: queue-fix [-n] [-v] [-u] [queuedir]\n' });
  });

  it('takes the queue from QUEUEDIR, then from QMAILHOME', async () => {
    expect((await fix(['-u'], { CONFSPLIT: '2', QUEUEDIR: q })).code).toBe(0);
    expect(existsSync(join(q, 'mess/1'))).toBe(true);
    expect((await fix(['-u'], { CONFSPLIT: '2', QMAILHOME: tmp })).stdout).toBe('');
  });
});
