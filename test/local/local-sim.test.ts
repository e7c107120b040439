// qmail-local in the simulator, both ways it runs: the installed program (started by a root harness
// as qmail-lspawn starts it: joe's uid and gid, fd 0 the message file, fds 1 and 2 captured) and
// qmailLocal() in a process running as joe (what the delivery workers do). Same bytes either way.

import { describe, expect, it } from 'vitest';
import { checkQueue } from '../../sim/checkers/queue-state.ts';
import { dec } from '../sim/helpers.ts';
import {
  dirNames, fileText, joe, joeDir, joeFile, joeMaildir, localWorld, modes, runLocal, type LocalWorld, type Mode,
} from './sim-world.ts';

const message = 'Subject: hi\nX: y\n\nFrom me\nbody\n';
const rp = 'Return-Path: <sender@example.org>\n';
const dt = 'Delivered-To: joe@example.com\n';

function maildirFiles(w: LocalWorld, dir = 'Maildir'): { name: string; text: string; mode: number; uid: number }[] {
  return dirNames(w, `${joe.home}/${dir}/new`).map((name) => {
    const path = `${joe.home}/${dir}/new/${name}`;
    const st = w.k.fs.peekStat(path);
    return { name, text: fileText(w, path) ?? '', mode: (st?.mode ?? 0) & 0o7777, uid: st?.uid ?? -1 };
  });
}

describe.each(modes)('qmail-local (%s)', (mode: Mode) => {
  it('delivers to ./Maildir/ by default: Return-Path, Delivered-To, the message; 0600, joe\'s', async () => {
    const w = await localWorld(1);
    joeMaildir(w);
    const r = await runLocal(w, { mode, args: {}, message });
    expect(r).toMatchObject({ code: 0, stdout: 'did 1+0+0\n', stderr: '' });
    const files = maildirFiles(w);
    expect(files.map((f) => ({ text: f.text, mode: f.mode, uid: f.uid }))).toEqual([{ text: rp + dt + message, mode: 0o600, uid: joe.uid }]);
    expect(files[0]?.name).toMatch(/^1767225600\.M[0-9]+P[0-9]+R[0-9a-f]{16}\.sim\.example$/);
    expect(dirNames(w, `${joe.home}/Maildir/tmp`)).toEqual([]);
  });

  it('writes the VERIFIED mbox entry: From_ line, Return-Path, Delivered-To, >From quoting, empty line', async () => {
    const w = await localWorld(2, { epochMs: Date.parse('2026-11-21T22:57:08Z') });
    joeFile(w, '.qmail-foo-default', './mbox\n');
    joeFile(w, 'mbox', 'old\n\n', 0o600);
    const args = { local: 'joe-foo-Bar.Baz', dash: '-', ext: 'foo-Bar.Baz', domain: 'a.b.c.example.com', sender: 'snd er@x.org' };
    const r = await runLocal(w, { mode, args, message: 'Subject: t\n\nFrom me\n>From you\nx\n' });
    expect(r).toMatchObject({ code: 0, output: 'did 1+0+0\n' });
    expect(fileText(w, `${joe.home}/mbox`)).toBe(
      'old\n\nFrom snd-er@x.org Sat Nov 21 22:57:08 2026\nReturn-Path: <"snd er"@x.org>\nDelivered-To: joe-foo-Bar.Baz@a.b.c.example.com\nSubject: t\n\n>From me\n>>From you\nx\n\n',
    );
    expect(dirNames(w, joe.home)).not.toContain('mbox.qmail-pending');
  });

  it('creates a missing mbox 0600; a partial last line gets its LF and the empty line', async () => {
    const w = await localWorld(3);
    joeFile(w, '.qmail', './Mailbox\n');
    const r = await runLocal(w, { mode, args: { sender: '' }, message: 'a\nlast' });
    expect(r.code).toBe(0);
    expect(fileText(w, `${joe.home}/Mailbox`)).toBe('From MAILER-DAEMON Thu Jan 01 00:00:00 2026\nReturn-Path: <>\n' + dt + 'a\nlast\n\n');
    expect((w.k.fs.peekStat(`${joe.home}/Mailbox`)?.mode ?? 0) & 0o777).toBe(0o600);
  });

  it("ignores someone else's recovery record or symlink beside an mbox in a sticky spool directory", async () => {
    const w = await localWorld(21);
    const mallory = { uid: 1666, gid: 1666, mode: 0o644 };
    w.k.mkdirs('/var/mail', { uid: 0, gid: 0, mode: 0o1777 });
    const old = 'From a@b Thu Jan 01 00:00:00 2026\nSubject: old\n\nold\n\n';
    w.k.writeFile('/var/mail/joe', old, { uid: joe.uid, gid: joe.gid, mode: 0o600 });
    const ino = w.k.fs.peekStat('/var/mail/joe')?.ino;
    // A record that would cut joe's mbox to nothing, if it were trusted.
    const forged = `qmail-local mbox pending 1\n${ino}\n0\n100000\nFrom a@b Thu Jan 01 00:00:00 2026\n`;
    w.k.writeFile('/var/mail/joe.qmail-pending', forged, mallory);
    joeFile(w, '.qmail', '/var/mail/joe\n');
    expect(await runLocal(w, { mode, args: {}, message })).toMatchObject({ code: 0, output: 'did 1+0+0\n' });
    const after = fileText(w, '/var/mail/joe') ?? '';
    expect(after.startsWith(old) && after.endsWith(`${rp}${dt}Subject: hi\nX: y\n\n>From me\nbody\n\n`)).toBe(true);
    expect(fileText(w, '/var/mail/joe.qmail-pending')).toBe(forged);
    // A symlink planted under the record's name is never followed (joe's .qmail stays as it was).
    w.k.fs.unlink({ cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 }, '/var/mail/joe.qmail-pending');
    w.k.fs.symlink({ cred: { uid: mallory.uid, gid: mallory.gid, groups: [mallory.gid] }, cwd: '/', umask: 0 }, `${joe.home}/.qmail`, '/var/mail/joe.qmail-pending');
    expect((await runLocal(w, { mode, args: {}, message })).code).toBe(0);
    expect(fileText(w, `${joe.home}/.qmail`)).toBe('/var/mail/joe\n');
    expect((fileText(w, '/var/mail/joe') ?? '').split('>From me').length).toBe(3);
  });

  it('gives programs the environment in qmail\'s order and the message without Return-Path/Delivered-To', async () => {
    const w = await localWorld(4);
    joeFile(w, '.qmail-foo-default', '|sim-dump one "two words"\n');
    const args = { local: 'joe-foo-Bar.Baz', dash: '-', ext: 'foo-Bar.Baz', domain: 'a.b.c.example.com' };
    const r = await runLocal(w, { mode, args, message, env: { PATH: '/usr/bin:/bin', DEFAULT: 'inherited', KEEP: 'k' } });
    expect(r.code).toBe(0);
    const [dump, did] = r.output.split('--end--\n');
    expect(did).toBe('did 0+0+1\n');
    const lines = (dump ?? '').split('\n');
    expect(lines.slice(0, 3)).toEqual(['argv=["sim-dump","one","two words"]', `ids=${joe.uid}:${joe.gid}`, `cwd=${joe.home}`]);
    const env = lines.slice(3, lines.indexOf('--stdin--'));
    expect(env).toEqual([
      'PATH="/usr/bin:/bin"', 'KEEP="k"',
      'HOST="a.b.c.example.com"', `HOME="${joe.home}"`, 'USER="joe"', 'LOCAL="joe-foo-Bar.Baz"',
      'RECIPIENT="joe-foo-Bar.Baz@a.b.c.example.com"', 'DTLINE="Delivered-To: joe-foo-Bar.Baz@a.b.c.example.com\\n"',
      'SENDER="sender@example.org"', 'RPLINE="Return-Path: <sender@example.org>\\n"',
      'UFLINE="From sender@example.org Thu Jan 01 00:00:00 2026\\n"',
      'EXT="foo-Bar.Baz"', 'EXT2="Bar.Baz"', 'EXT3=""', 'EXT4=""',
      'HOST2="a.b.c.example"', 'HOST3="a.b.c"', 'HOST4="a.b"', 'DEFAULT="Bar.Baz"', 'NEWSENDER="sender@example.org"',
    ]);
    expect(lines.slice(lines.indexOf('--stdin--') + 1).join('\n')).toBe(message);
  });

  it('puts program output before the did line, stdout and stderr both', async () => {
    const w = await localWorld(5);
    joeFile(w, '.qmail', '|sim-echo hello\n');
    const r = await runLocal(w, { mode, args: {}, message });
    expect(r.code).toBe(0);
    if (mode === 'inprocess') expect(r.output).toBe('hello\nto stderr\ndid 0+0+1\n');
    else expect({ out: r.stdout, err: r.stderr }).toEqual({ out: 'hello\ndid 0+0+1\n', err: 'to stderr\n' });
  });

  it.each([
    [0, 0, 'did 1+0+2\n'],
    [99, 0, 'did 0+0+1\n'],
    [100, 100, ''],
    [64, 100, ''],
    [112, 100, ''],
    [111, 111, ''],
    [1, 111, ''],
    [75, 111, ''],
  ])('a program exiting %i: qmail-local exits %i', async (programCode, code, output) => {
    const w = await localWorld(6);
    joeMaildir(w);
    joeFile(w, '.qmail', `|sim-exit ${programCode}\n./Maildir/\n|sim-exit 0\n`);
    const r = await runLocal(w, { mode, args: {}, message });
    expect({ code: r.code, output: r.output }).toEqual({ code, output });
    expect(maildirFiles(w).length).toBe(programCode === 0 ? 1 : 0);
  });

  it('a program that does not read its input, and one killed by a signal', async () => {
    const w = await localWorld(7);
    joeFile(w, '.qmail-quiet', '|sim-head\n');
    joeFile(w, '.qmail-killed', '|sim-kill\n');
    const big = `Subject: big\n\n${'x'.repeat(200_000)}\n`;
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'quiet' }, message: big })).toMatchObject({ code: 0, output: 'did 0+0+1\n' });
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'killed' }, message })).toMatchObject({ code: 111, output: 'Aack, child crashed. (#4.3.0)\n' });
  });

  it('exit 99 stops the lines after it, but earlier forwards still go', async () => {
    const w = await localWorld(8);
    joeMaildir(w);
    joeFile(w, '.qmail', '&fwd@example.org\n|sim-exit 99\n./Maildir/\n&late@example.org\n');
    const r = await runLocal(w, { mode, args: {}, message });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/^did 0\+1\+1\nqp [0-9]+\n$/);
    expect(maildirFiles(w)).toEqual([]);
    const queued = checkQueue(w.k.fs, w.inst.queue).queued;
    expect(queued.map((q) => q.intd.recipients.map((x) => dec(x)))).toEqual([['fwd@example.org']]);
  });

  it('forwards through the real qmail-queue: DTLINE + message, NEWSENDER, every address in order', async () => {
    const w = await localWorld(9);
    joeFile(w, '.qmail-list', '&a@example.org\nb@example.net\n# c@example.com\n');
    joeFile(w, '.qmail-list-owner', 'joe\n');
    const r = await runLocal(w, { mode, args: { local: 'joe-list', dash: '-', ext: 'list' }, message });
    expect(r.code).toBe(0);
    const qp = Number(/^did 0\+2\+0\nqp ([0-9]+)\n$/.exec(r.output)?.[1]);
    expect(qp).toBeGreaterThan(0);
    const [q] = checkQueue(w.k.fs, w.inst.queue).queued;
    expect(dec(q?.intd.sender ?? new Uint8Array())).toBe('joe-list-owner@example.com');
    expect(q?.intd.recipients.map((x) => dec(x))).toEqual(['a@example.org', 'b@example.net']);
    expect(q?.intd.uid).toBe(joe.uid);
    expect(q?.receivedLine).toContain(`(qmail ${qp} invoked by uid ${joe.uid})`);
    expect(dec(q?.body ?? new Uint8Array())).toBe('Delivered-To: joe-list@example.com\n' + message);
  });

  it('NEWSENDER is the VERP form with -owner-default, and the sender itself for <>', async () => {
    const w = await localWorld(10);
    joeFile(w, '.qmail-list', '&a@example.org\n');
    joeFile(w, '.qmail-list-owner', 'joe\n');
    joeFile(w, '.qmail-list-owner-default', 'joe\n');
    const args = { local: 'joe-list', dash: '-', ext: 'list' };
    expect((await runLocal(w, { mode, args, message })).code).toBe(0);
    expect((await runLocal(w, { mode, args: { ...args, sender: '' }, message })).code).toBe(0);
    const senders = checkQueue(w.k.fs, w.inst.queue).queued.map((q) => dec(q.intd.sender)).sort();
    expect(senders).toEqual(['', 'joe-list-owner-@example.com-@[]']);
  });

  it('a forward qmail-queue refuses is reported with its text, temporary or permanent', async () => {
    const w = await localWorld(11);
    joeFile(w, '.qmail', '&a@example.org\n');
    const withQq = (qq: string) => ({ PATH: '/usr/bin:/bin', QMAILQUEUE: `/usr/bin/${qq}` });
    expect(await runLocal(w, { mode, args: {}, message, env: withQq('sim-qq-53') })).toMatchObject({
      code: 111, output: 'Unable to forward message: qq write error or disk full (#4.3.0).\n',
    });
    expect(await runLocal(w, { mode, args: {}, message, env: withQq('sim-qq-31') })).toMatchObject({
      code: 100, output: 'Unable to forward message: qq mail server permanently rejected message (#5.3.0).\n',
    });
  });

  it('finds our Delivered-To line in the header (permanent), not in the body, not in another case', async () => {
    const w = await localWorld(12);
    joeMaildir(w);
    const looping = `Received: x\n${dt}Subject: s\n\nbody\n`;
    expect(await runLocal(w, { mode, args: {}, message: looping })).toMatchObject({
      code: 100, output: 'This message is looping: it already has my Delivered-To line. (#5.4.6)\n',
    });
    expect((await runLocal(w, { mode, args: {}, message: `Subject: s\n\n${dt}` })).code).toBe(0);
    expect((await runLocal(w, { mode, args: {}, message: 'Delivered-To: JOE@example.com\n\n' })).code).toBe(0);
    expect(maildirFiles(w).length).toBe(2);
  });

  it('defers for a world-writable or sticky home and a world-writable .qmail; accepts group-writable', async () => {
    const cases: [number, number, string][] = [
      [0o757, 111, 'Uh-oh: home directory is writable. (#4.7.0)\n'],
      [0o1755, 111, 'Home directory is sticky: user is editing his .qmail file. (#4.2.1)\n'],
      [0o775, 0, 'did 1+0+0\n'],
    ];
    for (const [homeMode, code, output] of cases) {
      const w = await localWorld(13);
      joeMaildir(w);
      w.k.fs.chmod({ cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 }, joe.home, homeMode);
      expect(await runLocal(w, { mode, args: {}, message }), homeMode.toString(8)).toMatchObject({ code, output });
    }
    const w = await localWorld(14);
    joeFile(w, '.qmail', './Maildir/\n', 0o646);
    expect(await runLocal(w, { mode, args: {}, message })).toMatchObject({ code: 111, output: 'Uh-oh: .qmail file is writable. (#4.7.0)\n' });
  });

  it('-n prints each instruction and the did line, delivers nothing, warns of a sticky home', async () => {
    const w = await localWorld(15);
    joeFile(w, '.qmail', '# c\n./mbox  \n./Maildir/\n|sim-dump a\t\n&fwd@x\nplain@y\n+list\n');
    w.k.fs.chmod({ cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 }, joe.home, 0o1755);
    const r = await runLocal(w, { mode, args: { dryRun: true }, message: `${dt}\n` });
    const said = 'mbox ./mbox\nmaildir ./Maildir/\nprogram sim-dump a\nforward fwd@x\nforward plain@y\ndid 2+2+1\n';
    expect(r.code).toBe(0);
    if (mode === 'inprocess') expect(r.output).toBe(`Warning: home directory is sticky.\n${said}`);
    else expect({ out: r.stdout, err: r.stderr }).toEqual({ out: said, err: 'Warning: home directory is sticky.\n' });
    expect(dirNames(w, joe.home)).toEqual(['.qmail']);
  });

  it('x bit or +list: file and program lines after it defer; forwards pass', async () => {
    const w = await localWorld(16);
    joeFile(w, '.qmail-x', '&a@example.org\n./mbox\n', 0o744);
    joeFile(w, '.qmail-l', '&a@example.org\n+list\n|sim-exit 0\n');
    joeFile(w, '.qmail-e', '', 0o744); // empty: defaultdelivery, the x bit no longer counts
    joeMaildir(w);
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'x' }, message })).toMatchObject({ code: 111, output: 'Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)\n' });
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'l' }, message })).toMatchObject({ code: 111, output: 'Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n' });
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'e' }, message })).toMatchObject({ code: 0, output: 'did 1+0+0\n' });
    expect(checkQueue(w.k.fs, w.inst.queue).queued).toEqual([]);
  });

  it('bounces an unknown extension; a missing .qmail for the base address is defaultdelivery', async () => {
    const w = await localWorld(17);
    joeMaildir(w);
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'nobody' }, message })).toMatchObject({ code: 100, output: 'Sorry, no mailbox here by that name. (#5.1.1)\n' });
    expect(await runLocal(w, { mode, args: {}, message })).toMatchObject({ code: 0, output: 'did 1+0+0\n' });
  });

  it('reports qmail\'s texts for a missing maildir, an mbox it cannot open, a blank first line', async () => {
    const w = await localWorld(18);
    joeFile(w, '.qmail-md', './NoMaildir/\n');
    joeFile(w, '.qmail-mb', '/nonexistent/mbox\n');
    joeFile(w, '.qmail-bl', '\n./Maildir/\n');
    const run = (ext: string) => runLocal(w, { mode, args: { dash: '-', ext }, message });
    expect(await run('md')).toMatchObject({ code: 111, output: 'Unable to chdir to maildir. (#4.2.1)\n' });
    expect(await run('mb')).toMatchObject({ code: 111, output: 'Unable to open /nonexistent/mbox: file does not exist. (#4.2.1)\n' });
    expect(await run('bl')).toMatchObject({ code: 111, output: 'Uh-oh: first line of .qmail file is blank. (#4.2.1)\n' });
  });

  it('tells a maildir it cannot enter (chdir) from one it cannot create in (temporary), as qmail\'s child does', async () => {
    const w = await localWorld(22);
    joeFile(w, 'File', 'not a maildir\n', 0o600);
    joeDir(w, 'Shut', 0o600);
    for (const sub of ['', '/cur', '/new']) joeDir(w, `NoTmp${sub}`);
    for (const sub of ['', '/cur', '/new']) joeDir(w, `ReadOnly${sub}`);
    joeDir(w, 'ReadOnly/tmp', 0o500);
    const lines = { file: './File/\n', shut: './Shut/\n', notmp: './NoTmp/\n', ro: './ReadOnly/\n' };
    for (const [ext, line] of Object.entries(lines)) joeFile(w, `.qmail-${ext}`, line);
    const run = (ext: string) => runLocal(w, { mode, args: { dash: '-', ext }, message });
    expect(await run('file')).toMatchObject({ code: 111, output: 'Unable to chdir to maildir. (#4.2.1)\n' });
    expect(await run('shut')).toMatchObject({ code: 111, output: 'Unable to chdir to maildir. (#4.2.1)\n' });
    expect(await run('notmp')).toMatchObject({ code: 111, output: 'Temporary error on maildir delivery. (#4.3.0)\n' });
    expect(await run('ro')).toMatchObject({ code: 111, output: 'Temporary error on maildir delivery. (#4.3.0)\n' });
    expect(dirNames(w, `${joe.home}/NoTmp/new`)).toEqual([]);
  });

  it('the first failing line ends the run: earlier deliveries stay, later lines and forwards do not happen', async () => {
    const w = await localWorld(19);
    joeMaildir(w);
    joeFile(w, '.qmail', '&a@example.org\n./Maildir/\n./NoMaildir/\n./Maildir/\n');
    expect(await runLocal(w, { mode, args: {}, message })).toMatchObject({ code: 111, output: 'Unable to chdir to maildir. (#4.2.1)\n' });
    expect(maildirFiles(w).length).toBe(1);
    expect(checkQueue(w.k.fs, w.inst.queue).queued).toEqual([]);
  });

  it('reports what it cannot read: an unreadable .qmail defers', async () => {
    const w = await localWorld(20);
    joeDir(w, 'sub');
    joeFile(w, '.qmail-locked', './Maildir/\n', 0o000);
    expect(await runLocal(w, { mode, args: { dash: '-', ext: 'locked' }, message })).toMatchObject({ code: 111, output: 'Unable to open .qmail-locked: access denied. (#4.3.0)\n' });
  });
});

describe('only one way', () => {
  it('in-process: refuses to deliver as root (QLX_ROOT 113, no output)', async () => {
    const w = await localWorld(30);
    joeMaildir(w);
    const r = await runLocal(w, { mode: 'inprocess', args: {}, message, uid: 0, gid: 0 });
    expect({ code: r.code, output: r.output }).toEqual({ code: 113, output: '' });
    expect(maildirFiles(w)).toEqual([]);
  });

  it('standalone: usage, an illegal option, a relative home, and a message on a pipe', async () => {
    const w = await localWorld(31);
    const usage = 'qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender aliasempty\n';
    const spawn = async (argv: string[]) => {
      const h = w.k.spawn(`${w.inst.home}/bin/qmail-local`, argv, { uid: joe.uid, gid: joe.gid, stdin: message });
      const done = h.wait();
      await w.k.run({ until: () => h.status() !== null });
      return done;
    };
    expect(await spawn(['qmail-local', 'joe'])).toMatchObject({ code: 100, stdout: '', stderr: usage });
    expect(await spawn(['qmail-local', '-x', 'joe'])).toMatchObject({ code: 100, stderr: `qmail-local: illegal option -- x\n${usage}` });
    const eight = ['joe', 'home/joe', 'joe', '', '', 'example.com', 's@o', './Maildir/'];
    expect(await spawn(['qmail-local', ...eight])).toMatchObject({ code: 100, stderr: usage });
    eight[1] = joe.home;
    joeMaildir(w);
    expect(await spawn(['qmail-local', ...eight])).toMatchObject({ code: 111, stderr: 'Unable to rewind message. (#4.3.0)\n' });
  });
});
