// qmail-smtpd on this host: the real program (through tsx) under tcpserver (ucspi-tcp), driven by
// swaks over loopback TCP. qmail-queue is a two-line shell stand-in (QMAILQUEUE) that saves the
// message and the envelope, so the test needs no installation and no root. Skipped, saying so,
// when swaks or tcpserver is missing (.ci/run installs both).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:net';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['swaks', 'tcpserver'].filter((c) => !have(c));
if (missing.length > 0) console.warn(`smtpd-host: skipped, missing ${missing.join(' and ')} (apt-get install swaks ucspi-tcp)`);

const repo = resolve(import.meta.dirname, '../..');
/** Waits until something accepts on 127.0.0.1:port (the server is up), at most 20 s. */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

const fakeQq = '#!/bin/sh\ncat >"$FAKEQQ_OUT/msg" && cat <&1 >"$FAKEQQ_OUT/env"\n';

describe.skipIf(missing.length > 0)('qmail-smtpd under tcpserver, with swaks', () => {
  let dir = '';
  let server: ChildProcess | null = null;
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smtpd-host-'));
    mkdirSync(join(dir, 'home/control'), { recursive: true });
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'home/control/me'), 'mx.test\n');
    writeFileSync(join(dir, 'home/control/rcpthosts'), 'example.com\n');
    writeFileSync(join(dir, 'fakeqq'), fakeQq);
    chmodSync(join(dir, 'fakeqq'), 0o755);
    port = 20_000 + Math.floor(Math.random() * 20_000);
    const env = { ...process.env, QMAILHOME: join(dir, 'home'), QMAILQUEUE: join(dir, 'fakeqq'), FAKEQQ_OUT: join(dir, 'out') };
    server = spawn('tcpserver', ['-R', '-H', '-l', 'mx.test', '127.0.0.1', String(port), process.execPath, '--import', 'tsx', join(repo, 'impl/bin/qmail-smtpd.ts')], { env, cwd: repo, stdio: 'ignore' });
    await waitForPort(port);
  });

  afterAll(() => {
    if (server?.pid !== undefined) process.kill(server.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const swaks = (args: string[]) => spawnSync('swaks', ['--server', `127.0.0.1:${port}`, '--timeout', '30', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('a message is accepted (250 ok T qp P) and handed to qmail-queue with the Received line', () => {
    const r = swaks(['--to', 'bob@example.com', '--from', 'joe@client.test', '--helo', 'client.test', '--header', 'Subject: host test', '--body', 'hello\n.dot line']);
    expect(r.stdout).toMatch(/<- {2}220 mx\.test ESMTP/);
    expect(r.stdout).toMatch(/<- {2}250 ok [0-9]+ qp [0-9]+/);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'out/env'), 'latin1')).toBe('Fjoe@client.test\0Tbob@example.com\0\0');
    const msg = readFileSync(join(dir, 'out/msg'), 'latin1');
    expect(msg).toMatch(/^Received: from unknown \(HELO client\.test\) \(127\.0\.0\.1\)\n {2}by mx\.test with SMTP; [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} -0000\n/);
    expect(msg).toContain('Subject: host test\n');
    expect(msg).toContain('\nhello\n.dot line\n');
    expect(msg).not.toContain('\r');
  });

  it('a recipient outside rcpthosts gets the 553', () => {
    const r = swaks(['--to', 'x@elsewhere.test', '--from', 'joe@client.test', '--quit-after', 'RCPT']);
    expect(r.stdout).toContain("<** 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
  });
});

const noSwaks = !have('swaks');

describe.skipIf(noSwaks)('qmail-smtpd --listen on this host, with swaks', () => {
  let dir = '';
  let server: ChildProcess | null = null;
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smtpd-listen-'));
    // Started as root, the listener becomes qmaild (impl/smtpd/privsep.ts): it must read all this.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'home/control'), { recursive: true });
    writeFileSync(join(dir, 'home/control/me'), 'mx.test\n');
    writeFileSync(join(dir, 'fakeqq'), fakeQq);
    chmodSync(join(dir, 'fakeqq'), 0o755);
    port = 20_000 + Math.floor(Math.random() * 20_000);
    const env = { ...process.env, QMAILHOME: join(dir, 'home'), QMAILQUEUE: join(dir, 'fakeqq') };
    server = spawn(process.execPath, ['--import', 'tsx', join(repo, 'impl/bin/qmail-smtpd.ts'), '--listen', `127.0.0.1:${port}`], { env, cwd: repo, stdio: 'ignore' });
    await waitForPort(port);
  });

  afterAll(() => {
    if (server?.pid !== undefined) process.kill(server.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('three sessions in a row on one process, each queued with its own envelope', () => {
    for (let i = 0; i < 3; i++) {
      const out = join(dir, `out${i}`);
      mkdirSync(out);
      chmodSync(out, 0o777); // written by the stand-in, run as qmaild when the test runs as root
      // The daemon's environment is fixed: each run gets its own stand-in writing to its own directory.
      writeFileSync(join(dir, 'fakeqq'), fakeQq.replaceAll('$FAKEQQ_OUT', out));
      const r = spawnSync('swaks', ['--server', `127.0.0.1:${port}`, '--to', `c${i}@example.com`, '--from', 'a@b', '--body', `m${i}`], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toMatch(/<- {2}250 ok [0-9]+ qp [0-9]+/);
      expect(readFileSync(join(out, 'env'), 'latin1')).toBe(`Fa@b\0Tc${i}@example.com\0\0`);
      expect(readFileSync(join(out, 'msg'), 'latin1')).toMatch(/^Received: from unknown \(HELO [^)]*\) \(127\.0\.0\.1\)\n {2}by 127\.0\.0\.1 with SMTP; /);
    }
  });
});
