// The MTA on this host with real network clients and peers, for test/network/smtp-host.test.ts and
// bench/smtp.ts (as root): the installed qmail-start in a process group of its own, qmail-smtpd as
// the long-lived --listen listener or under tcpserver (both as qmaild, as the run scripts start
// them), a loopback smtp-server (nodemailer's) peer, and the host's clients (swaks, smtp-source).
// Every server listens on 127.0.0.1 only; every process started here is killed by its own id.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { qmailUsers } from '../../spec/queue.ts';

export const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Host tools these tests drive; .ci/run installs them (smtp-source and smtp-sink: postfix). */
export const hostTools: Record<string, string> = { swaks: 'swaks', tcpserver: 'ucspi-tcp', tcprules: 'ucspi-tcp', 'smtp-source': 'postfix', 'smtp-sink': 'postfix', setpriv: 'util-linux', cc: 'gcc' };

export function missingTools(names: string[]): string[] {
  return names.filter((n) => !have(n)).map((n) => `${n} (${hostTools[n] ?? n})`);
}

/** Programs run as rc runs them: PATH only. */
export const pathOnly = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

export interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: string | null }>;
}

/** A process in a group of its own (so that stop() reaches its children), output kept. */
export function startGroup(command: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => Buffer.concat(out).toString('latin1'), err: () => Buffer.concat(err).toString('latin1'), exit };
}

/** SIGKILL to the process group started by startGroup (by its id). */
export function killGroup(s: Started | undefined): void {
  const pid = s?.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** TERM to qmail-start: qmail-send finishes what is in flight and everything exits. */
export async function stopQmail(s: Started, ms = 30_000): Promise<void> {
  process.kill(s.child.pid as number, 'SIGTERM');
  const done = await Promise.race([s.exit, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
  if (done === null) killGroup(s);
}

/** qmail-start ./Maildir/ for home, as etc/rc starts it; resolves once qmail-send's first status line is out. */
export async function startQmail(home: string, env: Record<string, string> = {}): Promise<Started> {
  const s = startGroup(join(home, 'bin/qmail-start'), ['./Maildir/'], { PATH: `${home}/bin:${pathOnly.PATH}`, LOGLEVEL: 'warn', ...env });
  await waitFor('qmail-send\'s first status line', () => /^status: local 0\/\d+ remote 0\/\d+$/m.test(s.out()), 30_000, s);
  return s;
}

export async function waitFor(what: string, pred: () => boolean, ms = 30_000, s?: Started): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${s === undefined ? '' : `\nstdout:\n${s.out().slice(-3000)}\nstderr:\n${s.err().slice(-3000)}`}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A free loopback port (bound and released; good enough on a machine without port races). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (typeof a !== 'object' || a === null) throw new Error('no port');
  return a.port;
}

/** Waits until something accepts on 127.0.0.1:port. */
export async function waitForPort(port: number, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (up) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function ids(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, qmailUsers.daemon], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** qmail-smtpd --listen 127.0.0.1:port as qmaild (etc/daemontools/qmail-smtpd/run's alternative). */
export async function startListener(home: string, port: number, env: Record<string, string> = {}): Promise<Started> {
  const { uid, gid } = ids();
  const s = startGroup('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', join(home, 'bin/qmail-smtpd'), '--listen', `127.0.0.1:${port}`], {
    ...pathOnly,
    QMAILHOME: home,
    LOGLEVEL: 'warn',
    ...env,
  });
  await waitForPort(port);
  return s;
}

/** qmail-smtpd --listen 127.0.0.1:port started as root (etc/daemontools/qmail-smtpd/run): it binds,
 *  starts qmail-queued as qmailq and becomes qmaild itself. */
export async function startRootListener(home: string, port: number, env: Record<string, string> = {}, extra: string[] = []): Promise<Started> {
  const s = startGroup(join(home, 'bin/qmail-smtpd'), ['--listen', `127.0.0.1:${port}`, ...extra], { ...pathOnly, QMAILHOME: home, LOGLEVEL: 'warn', ...env });
  await waitForPort(port);
  return s;
}

/** tcpserver running one qmail-smtpd per connection as qmaild, with tcprules' rules in rulesCdb
 *  (etc/daemontools/qmail-smtpd/run, on loopback). */
export async function startTcpserver(home: string, port: number, local: string, rulesCdb: string): Promise<Started> {
  const { uid, gid } = ids();
  const s = startGroup('tcpserver', ['-R', '-H', '-l', local, '-x', rulesCdb, '-c', '40', '-u', String(uid), '-g', String(gid), '127.0.0.1', String(port), join(home, 'bin/qmail-smtpd')], {
    ...pathOnly,
    QMAILHOME: home,
    LOGLEVEL: 'warn',
  });
  await waitForPort(port);
  return s;
}

/** tcprules: rules text (e.g. `127.:allow,RELAYCLIENT=""\n`) into cdb. */
export function tcprules(cdb: string, rules: string): void {
  execFileSync('tcprules', [cdb, `${cdb}.tmp`], { input: rules });
}

export interface PeerMessage {
  from: string;
  to: string[];
  data: Buffer;
}

export interface Peer {
  port: number;
  messages: PeerMessage[];
  rejected: string[];
  close: () => Promise<void>;
}

/** A loopback smtp-server: recipients whose local part starts with `nobody` get `550 <reject>`;
 *  every message is kept (its bytes as received, dot-unstuffed) unless keep is false. */
export async function startPeer(opts: { reject?: string; keep?: boolean } = {}): Promise<Peer> {
  const messages: PeerMessage[] = [];
  const rejected: string[] = [];
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'peer.test',
    size: 0,
    maxClients: 200,
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('nobody')) {
        rejected.push(address.address);
        const e = new Error(opts.reject ?? '5.1.1 no such user here') as Error & { responseCode: number };
        e.responseCode = 550;
        cb(e);
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => {
        if (opts.keep !== false) parts.push(d);
      });
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(parts) });
        cb(null, 'queued here');
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined); // a client's dropped connection; the test looks at messages
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.server.address();
  if (typeof a !== 'object' || a === null) throw new Error('peer: no port');
  return { port: a.port, messages, rejected, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.'));
}

/** smtp-source: sessions at once, messages in all (one connection each), each to `to`, of about
 *  `bytes` bytes; resolves with its exit and output (killed after timeoutMs). */
export function smtpSource(port: number, sessions: number, messages: number, from: string, to: string, bytes = 1000, timeoutMs = 300_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const args = ['-s', String(sessions), '-m', String(messages), '-l', String(bytes), '-M', 'source.test', '-f', from, '-t', to, `127.0.0.1:${port}`];
    const child = spawn('smtp-source', args, { stdio: ['ignore', 'pipe', 'pipe'], env: pathOnly });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
