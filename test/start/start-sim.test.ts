// qmail-start in the simulator with fake daemons (test/start/fakes.ts) in place of the real ones:
// the seed's uid/gid table and USE_SETGROUPS, indimail's ten pipes read from the kernel's fd
// tables, argv and environment, the logger, signals passed on, the teardown when a daemon dies
// (TERM, then KILL after the bounds) and every failure to start. The real daemons: start-mta-sim.

import { describe, expect, it } from 'vitest';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { bootQmail, installAs, peerOf, type BootOpts, type QmailBoot } from '../../sim/boot.ts';
import { qmailPrograms } from '../../sim/registry.ts';
import { helpersExitMs, killGraceMs, sendDyingMs } from '../../spec/start.ts';
import { installFakes } from './fakes.ts';

const { users, groups } = simIds;

interface World {
  k: Kernel;
  inst: Installation;
}

async function world(seed: number, fakes: Parameters<typeof installFakes>[2] = {}): Promise<World> {
  const k = new Kernel({ seed, trace: { syscalls: false } });
  const inst = await installQmail(k, { split: 7 });
  installFakes(k, inst, fakes);
  return { k, inst };
}

/** Boots and runs until every daemon is up and qmail-send has logged its four answers. */
async function boot(w: World, opts: BootOpts = {}): Promise<QmailBoot> {
  const b = bootQmail(w.k, w.inst, opts);
  await w.k.run({ until: () => b.logLines().filter((l) => l.startsWith('fd')).length === 4 || b.status() !== null, untilMs: 60_000 });
  return b;
}

async function stop(w: World, b: QmailBoot, sig: 'SIGTERM' = 'SIGTERM'): Promise<void> {
  b.kill(sig);
  await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 600_000 });
}

function credsOf(w: World, pid: number): { uid: number; euid: number; gid: number; egid: number; groups: readonly number[] } {
  const p = w.k.procs.get(pid);
  if (p === undefined) throw new Error(`no process ${pid}`);
  return { ...p.creds };
}

const asUser = (uid: number, gid: number, gs: number[] = [gid]) => ({ uid, euid: uid, gid, egid: gid, groups: gs });

describe('qmail-start: the daemons, as whom', () => {
  it('starts each daemon with the seed table\'s uid, gid and exactly [gid]', async () => {
    const w = await world(1);
    const b = await boot(w, { logger: true });
    const p = b.pids();
    expect(p).not.toBeNull();
    if (p === null) return;
    expect(credsOf(w, b.pid)).toEqual(asUser(0, 0, [0]));
    expect(credsOf(w, p.send)).toEqual(asUser(users.qmails, groups.qmail));
    expect(credsOf(w, p.todo)).toEqual(asUser(users.qmails, groups.qmail));
    expect(credsOf(w, p.clean[0])).toEqual(asUser(users.qmailq, groups.qmail));
    expect(credsOf(w, p.clean[1])).toEqual(asUser(users.qmailq, groups.qmail));
    expect(credsOf(w, p.lspawn)).toEqual(asUser(0, groups.qmail));
    expect(credsOf(w, p.rspawn)).toEqual(asUser(users.qmailr, groups.qmail));
    expect(credsOf(w, p.logger as number)).toEqual(asUser(users.qmaill, groups.nofiles));
    expect(b.stderr()).toBe('');
    await stop(w, b);
  });

  it('USE_SETGROUPS=1: qmail-send, the cleans, qmail-rspawn and the logger get their users\' groups, gid first', async () => {
    const w = await world(2);
    w.k.users.addGroup('mailstaff', 3001, ['qmails', 'qmailq', 'qmailr', 'qmaill']);
    w.k.users.addGroup('remote', 3002, ['qmailr']);
    const b = await boot(w, { logger: true, env: { USE_SETGROUPS: '1' } });
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    expect(credsOf(w, p.send).groups).toEqual([groups.qmail, 3001]);
    expect(credsOf(w, p.todo).groups).toEqual([groups.qmail]); // the seed's table: no supplementary groups
    expect(credsOf(w, p.clean[0]).groups).toEqual([groups.qmail, 3001]);
    expect(credsOf(w, p.clean[1]).groups).toEqual([groups.qmail, 3001]);
    expect(credsOf(w, p.lspawn).groups).toEqual([groups.qmail]);
    expect(credsOf(w, p.rspawn)).toEqual(asUser(users.qmailr, groups.qmail, [groups.qmail, 3001, 3002]));
    expect(credsOf(w, p.logger as number)).toEqual(asUser(users.qmaill, groups.nofiles, [groups.nofiles, 3001]));
    expect(b.stderr()).toBe('');
    await stop(w, b);
  });

  it('USE_SETGROUPS=qmailr:qmaill: only those users\' daemons; a user without groups is warned about', async () => {
    const w = await world(3);
    w.k.users.addGroup('remote', 3002, ['qmailr', 'qmails']);
    const b = await boot(w, { logger: true, env: { USE_SETGROUPS: 'qmailr:qmaill' } });
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    expect(credsOf(w, p.rspawn).groups).toEqual([groups.qmail, 3002]);
    expect(credsOf(w, p.send).groups).toEqual([groups.qmail]);
    expect(credsOf(w, p.logger as number).groups).toEqual([groups.nofiles]);
    expect(b.stderr()).toBe('qmail-start: warn: no supplementary groups defined for qmaill (sim-logger)\n');
    await stop(w, b);
  });
});

describe('qmail-start: the pipes', () => {
  it('wires indimail\'s ten pipes: every fd of qmail-send and todo-proc reaches its peer, and nothing else holds them', async () => {
    const w = await world(4);
    const b = await boot(w, { logger: true });
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    const peer = (pid: number, fd: number) => peerOf(w.k, pid, fd);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((fd) => peer(p.send, fd))).toEqual([
      { pid: p.logger, fd: 0 },
      { pid: p.lspawn, fd: 0 }, { pid: p.lspawn, fd: 1 },
      { pid: p.rspawn, fd: 0 }, { pid: p.rspawn, fd: 1 },
      { pid: p.clean[0], fd: 0 }, { pid: p.clean[0], fd: 1 },
      { pid: p.todo, fd: 0 }, { pid: p.todo, fd: 1 },
    ]);
    expect([2, 3].map((fd) => peer(p.todo, fd))).toEqual([{ pid: p.clean[1], fd: 0 }, { pid: p.clean[1], fd: 1 }]);
    // qmail-start kept no copy of any pipe end (pitfall 12): only fds 0-2 from the world.
    expect([...(w.k.procs.get(b.pid)?.fds.keys() ?? [])].sort()).toEqual([0, 1, 2]);
    // Bytes go round each pipe (the fakes answer with their names).
    expect(b.logLines().filter((l) => l.startsWith('fd'))).toEqual([
      'fd2: qmail-lspawn<ping1>',
      'fd4: qmail-rspawn<ping3>',
      'fd6: qmail-clean<ping5>',
      'fd8: todo-proc<qmail-clean<ping7>>',
    ]);
    await stop(w, b);
  });

  it('without a logger, qmail-send logs to qmail-start\'s fd 1; helpers share qmail-start\'s fd 2', async () => {
    const w = await world(5);
    const b = await boot(w);
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    expect(p.logger).toBeNull();
    const startFds = w.k.procs.get(b.pid)?.fds;
    expect(w.k.procs.get(p.send)?.fds.get(0)).toBe(startFds?.get(1));
    for (const pid of [p.lspawn, p.rspawn, ...p.clean]) expect(w.k.procs.get(pid)?.fds.get(2)).toBe(startFds?.get(2));
    expect(b.logLines()[0]).toMatch(/^argv qmail-send env FOO= uid 7796 gid 2107$/);
    await stop(w, b);
  });
});

describe('qmail-start: argv and environment', () => {
  it('passes -s/-c/-d on as indimail does, defaultdelivery to qmail-lspawn, QUEUEDIR to everyone, and the environment', async () => {
    const w = await world(6);
    const b = await boot(w, { flags: ['-cd'], defaultDelivery: './Mailbox', env: { QUEUEDIR: w.inst.queue.dir, FOO: 'bar' } });
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    const argv = (pid: number) => w.k.procs.get(pid)?.argv;
    const q = w.inst.queue.dir;
    expect(argv(p.send)).toEqual(['qmail-send', '-d', q]);
    expect(argv(p.todo)).toEqual(['todo-proc', '-c', '-d', q]);
    expect(argv(p.lspawn)).toEqual(['qmail-lspawn', './Mailbox', q]);
    expect(argv(p.rspawn)).toEqual(['qmail-rspawn', q]);
    expect(argv(p.clean[0])).toEqual(['qmail-clean', q, 'qmail-send']);
    expect(argv(p.clean[1])).toEqual(['qmail-clean', q, 'todo-proc']);
    expect(w.k.procs.get(p.lspawn)?.env).toEqual({ PATH: `${w.inst.home}/bin:/usr/bin:/bin`, QUEUEDIR: q, FOO: 'bar' });
    expect(b.logLines()[0]).toBe(`argv qmail-send -d ${q} env FOO=bar uid 7796 gid 2107`);
    await stop(w, b);
  });

  it('defaults: ./Mailbox, no options, no QUEUEDIR; qmail-start and the daemons run in / with umask 077', async () => {
    const w = await world(7);
    const h = w.k.spawn(`${w.inst.home}/bin/qmail-start`, ['qmail-start'], { env: {}, cwd: w.inst.home });
    const children = () => [...w.k.procs.values()].filter((p) => p.ppid === h.pid);
    await w.k.run({ until: () => children().some((p) => p.argv[0] === 'qmail-send'), untilMs: 60_000 });
    expect(children().find((c) => c.argv[0] === 'qmail-lspawn')?.argv).toEqual(['qmail-lspawn', './Mailbox']);
    expect(children().find((c) => c.argv[0] === 'qmail-send')?.argv).toEqual(['qmail-send']);
    expect(children().filter((c) => c.argv[0] === 'qmail-clean').map((c) => c.argv)).toEqual([['qmail-clean'], ['qmail-clean']]);
    const start = w.k.procs.get(h.pid);
    expect({ cwd: start?.cwd, umask: start?.umask }).toEqual({ cwd: '/', umask: 0o077 });
    for (const c of children()) expect({ cwd: c.cwd, umask: c.umask }).toEqual({ cwd: '/', umask: 0o077 });
    // TERM only once qmail-send is up (its four fd lines logged): a TERM during start-up is a
    // different case, and which daemon it finds half-started depends on the seed.
    const fdLines = () => new TextDecoder().decode(h.output(1)).split('\n').filter((l) => l.startsWith('fd')).length;
    await w.k.run({ until: () => fdLines() === 4 || h.status() !== null, untilMs: w.k.nowMs + 60_000 });
    w.k.kill(h.pid, 'SIGTERM');
    await w.k.run({ until: () => h.status() !== null, untilMs: w.k.nowMs + 60_000 });
    expect(h.status()).toEqual({ code: 0, signal: null });
    expect(w.k.pids()).toEqual([]);
  });
});

describe('qmail-start: signals and the end', () => {
  it('passes HUP, ALRM, USR1 and USR2 on to qmail-send; TERM: status: exiting, exit 0, every process gone', async () => {
    const w = await world(8);
    const b = await boot(w, { logger: true });
    for (const sig of ['SIGHUP', 'SIGALRM', 'SIGUSR1', 'SIGUSR2'] as const) {
      b.kill(sig);
      await w.k.run({ until: () => b.log().includes(`got ${sig}`), untilMs: w.k.nowMs + 10_000 });
    }
    expect(b.logLines().filter((l) => l.startsWith('got '))).toEqual(['got SIGHUP', 'got SIGALRM', 'got SIGUSR1', 'got SIGUSR2']);
    expect(b.status()).toBeNull();
    await stop(w, b);
    expect(b.status()).toEqual({ code: 0, signal: null });
    expect(b.logLines().at(-1)).toBe('status: exiting'); // through the logger, which wrote it all before ending
    expect(w.k.pids()).toEqual([]);
    expect(b.stderr()).toBe('');
  });

  it('SIGINT is passed on as SIGTERM', async () => {
    const w = await world(9);
    const b = await boot(w);
    b.kill('SIGINT');
    await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 60_000 });
    expect(b.status()).toEqual({ code: 0, signal: null });
    expect(b.logLines().at(-1)).toBe('status: exiting');
    expect(w.k.pids()).toEqual([]);
  });

  it('a killed helper: qmail-send sees EOF and dies, the others are stopped, qmail-start exits 111', async () => {
    const w = await world(10);
    const b = await boot(w, { logger: true });
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    w.k.kill(p.lspawn, 'SIGKILL');
    await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 600_000 });
    expect(b.status()).toEqual({ code: 111, signal: null });
    expect(b.stderr()).toBe(`fatal: qmail-start: qmail-lspawn (pid ${p.lspawn}) was killed by SIGKILL; stopped everything\n`);
    expect(b.logLines().at(-1)).toBe('alert: oh no! lost spawn connection! dying...');
    expect(w.k.pids()).toEqual([]);
  });

  it('each daemon killed in turn: always exit 111 and nothing left', async () => {
    for (const role of ['todo', 'rspawn', 'logger', 'clean0', 'clean1'] as const) {
      const w = await world(11);
      const b = await boot(w, { logger: true });
      const p = b.pids();
      if (p === null) throw new Error('not booted');
      const pid = role === 'clean0' ? p.clean[0] : role === 'clean1' ? p.clean[1] : (p[role] as number);
      w.k.kill(pid, 'SIGKILL');
      await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 600_000 });
      expect({ role, status: b.status(), left: w.k.pids() }).toEqual({ role, status: { code: 111, signal: null }, left: [] });
      expect(b.stderr()).toMatch(new RegExp(`^fatal: qmail-start: .* \\(pid ${pid}\\) was killed by SIGKILL; stopped everything\\n$`));
    }
  });

  it('qmail-send killed by a signal: the others end on EOF, exit 111', async () => {
    const w = await world(12);
    const b = await boot(w);
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    w.k.kill(p.send, 'SIGKILL');
    await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 600_000 });
    expect(b.status()).toEqual({ code: 111, signal: null });
    expect(b.stderr()).toBe(`fatal: qmail-start: qmail-send (pid ${p.send}) was killed by SIGKILL; stopped everything\n`);
    expect(w.k.pids()).toEqual([]);
  });

  it('bounds: a qmail-send that stays after a helper died gets TERM after sendDyingMs; a helper that ignores TERM and EOF gets KILL', async () => {
    const w = await world(13, { stubbornSend: true, stubbornClean: true });
    const b = await boot(w);
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    const t0 = w.k.nowMs;
    w.k.kill(p.rspawn, 'SIGKILL');
    await w.k.run({ until: () => b.status() !== null, untilMs: t0 + 10 * 60_000 });
    expect(b.status()).toEqual({ code: 111, signal: null });
    expect(w.k.pids()).toEqual([]);
    // qmail-send: TERM (its handler logs status: exiting) after sendDyingMs.
    const exitOf = (pid: number) => w.k.trace.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r['event'] === 'proc.exit' && r['pid'] === pid);
    expect((exitOf(p.send)?.['t'] as number) - t0).toBeGreaterThanOrEqual(sendDyingMs);
    expect((exitOf(p.send)?.['t'] as number) - t0).toBeLessThan(sendDyingMs + 1000);
    // The cleans ignore TERM and EOF: KILL after helpersExitMs + killGraceMs.
    expect(exitOf(p.clean[0])?.['signal']).toBe('SIGKILL');
    const cleanEnd = exitOf(p.clean[1])?.['t'] as number;
    expect(cleanEnd - t0).toBeGreaterThanOrEqual(sendDyingMs + helpersExitMs + killGraceMs);
    expect(cleanEnd - t0).toBeLessThan(sendDyingMs + helpersExitMs + killGraceMs + 1000);
  });
});

describe('qmail-start: failures to start', () => {
  async function failing(w: World, argv: string[], env: Record<string, string> = {}, uid = 0): Promise<{ code: number | null; stderr: string }> {
    const h = w.k.spawn(`${w.inst.home}/bin/qmail-start`, argv, { env, uid, gid: uid === 0 ? 0 : 100 });
    const done = h.wait();
    await w.k.run({ until: () => h.status() !== null, untilMs: w.k.nowMs + 600_000 });
    const r = await done;
    return { code: r.code, stderr: r.stderr };
  }

  it('a missing daemon program: fatal, exit 111, the daemons already started are stopped', async () => {
    const w = await world(20);
    w.k.fs.unlink({ cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 }, `${w.inst.home}/bin/qmail-rspawn`);
    const r = await failing(w, ['qmail-start', './Maildir/']);
    expect(r).toEqual({ code: 111, stderr: 'fatal: qmail-start: unable to start qmail-rspawn: file does not exist\n' });
    expect(w.k.pids()).toEqual([]);
  });

  it('a missing qmail user or group: fatal before anything starts', async () => {
    const k = new Kernel({ seed: 21, trace: { syscalls: false } });
    k.users.addGroup('root', 0);
    k.users.addUser({ name: 'root', uid: 0, gid: 0, home: '/root' });
    k.users.addGroup('qmail', groups.qmail);
    for (const name of ['qmails', 'qmailq'] as const) k.users.addUser({ name, uid: users[name], gid: groups.qmail, home: '/var/qmail' });
    const inst: Installation = { home: '/var/qmail', queue: { dir: '/var/qmail/queue', split: 7, bigtodo: false } };
    installAs(k, inst, 'qmail-start', 'qmail-start', qmailPrograms['qmail-start']);
    installFakes(k, inst);
    const r = await failing({ k, inst }, ['qmail-start', './Maildir/']);
    expect(r).toEqual({ code: 111, stderr: 'fatal: qmail-start: unable to initialize uids/gids: no user qmailr\n' });
    expect(k.pids()).toEqual([]);
  });

  it('a logger not found through PATH: fatal before anything starts', async () => {
    const w = await world(24);
    const r = await failing(w, ['qmail-start', './Maildir/', 'no-such-logger', 'arg'], { PATH: `${w.inst.home}/bin:/usr/bin` });
    expect(r).toEqual({ code: 111, stderr: 'fatal: qmail-start: unable to exec logger: file does not exist\n' });
    expect(w.k.pids()).toEqual([]);
  });

  it('not root: fatal as prot_gid fails', async () => {
    const w = await world(22);
    const r = await failing(w, ['qmail-start'], {}, 1000);
    expect(r).toEqual({ code: 111, stderr: 'fatal: qmail-start: unable to set qmail group: permission denied\n' });
  });

  it('an unknown option: fatal with the usage', async () => {
    const w = await world(23);
    const r = await failing(w, ['qmail-start', '-x', './Maildir/']);
    expect(r.code).toBe(111);
    expect(r.stderr).toBe('fatal: qmail-start: illegal option -- x; usage: qmail-start [-s|-cd] [defaultdelivery] [logger arg ...]\n');
    expect(w.k.pids()).toEqual([]);
  });
});
