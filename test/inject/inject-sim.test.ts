// qmail-inject and sendmail end to end in the simulator: an ordinary user runs the installed
// programs, the real qmail-queue queues, and the queued mess and todo bytes are checked; -n output;
// qmail-queue's exit codes as qmail-inject reports them; sendmail's options and fatal errors.

import { describe, expect, it } from 'vitest';
import type { Program } from '../../impl/sys/types.ts';
import { readAll, writeAll } from '../../impl/shared/fdio.ts';
import { Kernel } from '../../sim/kernel.ts';
import { addSubmitters, installQmail, type Installation } from '../../sim/install.ts';
import { messagePath } from '../../spec/queue.ts';
import { addProgram, dec, enc } from '../sim/helpers.ts';
import { runInSim } from '../support/sim-program.ts';

const usersGid = 100;

const frontends: Record<string, Program> = {
  'fe-exit': async (sys) => {
    await readAll(sys, 0);
    await readAll(sys, 1);
    return Number(sys.proc.self.env['FE_EXIT']);
  },
  'fe-custom': async (sys) => {
    await writeAll(sys, 2, enc('Dno thanks (#5.7.1)'));
    return 88;
  },
  // Removes argv[1] if it is there (a world without qmail-smtpd).
  'fe-rm': async (sys) => {
    await sys.fs.unlink(sys.proc.self.argv[1] as string).catch(() => undefined);
    return 0;
  },
  // Records its argv and environment as a message in /tmp/argv, for sendmail's plans.
  'fe-argv': async (sys) => {
    const fd = await sys.fs.open('/tmp/argv', 0o1 | 0o100 | 0o1000, 0o666);
    await writeAll(sys, fd, enc(JSON.stringify({ argv: sys.proc.self.argv, env: sys.proc.self.env, cwd: sys.proc.cwd() })));
    await sys.fs.close(fd);
    return Number(sys.proc.self.env['FE_EXIT'] ?? '0');
  },
};

async function world(seed: number): Promise<{ k: Kernel; inst: Installation; uid: number }> {
  const k = new Kernel({ seed });
  k.mkdirs('/tmp', { uid: 0, gid: 0, mode: 0o1777 });
  const inst = await installQmail(k);
  k.writeFile(`${inst.home}/control/defaultdomain`, 'example.com\n', { uid: 0, gid: 0, mode: 0o644 });
  k.writeFile(`${inst.home}/control/defaulthost`, 'mail.example.com\n', { uid: 0, gid: 0, mode: 0o644 });
  const [uid] = addSubmitters(k, 1);
  for (const [name, main] of Object.entries(frontends)) addProgram(k, name, main);
  return { k, inst, uid: uid as number };
}

function queued(k: Kernel, inst: Installation): { mess: string; todo: string }[] {
  const files = Array.from({ length: inst.queue.split }, (_, i) => `${inst.queue.dir}/mess/${i}`).flatMap((d) => (k.fs.peekDir(d) ?? []).map((f) => `${d}/${f}`));
  return files.map((f) => {
    const id = Number(f.slice(f.lastIndexOf('/') + 1));
    return { mess: dec(k.fs.peekFile(f)!), todo: dec(k.fs.peekFile(`${inst.queue.dir}/${messagePath('todo', id, inst.queue)}`)!) };
  });
}

describe('qmail-inject in the simulator', () => {
  it('queues through the real qmail-queue: envelope from header recipients, fields added', async () => {
    const { k, inst, uid } = await world(1);
    const r = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject'], {
      uid, gid: usersGid, env: { USER: 'user1', NAME: 'User One' }, stdin: 'To: bob, carol@foo\nBcc: dave\nSubject: hi\n\nhello\n',
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const q = queued(k, inst);
    expect(q).toHaveLength(1);
    const { mess, todo } = q[0]!;
    expect(todo).toMatch(/^u1000\0p[0-9]+\0Fuser1@mail\.example\.com\0Tbob@mail\.example\.com\0Tcarol@foo\.example\.com\0Tdave@mail\.example\.com\0$/);
    const msg = mess.slice(mess.indexOf('\n') + 1); // after qmail-queue's Received line
    expect(msg).toMatch(
      /^Date: [1-9][0-9]? [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000\nMessage-ID: <[0-9]{14}\.[0-9]+\.qmail@sim\.example>\nFrom: "User One" <user1@mail\.example\.com>\nTo: bob@mail\.example\.com, carol@foo\.example\.com\nSubject: hi\n\nhello\n$/,
    );
  });

  it('-a with arguments and -f: the envelope is exactly those', async () => {
    const { k, inst, uid } = await world(2);
    const r = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject', '-a', '-fbounce@lists', 'x', 'y@z.org'], { uid, gid: usersGid, env: { USER: 'user1' }, stdin: 'To: t\n\nb\n' });
    expect(r.code).toBe(0);
    expect(queued(k, inst)[0]!.todo).toMatch(/\0Fbounce@lists\.example\.com\0Tx@mail\.example\.com\0Ty@z\.org\0$/);
  });

  it('-n prints the message after a Return-Path line and queues nothing', async () => {
    const { k, inst, uid } = await world(3);
    const r = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject', '-n'], {
      uid, gid: usersGid, env: { USER: 'user1', QMAILIDHOST: 'id.test' }, stdin: 'Date: x\nFrom: me\nTo: you\n\nb\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Return-Path: <user1@mail\.example\.com>\nMessage-ID: <[0-9]{14}\.[0-9]+\.qmail@id\.test>\nDate: x\nFrom: me@mail\.example\.com\nTo: you@mail\.example\.com\n\nb\n$/);
    expect(queued(k, inst)).toEqual([]);
  });

  it.each([
    [{ FE_EXIT: '31' }, '/bin/fe-exit', 100, 'qmail-inject: fatal: qq mail server permanently rejected message (#5.3.0)\n'],
    [{ FE_EXIT: '88' }, '/bin/fe-exit', 111, 'qmail-inject: fatal: qq temporary problem (#4.3.0)\n'],
    [{}, '/bin/fe-custom', 100, 'qmail-inject: fatal: no thanks (#5.7.1)\n'],
    [{ FE_EXIT: '54' }, '/bin/fe-exit', 111, 'qmail-inject: fatal: qq read error (#4.3.0)\n'],
    [{}, '/nonexistent', 111, 'qmail-inject: fatal: unable to run qmail-queue\n'],
  ] as const)('QMAILQUEUE %s %j → exit %i', async (extra, qq, code, stderr) => {
    const { k, inst, uid } = await world(4);
    const r = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject'], { uid, gid: usersGid, env: { USER: 'user1', QMAILQUEUE: qq, ...extra }, stdin: 'To: t\n\nb\n' });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr });
  });

  it('usage and syntax errors exit 100', async () => {
    const { k, inst, uid } = await world(5);
    const bad = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject', '-F', 'x'], { uid, gid: usersGid, stdin: '' });
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 100, stderr: '' });
    const addr = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject', 'x@y<z'], { uid, gid: usersGid, stdin: 'To: t\n\n' });
    expect({ code: addr.code, stderr: addr.stderr }).toEqual({ code: 100, stderr: 'qmail-inject: fatal: unable to parse address: x@y<z\n' });
    const hdr = await runInSim(k, `${inst.home}/bin/qmail-inject`, ['qmail-inject'], { uid, gid: usersGid, stdin: 'From: <x\nTo: t\n\n' });
    expect({ code: hdr.code, stderr: hdr.stderr }).toEqual({ code: 100, stderr: 'qmail-inject: fatal: invalid header field: From: <x\n' });
  });
});

describe('sendmail in the simulator', () => {
  it('queues through qmail-inject: -t reads header recipients, -f sets the sender and the From', async () => {
    const { k, inst, uid } = await world(6);
    const r = await runInSim(k, `${inst.home}/bin/sendmail`, ['sendmail', '-t', '-oi', '-f', 'list@lists.org', '-F', 'Lost Name'], {
      uid, gid: usersGid, env: { USER: 'user1' }, stdin: 'To: a@b.org\nSubject: s\n\nx\n',
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const { mess, todo } = queued(k, inst)[0]!;
    expect(todo).toMatch(/\0Flist@lists\.org\0Ta@b\.org\0$/);
    expect(mess).toContain('\nFrom: list@lists.org\n');
  });

  it('without -t the arguments are the recipients; -F names the sender', async () => {
    const { k, inst, uid } = await world(7);
    const r = await runInSim(k, `${inst.home}/bin/sendmail`, ['sendmail', '-FJoe X', 'r@x.org'], { uid, gid: usersGid, env: { USER: 'user1' }, stdin: 'To: a@b.org\n\nx\n' });
    expect(r.code).toBe(0);
    const { mess, todo } = queued(k, inst)[0]!;
    expect(todo).toMatch(/\0Fuser1@mail\.example\.com\0Tr@x\.org\0$/);
    expect(mess).toContain('\nFrom: "Joe X" <user1@mail.example.com>\n');
  });

  it('usage, newaliases, a missing qmail-smtpd', async () => {
    const { k, inst, uid } = await world(8);
    const sm = `${inst.home}/bin/sendmail`;
    const usage = await runInSim(k, sm, ['sendmail', '-bz'], { uid, gid: usersGid });
    expect({ code: usage.code, stderr: usage.stderr }).toEqual({ code: 100, stderr: 'sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]\n' });
    const unknown = await runInSim(k, sm, ['sendmail', '-q'], { uid, gid: usersGid });
    expect(unknown.code).toBe(100);
    const na = await runInSim(k, sm, ['newaliases'], { uid, gid: usersGid });
    expect({ code: na.code, stderr: na.stderr }).toEqual({ code: 100, stderr: 'sendmail: fatal: please use fastforward/newaliases instead\n' });
    await runInSim(k, '/bin/fe-rm', ['fe-rm', `${inst.home}/bin/qmail-smtpd`]);
    const bs = await runInSim(k, sm, ['sendmail', '-bs'], { uid, gid: usersGid });
    expect({ code: bs.code, stderr: bs.stderr }).toEqual({ code: 111, stderr: 'sendmail: fatal: unable to run qmail-smtpd\n' });
  });

  it('-bs runs bin/qmail-smtpd with the local SMTP environment; -bp and mailq run qmail-qread', async () => {
    const { k, inst, uid } = await world(9);
    k.install(`${inst.home}/bin/qmail-smtpd`, 'fe-argv', { uid: 0, gid: 0, mode: 0o755 });
    const bs = await runInSim(k, `${inst.home}/bin/sendmail`, ['sendmail', '-bs'], { uid, gid: usersGid, env: { FE_EXIT: '7' } });
    expect(bs.code).toBe(7);
    const seen = JSON.parse(dec(k.fs.peekFile('/tmp/argv')!)) as { argv: string[]; env: Record<string, string>; cwd: string };
    expect(seen.argv).toEqual(['qmail-smtpd']);
    expect(seen.cwd).toBe(inst.home);
    expect(seen.env).toEqual({ FE_EXIT: '7', RELAYCLIENT: '', DATABYTES: '0', PROTO: 'TCP', TCPLOCALIP: '127.0.0.1', TCPLOCALHOST: 'localhost', TCPREMOTEIP: '127.0.0.1', TCPREMOTEHOST: 'localhost', TCPREMOTEINFO: 'sendmail-bs' });
    for (const argv of [['sendmail', '-bp'], ['mailq']]) {
      // qmail-qread reads the queue: root may.
      const r = await runInSim(k, `${inst.home}/bin/sendmail`, argv, {});
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    }
  });
});
