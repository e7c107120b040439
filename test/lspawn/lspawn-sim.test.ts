// qmail-lspawn in the simulator: the spawn protocol byte for byte, spawn.c's checks and reports,
// resolution (trash, users/cdb before getpw, QMAILGETPW), the two ways of running qmail-local
// (worker pool, QMAILLOCAL / big messages), MESSID, AUTHSELF, SETUSER_PRIVILEGES, truncation, root.

import { describe, expect, it } from 'vitest';
import { simIds } from '../../sim/install.ts';
import { messageText, queueMessage, tokensIn, userFile, staffGid } from '../../sim/scenarios/lspawn-world.ts';
import { authselfDeferReport, spawnReports, truncReportKeepBytes, truncReportSuffix, workerFrameBytesMax, workerMessageBytesMax } from '../../spec/spawn.ts';
import { qlxReports } from '../../spec/users.ts';
import { command, commands, rawLspawn, spawnsOf, testWorld, type TestWorld } from './helpers.ts';

const did1 = 'Kdid 1+0+0\n';

async function world(seed = 1): Promise<TestWorld> {
  return testWorld({ seed, users: 3 });
}

/** users/assign -> users/cdb through the installed qmail-newu. */
async function assign(w: TestWorld, lines: string[]): Promise<void> {
  w.k.writeFile(`${w.inst.home}/users/assign`, `${lines.join('\n')}\n.\n`, { uid: 0, gid: 0, mode: 0o644 });
  const h = w.k.spawn(`${w.inst.home}/bin/qmail-newu`, ['qmail-newu'], { env: { QMAILHOME: w.inst.home } });
  const done = h.wait();
  await w.k.run({ until: () => h.status() !== null });
  expect((await done).code).toBe(0);
}

describe('qmail-lspawn: protocol', () => {
  it('writes the concurrency byte first, then one report per command, and exits 0 at EOF', async () => {
    const w = await world();
    const m = queueMessage(w, 1001, messageText(1));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1@sim.example'), command(7, m, 'a@b', 'user2@sim.example')));
    expect(r.concurrency).toBe(120);
    expect(r.code).toBe(0);
    expect(r.reports.sort()).toEqual([[0, did1], [7, did1]]);
    expect(tokensIn(w.k, '/home/user1/Maildir').get(1)).toBe(1);
    expect(tokensIn(w.k, '/home/user2/Maildir').get(1)).toBe(1);
  });

  it('reports in the order deliveries finish, not the order of commands', async () => {
    const w = await world();
    userFile(w.k, w.users[0]!, '.qmail-slow', '|sim-sleep 5000\n');
    const m = queueMessage(w, 1002, messageText(2));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1-slow@x'), command(1, m, 'a@b', 'user2@x')));
    expect(r.reports).toEqual([[1, did1], [0, 'Kdid 0+0+1\n']]);
  });

  it('exits 100 without defaultdelivery, before writing anything', async () => {
    const w = await world();
    const r = await rawLspawn(w, new Uint8Array(0), {}, ['qmail-lspawn']);
    expect(r).toEqual({ code: 100, concurrency: null, reports: [] });
  });

  it('drops a command cut off by EOF', async () => {
    const w = await world();
    const m = queueMessage(w, 1003, messageText(3));
    const r = await rawLspawn(w, commands(command(3, m, 'a@b', 'user1@x'), command(4, m, 'a@b', 'user1@x').subarray(0, 8)));
    expect(r.reports).toEqual([[3, did1]]);
  });

  it('a slot byte 0 followed by an empty messid is still one command (the NUL is a field end)', async () => {
    const w = await world();
    const r = await rawLspawn(w, command(0, '', '', 'user1@x'));
    expect(r.reports).toEqual([[0, spawnReports.messidTooShort]]);
  });
});

describe('qmail-lspawn: spawn.c checks, in order', () => {
  it('gives each failed check its exact report and letter', async () => {
    const w = await world();
    const m = queueMessage(w, 1004, messageText(4));
    w.k.writeFile(`${w.inst.queue.dir}/mess/5/5`, 'x', { uid: 0, gid: 0, mode: 0o644 }); // wrong owner
    w.k.mkdirs(`${w.inst.queue.dir}/mess/6/6`, { uid: simIds.users.qmailq, gid: 0, mode: 0o755 }); // a directory
    const cases: [Uint8Array, string][] = [
      [command(120, m, 'a@b', 'user1@x'), spawnReports.delnumTooBig],
      [command(255, m, 'a@b', 'user1@x'), spawnReports.delnumTooBig],
      [command(1, '12a/4', 'a@b', 'user1@x'), spawnReports.messidNonnumerics],
      [command(2, '/1004', 'a@b', 'user1@x'), spawnReports.messidNonnumerics],
      [command(3, `x${'1'.repeat(200)}`, 'a@b', 'user1@x'), spawnReports.messidNonnumerics],
      [command(4, '1'.repeat(101), 'a@b', 'user1@x'), spawnReports.messidTooLong],
      [command(5, '', 'a@b', 'user1@x'), spawnReports.messidTooShort],
      [command(6, m, 'a@b', 'user1'), spawnReports.noHost],
      [command(7, '9/999', 'a@b', 'user1@x'), spawnReports.openMessage],
      [command(8, '5/5', 'a@b', 'user1@x'), spawnReports.wrongOwner],
      [command(9, '6/6', 'a@b', 'user1@x'), spawnReports.wrongType],
      [command(10, '1'.repeat(100), 'a@b', 'user1@x'), spawnReports.openMessage],
    ];
    const r = await rawLspawn(w, commands(...cases.map(([c]) => c)));
    expect(new Map(r.reports)).toEqual(new Map(cases.map(([c, rep]) => [c[0] as number, rep])));
    expect(r.reports.length).toBe(cases.length);
  });

  it('refuses a slot that is in use, and reuses it once reported', async () => {
    const w = await world();
    userFile(w.k, w.users[0]!, '.qmail-slow', '|sim-sleep 5000\n');
    const m = queueMessage(w, 1005, messageText(5));
    const r = await rawLspawn(w, commands(command(4, m, 'a@b', 'user1-slow@x'), command(4, m, 'a@b', 'user2@x')));
    expect(r.reports).toEqual([[4, spawnReports.delnumInUse], [4, 'Kdid 0+0+1\n']]);
  });

  it('answers a command longer than the bound with out of memory, once it ends', async () => {
    const w = await world();
    const m = queueMessage(w, 1006, messageText(6));
    const r = await rawLspawn(w, commands(command(1, m, 'a'.repeat(70_000), 'user1@x'), command(2, m, 'a@b', 'user1@x')));
    expect(new Map(r.reports)).toEqual(new Map([[1, spawnReports.noMem], [2, did1]]));
  });

  it('opens the message before it looks at the address (trash with no message is Z)', async () => {
    const w = await world();
    const r = await rawLspawn(w, command(0, '3/77', 'a@b', '@x'));
    expect(r.reports).toEqual([[0, spawnReports.openMessage]]);
  });
});

describe('qmail-lspawn: resolution', () => {
  it('an empty local part is a trash address: K with no text, nothing delivered, no worker', async () => {
    const w = await world();
    const m = queueMessage(w, 1010, messageText(10));
    const r = await rawLspawn(w, command(0, m, 'a@b', '@sim.example'));
    expect(r.reports).toEqual([[0, 'K']]);
    expect(spawnsOf(w, 'qmail-local-worker')).toEqual([]);
  });

  it('users/cdb comes before qmail-getpw; getpw rules apply to the rest', async () => {
    const w = await world();
    const u2 = w.users[1]!;
    await assign(w, [`=user1:user2:${u2.uid}:100:${u2.home}:::`, `+catch-:user2:${u2.uid}:100:${u2.home}:-:box-:`]);
    userFile(w.k, w.users[1]!, '.qmail-box-default', './Maildir/\n');
    const m = queueMessage(w, 1011, messageText(11));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1@x'), command(1, m, 'a@b', 'user3@x'), command(2, m, 'a@b', 'catch-Any@x')));
    expect(new Map(r.reports)).toEqual(new Map([[0, did1], [1, did1], [2, did1]]));
    expect(tokensIn(w.k, '/home/user2/Maildir').get(11)).toBe(2); // user1@ and catch-Any@ both to user2
    expect(tokensIn(w.k, '/home/user1/Maildir').get(11)).toBeUndefined();
    expect(tokensIn(w.k, '/home/user3/Maildir').get(11)).toBe(1);
  });

  it('extensions go through .qmail-default; an unknown extension without one bounces', async () => {
    const w = await world();
    userFile(w.k, w.users[0]!, '.qmail-default', './Maildir/\n');
    const m = queueMessage(w, 1012, messageText(12));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1-anything@x'), command(1, m, 'a@b', 'user2-nothing@x')));
    expect(new Map(r.reports)).toEqual(new Map([[0, did1], [1, 'DSorry, no mailbox here by that name. (#5.1.1)\n']]));
  });

  it('never delivers as root: users/cdb with uid 0 is refused; getpw skips root (alias gets it)', async () => {
    const w = await world();
    await assign(w, ['=toor:root:0:0:/root:::']);
    const m = queueMessage(w, 1013, messageText(13));
    const r = await rawLspawn(w, command(0, m, 'a@b', 'toor@x'));
    expect(r.reports).toEqual([[0, 'ZNot allowed to perform deliveries as root.\n']]);
    const workers = spawnsOf(w, 'qmail-local-worker');
    expect(workers.every((s) => s.uid !== 0)).toBe(true);
    // root@ through getpw: the alias user (uid 7790), never uid 0.
    await rawLspawn(w, command(1, m, 'a@b', 'root@x'));
    expect(spawnsOf(w, 'qmail-local-worker').map((s) => s.uid)).toEqual([simIds.users.alias]);
  });

  it('a qlx exit of the lookup replaces the report (QMAILGETPW)', async () => {
    const w = await world();
    const m = queueMessage(w, 1014, messageText(14));
    const run = (env: Record<string, string>) => rawLspawn(w, command(0, m, 'a@b', 'user1@x'), env);
    expect((await run({ QMAILGETPW: '/usr/bin/sim-getpw-fail' })).reports).toEqual([[0, qlxReports[116]]]);
    expect((await run({ QMAILGETPW: '/usr/bin/sim-getpw-fail', SIM_GETPW_EXIT: '115' })).reports).toEqual([[0, qlxReports[115]]]);
    expect((await run({ QMAILGETPW: '/usr/bin/nonexistent' })).reports).toEqual([[0, qlxReports[121]]]);
  });

  it('QMAILGETPW runs that program as qmailp/nofiles per delivery', async () => {
    const w = await world();
    const m = queueMessage(w, 1015, messageText(15));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1@x'), command(1, m, 'a@b', 'user2@x')), { QMAILGETPW: `${w.inst.home}/bin/qmail-getpw` });
    expect(new Map(r.reports)).toEqual(new Map([[0, did1], [1, did1]]));
    expect(spawnsOf(w, 'qmail-getpw').map((s) => [s.uid, s.gid])).toEqual([
      [simIds.users.qmailp, simIds.groups.nofiles],
      [simIds.users.qmailp, simIds.groups.nofiles],
    ]);
  });

  it('without QMAILGETPW the lookup is in process: no qmail-getpw process at all', async () => {
    const w = await world();
    const m = queueMessage(w, 1016, messageText(16));
    await rawLspawn(w, command(0, m, 'a@b', 'user1@x'));
    expect(spawnsOf(w, 'qmail-getpw')).toEqual([]);
  });
});

describe('qmail-lspawn: the delivery environment and credentials', () => {
  it('sets MESSID, drops QMAILREMOTE, runs as the user with exactly [gid]', async () => {
    const w = await world();
    w.k.users.addMember('staff', 'user1');
    userFile(w.k, w.users[0]!, '.qmail-id', '|sim-id\n');
    const m = queueMessage(w, 1020, messageText(20));
    const r = await rawLspawn(w, command(0, m, 'a@b', 'user1-id@x'), { QMAILREMOTE: '/bin/false' });
    expect(r.reports).toEqual([[0, `Kuid=2001 gid=100 groups=100 MESSID=${m} QMAILREMOTE=-\ndid 0+0+1\n`]]);
  });

  it('SETUSER_PRIVILEGES adds the supplementary groups of a getpw user, not of a users/cdb one', async () => {
    const w = await world();
    w.k.users.addMember('staff', 'user1');
    w.k.users.addMember('staff', 'user2');
    await assign(w, [`=u2:user2:${w.users[1]!.uid}:100:/home/user2:-:id:`]);
    userFile(w.k, w.users[0]!, '.qmail-id', '|sim-id\n');
    userFile(w.k, w.users[1]!, '.qmail-id', '|sim-id\n');
    const m = queueMessage(w, 1021, messageText(21));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1-id@x'), command(1, m, 'a@b', 'u2@x')), { SETUSER_PRIVILEGES: '1' });
    expect(new Map(r.reports)).toEqual(
      new Map([
        [0, `Kuid=2001 gid=100 groups=100,${staffGid} MESSID=${m} QMAILREMOTE=-\ndid 0+0+1\n`],
        [1, `Kuid=2002 gid=100 groups=100 MESSID=${m} QMAILREMOTE=-\ndid 0+0+1\n`],
      ]),
    );
  });

  it('AUTHSELF defers every delivery that needs the virtual-domain database; <> stays trash', async () => {
    const w = await world();
    const m = queueMessage(w, 1022, messageText(22));
    const input = commands(command(0, m, 'a@b', 'user1@x'), command(1, m, 'a@b', '@x'));
    expect(new Map((await rawLspawn(w, input, { AUTHSELF: '' })).reports)).toEqual(new Map([[0, authselfDeferReport], [1, 'K']]));
    expect(new Map((await rawLspawn(w, input, { AUTHSELF: '1', ROUTE_NULL_USER: '' })).reports)).toEqual(new Map([[0, authselfDeferReport], [1, 'K']]));
    expect(new Map((await rawLspawn(w, input, { AUTHSELF: '1', ROUTE_NULL_USER: 'postmaster' })).reports)).toEqual(
      new Map([[0, authselfDeferReport], [1, authselfDeferReport]]),
    );
    // Without AUTHSELF, ROUTE_NULL_USER changes nothing.
    expect((await rawLspawn(w, command(2, m, 'a@b', '@x'), { ROUTE_NULL_USER: 'postmaster' })).reports).toEqual([[2, 'K']]);
    expect(tokensIn(w.k, '/home/user1/Maildir').size).toBe(0);
  });

  it('cuts output longer than 3000 bytes to 2966 and the suffix', async () => {
    const w = await world();
    userFile(w.k, w.users[0]!, '.qmail-long', '|sim-print 5000\n');
    userFile(w.k, w.users[0]!, '.qmail-fit', '|sim-print 2988\n');
    const m = queueMessage(w, 1023, messageText(23));
    const r = new Map((await rawLspawn(w, commands(command(0, m, 'a@b', 'user1-long@x'), command(1, m, 'a@b', 'user1-fit@x')))).reports);
    expect(r.get(0)).toBe(`K${'y'.repeat(truncReportKeepBytes)}${truncReportSuffix}`);
    expect(r.get(1)).toBe(`K${'y'.repeat(2988)}did 0+0+1\n`); // 3000 bytes: not cut
  });
});

describe('qmail-lspawn: per-delivery qmail-local processes', () => {
  it('QMAILLOCAL runs that program as qmail runs qmail-local: argv, fd 0 the message, fds 1 and 2 one pipe', async () => {
    const w = await world();
    const text = messageText(30);
    const m = queueMessage(w, 1030, text);
    const r = await rawLspawn(w, command(0, m, 'send@er', 'User1-Ext@Dom.example'), { QMAILLOCAL: '/usr/bin/sim-local' });
    const home = w.inst.home;
    expect(r.reports).toEqual([
      [0, `Kargv=bin/qmail-local|--|user1|/home/user1|User1-Ext|-|Ext|Dom.example|send@er|./Maildir/\nfd0=file:${text.length}:${text.split('\n')[0]}\nuid=2001 cwd=${home} MESSID=${m}\n`],
    ]);
    expect(spawnsOf(w, 'qmail-local-worker')).toEqual([]);
  });

  it('QMAILLOCAL exit codes give the letter; qlx codes their own report; a crash Z', async () => {
    const w = await world();
    const m = queueMessage(w, 1031, messageText(31));
    const one = async (code: string) => (await rawLspawn(w, command(0, m, 'a@b', 'user1@x'), { QMAILLOCAL: '/usr/bin/sim-local', SIM_EXIT: code })).reports[0]?.[1].slice(0, 1);
    expect(await one('111')).toBe('Z');
    expect(await one('100')).toBe('D');
    expect(await one('75')).toBe('Z');
    expect(await one('3')).toBe('D');
    expect((await rawLspawn(w, command(0, m, 'a@b', 'user1@x'), { QMAILLOCAL: '/usr/bin/sim-local', SIM_EXIT: '113' })).reports).toEqual([[0, qlxReports[113]]]);
    expect((await rawLspawn(w, command(0, m, 'a@b', 'user1@x'), { QMAILLOCAL: '/nonexistent' })).reports).toEqual([[0, 'DUnable to run qmail-local.\n']]);
    expect((await rawLspawn(w, command(0, m, 'a@b', 'user1@x'), { QMAILLOCAL: '/usr/bin/sim-crash' })).reports).toEqual([[0, 'Zqmail-local crashed.\n']]);
  });

  it('QMAILLOCAL with our own qmail-local delivers, one process per delivery', async () => {
    const w = await world();
    const m = queueMessage(w, 1032, messageText(32));
    const r = await rawLspawn(w, commands(command(0, m, 'a@b', 'user1@x'), command(1, m, 'a@b', 'user1@x')), { QMAILLOCAL: `${w.inst.home}/bin/qmail-local` });
    expect(r.reports.map(([, t]) => t)).toEqual([did1, did1]);
    expect(spawnsOf(w, 'qmail-local').length).toBe(2);
    expect(tokensIn(w.k, '/home/user1/Maildir').get(32)).toBe(2);
  });

  it('a message larger than the in-memory bound goes to a qmail-local process, byte for byte', async () => {
    const w = await world();
    const big = messageText(33, workerMessageBytesMax + 10);
    const m = queueMessage(w, 1033, big);
    const r = await rawLspawn(w, command(0, m, 'a@b', 'user1@x'));
    expect(r.reports).toEqual([[0, did1]]);
    expect(spawnsOf(w, 'qmail-local').length).toBe(1);
    expect(spawnsOf(w, 'qmail-local-worker')).toEqual([]);
    const files = [...(w.k.fs.peekDir('/home/user1/Maildir/new') ?? [])];
    expect(files.length).toBe(1);
    const got = new TextDecoder().decode(w.k.fs.peekFile(`/home/user1/Maildir/new/${files[0]}`) ?? new Uint8Array(0));
    expect(got.endsWith(big)).toBe(true);
  });
});

describe('qmail-lspawn: a request too big for a worker frame', () => {
  it('an environment that would overflow the frame takes the process path', async () => {
    const w = await world();
    const m = queueMessage(w, 1034, messageText(34));
    const r = await rawLspawn(w, command(0, m, 'a@b', 'user1@x'), { BIG: 'b'.repeat(workerFrameBytesMax) });
    expect(r.reports).toEqual([[0, did1]]);
    expect(spawnsOf(w, 'qmail-local').length).toBe(1);
    expect(spawnsOf(w, 'qmail-local-worker')).toEqual([]);
  });
});

describe('qmail-lspawn: signals', () => {
  it('SIGTERM: no new commands, the deliveries in flight finish and are reported, exit 0', async () => {
    const w = await world();
    userFile(w.k, w.users[0]!, '.qmail-slow', '|sim-sleep 5000\n');
    const m = queueMessage(w, 1040, messageText(40));
    const { ledger, handle } = w.sends.start({ jobs: [{ index: 40, messid: m, sender: 'a@b', recipient: 'user1-slow@x' }], holdMs: 60_000 });
    await w.k.run({ untilMs: w.k.nowMs + 1000 });
    expect(ledger.lspawnPid).toBeGreaterThan(0);
    w.k.kill(ledger.lspawnPid, 'SIGTERM');
    await w.k.run({ until: () => handle.status() !== null });
    expect(ledger.attempts.map((a) => a.report)).toEqual(['Kdid 0+0+1\n']);
    expect(ledger.lspawnStatus).toEqual({ code: 0, signal: null });
  });
});
