// SMTP throughput on this host, loopback only, real clients and peers (bench/run.ts runs this; alone:
// `npx tsx bench/smtp.ts [--quick] [--only ROW,...]` after `npm run build`, as root). Nothing
// asserts a time. ROWs: accept1, accept10, tcpserver, backlog, e2e, remote (default: all).
// SMTP_CPU_PROF=DIR: the listener and its qmail-queued write V8 CPU profiles into DIR (the listener
// is then ended with TERM, which a preloaded handler turns into an exit, so that V8 writes them).
// SMTP_NODE_FLAGS='...': more node flags for those two (e.g. --perf-basic-prof for perf record).
//
//   accepted/s       postfix's smtp-source (one connection per message) into qmail-smtpd,
//                    qmail-start not running: 1 and 10 sessions through the --listen listener started
//                    as root (it runs as qmaild and queues through its one qmail-queued, as qmailq)
//                    after a warm-up batch, 10 through tcpserver (one qmail-smtpd and one setuid
//                    qmail-queue per message)
//   end to end       qmail-start running: from smtp-source's first connect with 10 sessions until
//                    the last message is in Maildir/new
//   remote/s         a queue filled with messages for sink.test (control/smtproutes -> postfix's
//                    smtp-sink on loopback), then qmail-start: from qmail-send's first status line
//                    until the last `delivery N: success`
//
// Each figure also gives the CPU (user + system) the MTA's processes spent per message: the machine
// is shared, so the rate depends on its load, the CPU much less. The one user exists only in
// users/cdb (bench/host.ts), so the benchmark creates no accounts.

import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDomain, installWithUsers, table, treeOf, type BenchInstall } from './host.ts';
import { markTeardown, settle } from './settle.ts';
import {
  filesIn, freePort, killGroup, missingTools, smtpSource, startGroup, startQmail, startRootListener, startTcpserver, stopQmail, tcprules, waitFor,
  waitForPort, type Started,
} from '../test/network/mta-host.ts';

const sinkDomain = 'sink.test';
/** Message size smtp-source sends (about bench/run.ts's 30-line message). */
const messageBytes = 2000;
/** Every wait is bounded: a stuck run ends the benchmark with an error instead of hanging. */
const waitMs = 600_000;

const clockTicksPerSecond = 100;

/** CPU of a process tree, ms: every live process's own and its reaped children's (utime, stime,
 *  cutime, cstime), so that the qmail-queue runs that already ended count too. */
function treeCpuAllMs(pid: number): number {
  return treeOf(pid).reduce((sum, p) => {
    const c = cpuSplitMs(p);
    return sum + c.self + c.children;
  }, 0);
}

/** One process's CPU, ms: its own, and its reaped children's (/proc/<pid>/stat fields 14-17); of its
 *  own, the user part (the rest is the kernel's: file system, TCP, scheduling). */
function cpuSplitMs(pid: number): { self: number; children: number; selfUser: number } {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ms = (ticks: number): number => (ticks * 1000) / clockTicksPerSecond;
    return { self: ms(Number(f[11]) + Number(f[12])), children: ms(Number(f[13]) + Number(f[14])), selfUser: ms(Number(f[11])) };
  } catch {
    return { self: 0, children: 0, selfUser: 0 }; // gone meanwhile
  }
}

/** The root-started listener's own CPU, and its live children's (qmail-queued), ms. */
function listenerCpuMs(pid: number): { self: number; children: number; selfUser: number; childrenUser: number } {
  const kids = treeOf(pid).filter((p) => p !== pid).map(cpuSplitMs);
  const own = cpuSplitMs(pid);
  const children = kids.reduce((sum, c) => sum + c.self + c.children, own.children);
  return { self: own.self, children, selfUser: own.selfUser, childrenUser: kids.reduce((sum, c) => sum + c.selfUser, 0) };
}

function cpuOf(started: Started[]): number {
  return started.reduce((sum, s) => sum + treeCpuAllMs(s.child.pid as number), 0);
}

const perMsg = (cpuMs: number, n: number): string => `${(cpuMs / n).toFixed(1)} ms CPU/msg`;

/** Bench rows, by the names --only takes. */
export const rowNames = ['accept1', 'accept10', 'tcpserver', 'backlog', 'e2e', 'remote'] as const;
export type RowName = (typeof rowNames)[number];

export async function smtpBench(rows: [string, string][], quick: boolean, only: ReadonlySet<RowName> = new Set(rowNames)): Promise<void> {
  if (process.getuid?.() !== 0) {
    rows.push(['SMTP (bench/smtp.ts)', 'skipped: needs root (installs qmail, runs the daemons under their uids)']);
    return;
  }
  const missing = missingTools(['smtp-source', 'smtp-sink', 'tcpserver', 'tcprules', 'setpriv']);
  if (missing.length > 0) {
    rows.push(['SMTP (bench/smtp.ts)', `skipped: missing ${missing.join(', ')}`]);
    return;
  }
  // ext4's recently-deleted window (bench/settle.ts): the last bench's removed tree would otherwise
  // make every file qmail-queued creates dearer, and the figures depend on what ran before.
  await settle();
  const inst = installWithUsers('qbench-smtp-', 1);
  const running: Started[] = [];
  try {
    const prof = process.env['SMTP_CPU_PROF'] ?? '';
    const flags = process.env['SMTP_NODE_FLAGS'] ?? '';
    if (prof !== '' || flags !== '') profileInto(inst.home, prof, flags);
    await run(inst, rows, quick, running, only);
    if (prof !== '') await endForProfiles(running[0]);
  } finally {
    for (const s of running) killGroup(s);
    rmSync(inst.dir, { recursive: true, force: true });
    markTeardown();
  }
}

async function run(inst: BenchInstall, rows: [string, string][], quick: boolean, running: Started[], only: ReadonlySet<RowName>): Promise<void> {
  const { home } = inst;
  const maildirNew = join(inst.maildirs[0] as string, 'new');
  const rcpt = `${inst.users[0]}@${benchDomain}`;
  const sinkPort = await freePort();
  const control = (name: string, text: string): void => writeFileSync(join(home, 'control', name), text, { mode: 0o644 });
  control('me', `${benchDomain}\n`);
  control('locals', `${benchDomain}\n`);
  // sink.test in rcpthosts (not locals): accepted from anyone and sent on, as for a backup MX.
  control('rcpthosts', `${benchDomain}\n${sinkDomain}\n`);
  control('smtproutes', `${sinkDomain}:127.0.0.1:${sinkPort}\n`);
  const rules = join(inst.dir, 'tcp.smtp.cdb');
  tcprules(rules, '127.0.0.1:allow\n:deny\n');
  const listenPort = await freePort();
  const listener = await startRootListener(home, listenPort);
  running.push(listener);
  const tcpPort = await freePort();
  const tcpsrv = await startTcpserver(home, tcpPort, benchDomain, rules);
  running.push(tcpsrv);

  // Accepted per second: qmail-start is not running, so the queue only grows. The listener is
  // long-lived: a first batch, not counted, warms it up (V8 compiles its hot code meanwhile, which
  // would otherwise be most of the CPU of a short run).
  const warmUp = quick ? 200 : 500;
  const w = await smtpSource(listenPort, 10, warmUp, 'bench@source.test', rcpt, messageBytes, waitMs);
  if (w.code !== 0) throw new Error(`smtp-source exited ${w.code}: ${w.out} (listener: ${listener.err()})`);
  let queued = warmUp;
  for (const [row, via, port, sessions, n] of [
    ['accept1', 'listener', listenPort, 1, quick ? 30 : 1000],
    ['accept10', 'listener', listenPort, 10, quick ? 60 : 3000],
    ['tcpserver', 'tcpserver', tcpPort, 10, quick ? 30 : 200],
  ] as const) {
    if (!only.has(row)) continue;
    // The listener's own CPU and its live qmail-queued's; under tcpserver, its reaped children's
    // (qmail-smtpd and qmail-queue, one each per message).
    const server = (via === 'listener' ? listener : tcpsrv).child.pid as number;
    const cpu0 = via === 'listener' ? listenerCpuMs(server) : { ...cpuSplitMs(server), childrenUser: 0 };
    const t0 = performance.now();
    const r = await smtpSource(port, sessions, n, 'bench@source.test', rcpt, messageBytes, waitMs);
    const s = (performance.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(`smtp-source exited ${r.code}: ${r.out}`);
    queued += n;
    const cpu1 = via === 'listener' ? listenerCpuMs(server) : { ...cpuSplitMs(server), childrenUser: 0 };
    const self = cpu1.self - cpu0.self;
    const children = cpu1.children - cpu0.children;
    const ms = (x: number): string => (x / n).toFixed(2);
    const user = (x: number): string => ` (${ms(x)} user)`;
    const split = via === 'listener'
      ? `listener ${ms(self)}${user(cpu1.selfUser - cpu0.selfUser)} + qmail-queued ${ms(children)}${user(cpu1.childrenUser - cpu0.childrenUser)}`
      : `tcpserver ${ms(self)} + qmail-smtpd and qmail-queue ${ms(children)}`;
    rows.push([`SMTP accepted, ${via}, ${sessions} session${sessions > 1 ? 's' : ''} (${n} msgs)`, `${(n / s).toFixed(1)} msg/s, ${perMsg(self + children, n)} (${split})`]);
  }

  if (!only.has('backlog') && !only.has('e2e') && !only.has('remote')) return;
  // The backlog goes to the Maildir once qmail-start runs.
  let t0 = performance.now();
  let qmail = await startQmail(home);
  running.push(qmail);
  await waitFor(`${queued} messages in Maildir/new`, () => filesIn(maildirNew).length >= queued, waitMs, qmail);
  if (only.has('backlog')) rows.push([`queue backlog (${queued}) to Maildir, from qmail-start`, `${(queued / ((performance.now() - t0) / 1000)).toFixed(1)} msg/s, ${perMsg(cpuOf([qmail]), queued)}`]);

  if (only.has('e2e')) await endToEnd(inst, rows, quick, listenPort, rcpt, maildirNew, listener, qmail);
  await stopQmail(qmail);
  if (only.has('remote')) await remoteRow(inst, rows, quick, listenPort, sinkPort, running);
}

async function endToEnd(inst: BenchInstall, rows: [string, string][], quick: boolean, listenPort: number, rcpt: string, maildirNew: string, listener: Started, qmail: Started): Promise<void> {
  // End to end with 10 sessions.
  // Long enough (some 10 s) that the rate is the steady one, not the first second's.
  const e2e = quick ? 60 : 3000;
  const before = filesIn(maildirNew).length;
  const cpu0 = cpuOf([listener, qmail]);
  const t0 = performance.now();
  const r = await smtpSource(listenPort, 10, e2e, 'bench@source.test', rcpt, messageBytes, waitMs);
  if (r.code !== 0) throw new Error(`smtp-source exited ${r.code}: ${r.out}`);
  const acceptedS = (performance.now() - t0) / 1000;
  await waitFor(`${e2e} more messages in Maildir/new`, () => filesIn(maildirNew).length >= before + e2e, waitMs, qmail);
  const s = (performance.now() - t0) / 1000;
  const e2eCpu = cpuOf([listener, qmail]) - cpu0;
  rows.push([`SMTP to Maildir end to end, listener, 10 sessions (${e2e} msgs)`, `${(e2e / s).toFixed(1)} msg/s, ${perMsg(e2eCpu, e2e)} (${s.toFixed(1)} s; all accepted after ${acceptedS.toFixed(1)} s)`]);
}

async function remoteRow(inst: BenchInstall, rows: [string, string][], quick: boolean, listenPort: number, sinkPort: number, running: Started[]): Promise<void> {
  const { home } = inst;
  // Remote: fill the queue with messages for sink.test while qmail-start is down, then time them out.
  const remote = quick ? 60 : 400;
  const fill = await smtpSource(listenPort, 10, remote, 'bench@source.test', `x@${sinkDomain}`, messageBytes, waitMs);
  if (fill.code !== 0) throw new Error(`smtp-source exited ${fill.code}: ${fill.out}`);
  running.push(startSink(sinkPort));
  await waitForPort(sinkPort);
  const qmail = await startQmail(home);
  running.push(qmail);
  const cpu0 = cpuOf([qmail]);
  const t0 = performance.now();
  const successes = (): number => (qmail.out().match(/^delivery \d+: success: /gm) ?? []).length;
  await waitFor(`${remote} remote deliveries`, () => successes() >= remote, waitMs, qmail);
  const rs = (performance.now() - t0) / 1000;
  const failures = (qmail.out().match(/^delivery \d+: (failure|deferral): /gm) ?? []).length;
  const remoteCpu = cpuOf([qmail]) - cpu0;
  rows.push([`remote deliveries to smtp-sink (${remote} queued, concurrencyremote 20)`, `${(remote / rs).toFixed(1)} msg/s, ${perMsg(remoteCpu, remote)}${failures > 0 ? ` (${failures} failures/deferrals)` : ''}`]);
  await stopQmail(qmail);
}

/** postfix's smtp-sink on loopback: accepts everything, keeps nothing (-u: it must drop root). */
function startSink(port: number): Started {
  return startGroup('smtp-sink', ['-u', 'nobody', `127.0.0.1:${port}`, '256'], { PATH: process.env['PATH'] ?? '/usr/bin:/bin' });
}

/** SMTP_CPU_PROF: qmail-smtpd and qmail-queued write a V8 CPU profile into dir at exit; a TERM
 *  handler preloaded into them makes the listener exit (its qmail-queued then sees EOF and ends). */
function profileInto(home: string, dir: string, flags: string): void {
  let add = flags;
  if (dir !== '') {
    mkdirSync(dir, { recursive: true, mode: 0o1777 });
    chmodSync(dir, 0o1777);
    const preload = join(dir, 'term-exits.cjs');
    writeFileSync(preload, "process.on('SIGTERM', () => process.exit(0));\n", { mode: 0o644 });
    add += ` -r ${preload} --cpu-prof --cpu-prof-dir=${dir}`;
  }
  for (const f of ['qmail-smtpd', 'qmail-queued']) {
    const path = join(home, 'bin', f);
    const text = readFileSync(path, 'latin1');
    const m = /^#!\/usr\/bin\/env (?:-S )?node( [^\n]*)?\n/.exec(text);
    if (m === null) throw new Error(`${path}: not a node script`);
    writeFileSync(path, `#!/usr/bin/env -S node${m[1] ?? ''} ${add.trim()}\n${text.slice(m[0].length)}`, 'latin1');
  }
}

/** TERM to the listener, then a wait (bounded) for it and its qmail-queued to write their profiles. */
async function endForProfiles(listener: Started | undefined): Promise<void> {
  if (listener === undefined) return;
  process.kill(listener.child.pid as number, 'SIGTERM');
  await Promise.race([listener.exit, new Promise((r) => setTimeout(r, 10_000))]);
  await new Promise((r) => setTimeout(r, 2000));
}

function onlyRows(argv: string[]): Set<RowName> {
  const i = argv.indexOf('--only');
  if (i < 0) return new Set(rowNames);
  const names = (argv[i + 1] ?? '').split(',');
  for (const n of names) if (!(rowNames as readonly string[]).includes(n)) throw new Error(`--only: ${n}? (${rowNames.join(', ')})`);
  return new Set(names as RowName[]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows: [string, string][] = [];
  await smtpBench(rows, process.argv.includes('--quick'), onlyRows(process.argv));
  process.stdout.write(table(rows));
  process.exit(0);
}
