// qmail-smtpd end to end in the simulator: a client program starts the installed qmail-smtpd as
// qmaild with a pipe pair as its fds 0/1 (as tcpserver would, with the tcp-environ variables),
// talks SMTP, and the real qmail-queue queues the message; the mess file and the todo envelope are
// then checked byte for byte, with qmail-smtpd's Received line under qmail-queue's.

import { describe, expect, it } from 'vitest';
import type { Fd, Sys } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { messagePath } from '../../spec/queue.ts';
import { addProgram, dec, enc } from '../sim/helpers.ts';

const tcpEnv = { TCPLOCALHOST: 'mx.example.com', TCPLOCALIP: '192.0.2.25', TCPREMOTEIP: '192.0.2.1', TCPREMOTEHOST: 'client.example', TCPREMOTEINFO: 'ident' };

/** Reads one whole reply (through the line `NNN text`), or what came before EOF. */
async function reply(sys: Sys, fd: Fd): Promise<string> {
  let got = '';
  const buf = new Uint8Array(1);
  for (;;) {
    if (/(^|\n)[0-9]{3} [^\n]*\r\n$/.test(got)) return got;
    const n = await sys.fs.read(fd, buf, 0, 1, null);
    if (n === 0) return got;
    got += String.fromCharCode(buf[0]!);
  }
}

interface Run {
  transcript: string[];
  code: number | null;
  k: Kernel;
  inst: Installation;
}

/** Each step is sent (null: nothing) and one reply read; returns the replies and the exit code. */
async function session(seed: number, steps: (string | null)[], env: Record<string, string> = {}, controls: Record<string, string | null> = {}): Promise<Run> {
  const k = new Kernel({ seed });
  const inst = await installQmail(k);
  for (const [name, text] of Object.entries(controls)) if (text !== null) k.writeFile(`${inst.home}/control/${name}`, text, { uid: 0, gid: 0, mode: 0o644 });
  const transcript: string[] = [];
  let code: number | null = null;
  const client = addProgram(k, 'smtp-client', async (sys) => {
    for (const [name, text] of Object.entries(controls)) if (text === null) await sys.fs.unlink(`${inst.home}/control/${name}`);
    const child = await sys.proc.spawn(`${inst.home}/bin/qmail-smtpd`, ['qmail-smtpd'], {
      env: { QMAILHOME: inst.home, ...tcpEnv, ...env },
      uid: simIds.users.qmaild,
      gid: simIds.groups.nofiles,
      fds: ['pipe', 'pipe', 2],
    });
    const [to, from] = [child.fds[0]!, child.fds[1]!];
    for (const step of steps) {
      if (step !== null) await writeAll(sys, to, enc(step)).catch(() => undefined);
      transcript.push(await reply(sys, from));
    }
    await sys.fs.close(to);
    code = (await child.wait()).code;
    return 0;
  });
  const h = k.spawn(client, ['smtp-client'], {});
  await k.run();
  expect((await h.wait()).code).toBe(0);
  return { transcript, code, k, inst };
}

function queued(k: Kernel, inst: Installation): { mess: string; todo: string }[] {
  const dirs = Array.from({ length: inst.queue.split }, (_, i) => `${inst.queue.dir}/mess/${i}`);
  return dirs.flatMap((d) => (k.fs.peekDir(d) ?? []).map((f) => {
    const id = Number(f);
    const mess = dec(k.fs.peekFile(`${d}/${f}`)!);
    const todoBytes = k.fs.peekFile(`${inst.queue.dir}/${messagePath('todo', id, inst.queue)}`);
    const info = todoBytes ?? k.fs.peekFile(`${inst.queue.dir}/${messagePath('info', id, inst.queue)}`);
    return { mess, todo: info === null ? '' : dec(info) };
  }));
}

const date = '[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000';

describe('qmail-smtpd in the simulator, with the real qmail-queue', () => {
  it('a whole session: greeting, EHLO, MAIL, RCPT, DATA, 250 ok T qp P, QUIT; message and envelope byte for byte', async () => {
    const r = await session(1, [
      null,
      'EHLO other.example\r\n',
      'MAIL FROM:<joe@client.example>\r\n',
      'RCPT TO:<bob@sim.example>\r\n',
      'DATA\r\n',
      'Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n',
      'QUIT\r\n',
    ]);
    expect(r.transcript.slice(0, 5)).toEqual(['220 sim.example ESMTP\r\n', '250-sim.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n', '250 ok\r\n', '250 ok\r\n', '354 go ahead\r\n']);
    expect(r.transcript[5]).toMatch(/^250 ok [0-9]+ qp [0-9]+\r\n$/);
    expect(r.transcript[6]).toBe('221 sim.example\r\n');
    expect(r.code).toBe(0);
    const q = queued(r.k, r.inst);
    expect(q).toHaveLength(1);
    expect(q[0]!.mess).toMatch(new RegExp(
      `^Received: \\(qmail [0-9]+ invoked from network\\); ${date}\\n` +
      `Received: from client\\.example \\(HELO other\\.example\\) \\(ident@192\\.0\\.2\\.1\\)\\n  by mx\\.example\\.com with SMTP; ${date}\\n` +
      `Subject: hi\\n\\n\\.dot\\nbody\\n$`));
    expect(q[0]!.todo).toMatch(new RegExp(`^u${simIds.users.qmaild}\\0p[0-9]+\\0Fjoe@client\\.example\\0Tbob@sim\\.example\\0$`));
    const qp = /qp ([0-9]+)/.exec(r.transcript[5]!)![1];
    expect(q[0]!.mess).toContain(`(qmail ${qp} invoked from network)`);
  });

  it('rcpthosts refuses, RELAYCLIENT relays with its suffix', async () => {
    const refused = await session(2, [null, 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<x@elsewhere.org>\r\n', 'QUIT\r\n'], {}, { rcpthosts: 'sim.example\n' });
    expect(refused.transcript[2]).toBe("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n");
    const relayed = await session(3, [null, 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<x@elsewhere.org>\r\n', 'DATA\r\n', '.\r\n', 'QUIT\r\n'], { RELAYCLIENT: '' }, { rcpthosts: 'sim.example\n' });
    expect(relayed.transcript[4]).toMatch(/^250 ok /);
    expect(queued(relayed.k, relayed.inst)[0]!.todo).toMatch(/Fa@b\0Tx@elsewhere\.org\0$/);
  });

  it('bare LF: 451 and exit 1, nothing queued', async () => {
    const r = await session(4, [null, 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<c@d>\r\n', 'DATA\r\n', 'oops\n']);
    expect(r.transcript[4]).toBe('451 See https://cr.yp.to/docs/smtplf.html.\r\n');
    expect(r.code).toBe(1);
    expect(queued(r.k, r.inst).filter((q) => q.todo !== '')).toEqual([]);
  });

  it('databytes (env DATABYTES over control/databytes): 552, nothing queued, the session goes on', async () => {
    const r = await session(5, [null, 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<c@d>\r\n', 'DATA\r\n', '1234567890\r\n.\r\n', 'NOOP\r\n'], { DATABYTES: '10' }, { databytes: '1000\n' });
    expect(r.transcript[4]).toBe('552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n');
    expect(r.transcript[5]).toBe('250 ok\r\n');
    expect(queued(r.k, r.inst).filter((q) => q.todo !== '')).toEqual([]);
  });

  it('QMAILQUEUE naming a missing program: 354, then 451 with the qq client\'s exec failure text', async () => {
    const r = await session(6, [null, 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<c@d>\r\n', 'DATA\r\n', 'x\r\n.\r\n'], { QMAILQUEUE: '/nonexistent' });
    expect(r.transcript.slice(3)).toEqual(['354 go ahead\r\n', '451 qq unable to exec qq (#4.3.0)\r\n']);
  });

  it('no control/me and no smtpgreeting: 421 unable to read controls, exit 1', async () => {
    const r = await session(7, [null], {}, { me: null });
    expect(r.transcript[0]).toBe('421 unable to read controls (#4.3.0)\r\n');
    expect(r.code).toBe(1);
    const greeted = await session(7, [null, 'HELO x\r\n'], {}, { me: null, smtpgreeting: 'hello there\n' });
    expect(greeted.transcript).toEqual(['220 hello there ESMTP\r\n', '250 hello there\r\n']);
  });

  it('timeoutsmtpd: a silent client gets 451 timeout (#4.4.2) and exit 1', async () => {
    const r = await session(8, [null, null], {}, { timeoutsmtpd: '5\n' });
    expect(r.transcript[1]).toBe('451 timeout (#4.4.2)\r\n');
    expect(r.code).toBe(1);
  });

  it('timeoutsmtpd in the middle of DATA: 451 timeout, exit 1, nothing queued', async () => {
    const r = await session(9, [null, 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<c@d>\r\n', 'DATA\r\n', 'Subject: half\r\n'], {}, { timeoutsmtpd: '5\n' });
    expect(r.transcript[4]).toBe('451 timeout (#4.4.2)\r\n');
    expect(r.code).toBe(1);
    expect(queued(r.k, r.inst).filter((q) => q.todo !== '')).toEqual([]);
  });
});
