// The whole MTA on this host (issue 4's figures; needs root): the built qmail-start with
// qmail-send, todo-proc, two qmail-cleans, qmail-lspawn and its workers, and the deferring
// qmail-rspawn, delivering to users' Maildirs (bench/host.ts: users in users/cdb only).
//
//   drain          a queue filled while the MTA was down (every message still in todo/, as
//                  qmail-queue leaves it) drains into the Maildirs: messages per second from
//                  qmail-start's start until the last one is in a Maildir/new, and until the queue
//                  is empty; the process tree's peak proportional resident memory (Pss, sampled);
//                  with concurrencylocal 10 (qmail's default) and 100.
//   end to end     the MTA running; 32 clients at once queue through the in-process writer
//                  (impl/queue/enqueue.ts, the fastest path there is, as qmailq) while it delivers:
//                  messages per second from the first submission until the last delivery.
//   fsyncs         under `strace -f -c`, the fsync and fdatasync calls of the whole MTA per message
//                  drained (the writer's own are counted by bench/run.ts).
//   floor          the same file-system work per message in C with nothing else (bench/floor.c):
//                  what this machine allows at all, and the kernel's CPU share per message.
//
// A timed run starts only once the last bench's tree removal is 40 s old (bench/settle.ts: ext4
// without a journal charges every new inode for its block group's recent deletions).
//
// Alone: `npx tsx bench/drain.ts [--quick]` after `npm run build`, as root. Nothing here asserts
// a time. For finding where a drain spends its time (with `--one`): DRAIN_LOG=FILE keeps the
// activity log with each line's arrival time; DRAIN_CPU_PROF=DIR makes every program of the
// install write a V8 CPU profile into DIR; DRAIN_NODE_FLAGS="--max-semi-space-size=2" starts every
// program with those node flags.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { markTeardown, settle } from './settle.ts';
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { hostSys } from '../impl/sys/host/index.ts';
import { enqueue, bytesSource } from '../impl/queue/enqueue.ts';
import { encodeEnvelope } from '../impl/lib/envelope.ts';
import { receivedLine } from '../impl/lib/received.ts';
import { floorBench } from './floor.ts';
import { benchDomain, cpuSplitOf, deployedEnv, idOf, installWithUsers, table, treeCpuMs, treeOf, treePssMb, type BenchInstall } from './host.ts';

const enc = new TextEncoder();
const message = enc.encode(`From: bench@example.com\nTo: you@${benchDomain}\nSubject: bench\n\n${'x'.repeat(70)}\n`.repeat(30));
const users = 10;

function configure(inst: BenchInstall, concurrencylocal: number): void {
  writeFileSync(join(inst.home, 'control/me'), `${benchDomain}\n`);
  writeFileSync(join(inst.home, 'control/locals'), `${benchDomain}\n`);
  writeFileSync(join(inst.home, 'control/concurrencylocal'), `${concurrencylocal}\n`);
}

/** Queues n messages (one recipient each, users round robin), `parallel` at once, in this process
 *  (which runs as qmailq: see fill). */
async function fillHere(home: string, userNames: string[], n: number, parallel: number): Promise<void> {
  const sys = await hostSys();
  const layout = { dir: join(home, 'queue'), split: 23, bigtodo: false };
  let next = 0;
  const uid = process.getuid?.() ?? 0;
  const one = async (i: number): Promise<void> => {
    const now = Date.now();
    const envelope = encodeEnvelope({ sender: enc.encode(`bench@${benchDomain}`), recipients: [enc.encode(`${userNames[i % userNames.length]}@${benchDomain}`)] });
    const r = await enqueue(sys, layout, {
      message: bytesSource(message),
      envelope: bytesSource(envelope),
      received: enc.encode(receivedLine(process.pid, uid, { alias: null, qmaild: null, qmails: null }, now)),
      uid,
      pid: process.pid,
      pidNames: [`${process.pid}.${Math.floor(now / 1000)}.${i}`],
    });
    if (r.code !== 0) throw new Error(`enqueue: ${r.code} ${r.detail}`);
  };
  const worker = async (): Promise<void> => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** The writer in a process of its own as qmailq (the queue's files are qmailq's, as qmail-queue
 *  leaves them; this process keeps root to read the Maildirs). Resolves once it is ready, with
 *  `go()` to start it, which settles when all n are queued. */
async function fill(inst: BenchInstall, n: number, parallel: number): Promise<{ go: () => Promise<void> }> {
  const child = spawn('setpriv', [`--reuid=${idOf('-u', 'qmailq')}`, `--regid=${idOf('-g', 'qmailq')}`, '--clear-groups', process.execPath, '--import', 'tsx', import.meta.filename, '--fill', inst.home, String(n), String(parallel), inst.users.join(',')], {
    stdio: ['pipe', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '..'), env: { ...deployedEnv, UV_THREADPOOL_SIZE: '16' },
  });
  const out = child.stdout as Readable;
  const lines: string[] = [];
  let waiting: (() => void) | null = null;
  out.on('data', (d: Buffer) => {
    lines.push(...d.toString().split('\n').filter((l) => l !== ''));
    waiting?.();
  });
  const line = async (want: string): Promise<void> => {
    while (!lines.includes(want)) {
      if (child.exitCode !== null) throw new Error(`the writer exited ${child.exitCode}`);
      await new Promise<void>((r) => {
        waiting = r;
        setTimeout(r, 100);
      });
    }
  };
  await line('ready');
  return {
    go: async () => {
      child.stdin?.end('go\n');
      await line('done');
    },
  };
}

function delivered(inst: BenchInstall): number {
  return inst.maildirs.reduce((sum, m) => sum + readdirSync(join(m, 'new')).length, 0);
}

function queueEmpty(inst: BenchInstall): boolean {
  const q = join(inst.home, 'queue');
  for (const d of ['todo', 'info', 'local', 'remote', 'mess', 'intd']) {
    for (const sub of readdirSync(join(q, d))) {
      if (readdirSync(join(q, d, sub)).length > 0) return false;
    }
  }
  return true;
}

interface Mta {
  child: ChildProcess;
  /** Log lines by kind, counted as they come. */
  counts: { success: number; failure: number; deferral: number };
  exit: Promise<number | null>;
  /** Settles at the first log line (qmail-send has read its queue and said so). */
  ready: Promise<void>;
}

function startMta(inst: BenchInstall, wrap: string[] = []): Mta {
  const cmd = [...wrap, join(inst.home, 'bin/qmail-start'), './Maildir/'];
  const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...deployedEnv, LOGLEVEL: 'warn' } });
  const counts = { success: 0, failure: 0, deferral: 0 };
  // DRAIN_LOG=FILE: the activity log with the time each line arrived (for finding the stage that
  // limits a drain).
  const logTo = process.env['DRAIN_LOG'];
  let partial = '';
  (child.stdout as Readable).on('data', (d: Buffer) => {
    const lines = (partial + d.toString('latin1')).split('\n');
    partial = lines.pop() ?? '';
    if (logTo !== undefined) appendFileSync(logTo, lines.map((l) => `${(performance.now() / 1000).toFixed(4)} ${l}\n`).join(''));
    for (const l of lines) {
      if (/^delivery \d+(\.\S+)?: success/.test(l)) counts.success++;
      else if (/^delivery \d+(\.\S+)?: failure/.test(l)) counts.failure++;
      else if (/^delivery \d+(\.\S+)?: deferral/.test(l)) counts.deferral++;
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve) => (child.stdout as Readable).once('data', () => resolve()));
  return { child, counts, exit, ready };
}

async function stopMta(m: Mta, wrapped = false): Promise<void> {
  // strace -o FILE PROG blocks fatal signals (its -I3): TERM goes to qmail-start, its child.
  const pid = wrapped ? treeOf(m.child.pid ?? 0)[1] : m.child.pid;
  if (pid !== undefined) process.kill(pid, 'SIGTERM');
  const code = await m.exit;
  if (code !== 0) throw new Error(`qmail-start exited ${code}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Watched {
  /** CPU ms per message by program (live processes at the end), the heaviest first. */
  byProgram: string;
  deliveredS: number;
  emptyS: number;
  peakMb: number;
  peakProcesses: number;
  cpuMs: number;
}

/** Waits until `want` messages are in the Maildirs and then until the queue is empty (at most
 *  10 minutes), sampling the tree's memory every 200 ms; times from t0. */
async function watch(inst: BenchInstall, m: Mta, want: number, t0: number): Promise<Watched> {
  const pid = m.child.pid ?? 0;
  let peakMb = 0;
  let peakProcesses = 0;
  let cpuMs = 0;
  let deliveredS = 0;
  const deadline = t0 + 600_000;
  for (;;) {
    const mem = treePssMb(pid);
    if (mem.mb > peakMb) peakMb = mem.mb;
    if (mem.processes > peakProcesses) peakProcesses = mem.processes;
    cpuMs = Math.max(cpuMs, treeCpuMs(pid));
    if (deliveredS === 0 && delivered(inst) >= want) deliveredS = (performance.now() - t0) / 1000;
    if (deliveredS > 0 && queueEmpty(inst)) break;
    if (performance.now() > deadline) throw new Error(`not drained after 10 minutes: ${delivered(inst)} of ${want} delivered; log ${JSON.stringify(m.counts)}`);
    await sleep(200);
  }
  if (m.counts.failure + m.counts.deferral > 0) throw new Error(`deliveries failed: ${JSON.stringify(m.counts)}`);
  const per = new Map<string, { user: number; system: number }>();
  for (const p of treeOf(pid)) {
    try {
      const name = (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').find((a) => a.includes('/bin/')) ?? '?').replace(/.*\//, '');
      const was = per.get(name) ?? { user: 0, system: 0 };
      const now = cpuSplitOf(p);
      per.set(name, { user: was.user + now.user, system: was.system + now.system });
    } catch {
      // gone meanwhile
    }
  }
  const byProgram = [...per]
    .sort((a, b) => b[1].user + b[1].system - a[1].user - a[1].system)
    .map(([k, v]) => `${k} ${((v.user + v.system) / want).toFixed(2)} (${(v.user / want).toFixed(2)} user)`)
    .join(', ');
  return { byProgram, deliveredS, emptyS: (performance.now() - t0) / 1000, peakMb, peakProcesses, cpuMs };
}

async function drain(n: number, concurrencylocal: number, wrap: string[] = []): Promise<Watched> {
  const inst = installWithUsers('qbench-drain-', users);
  try {
    configure(inst, concurrencylocal);
    profileInto(inst, process.env['DRAIN_CPU_PROF']);
    await (await fill(inst, n, 32)).go();
    await settle();
    const t0 = performance.now();
    const m = startMta(inst, wrap);
    const w = await watch(inst, m, n, t0);
    await stopMta(m, wrap.length > 0);
    return w;
  } finally {
    rmSync(inst.dir, { recursive: true, force: true });
    markTeardown();
  }
}

/** With DRAIN_CPU_PROF=DIR (for `--one`), every program of the install writes a V8 CPU profile
 *  into DIR (made world-writable: the programs run as several users). */
function profileInto(inst: BenchInstall, dir: string | undefined): void {
  const flags = process.env['DRAIN_NODE_FLAGS'] ?? '';
  if ((dir === undefined || dir === '') && flags === '') return;
  // V8's log (which --perf-basic-prof, --prof and the like turn on) into a regular file every
  // program can write: where it cannot create its own (qmail-start chdirs to /), V8 writes it to
  // stdout, a daemon's protocol channel (docs/running.md, Environment).
  const v8log = join(inst.dir, 'v8.log');
  writeFileSync(v8log, '', { mode: 0o666 });
  chmodSync(v8log, 0o666);
  const all = [flags, `--logfile=${v8log}`, '--no-logfile-per-isolate'];
  if (dir !== undefined && dir !== '') {
    mkdirSync(dir, { recursive: true, mode: 0o1777 });
    chmodSync(dir, 0o1777);
    all.push(`--cpu-prof --cpu-prof-dir=${dir}`);
  }
  const bin = join(inst.home, 'bin');
  for (const f of readdirSync(bin)) {
    const path = join(bin, f);
    const text = readFileSync(path, 'latin1');
    // `#!/usr/bin/env node` or, for the daemons, `#!/usr/bin/env -S node FLAGS` (scripts/build.ts).
    const m = /^#!\/usr\/bin\/env (?:-S )?node( [^\n]*)?\n/.exec(text);
    if (m !== null) writeFileSync(path, `#!/usr/bin/env -S node${m[1] ?? ''} ${all.join(' ').trim()}\n${text.slice(m[0].length)}`, 'latin1');
  }
}

async function endToEnd(n: number, concurrencylocal: number): Promise<Watched & { queuedS: number }> {
  const inst = installWithUsers('qbench-e2e-', users);
  try {
    configure(inst, concurrencylocal);
    await settle();
    const m = startMta(inst);
    await m.ready;
    const writer = await fill(inst, n, 32);
    const t0 = performance.now();
    const watching = watch(inst, m, n, t0);
    await writer.go();
    const queuedS = (performance.now() - t0) / 1000;
    const w = await watching;
    await stopMta(m);
    return { ...w, queuedS };
  } finally {
    rmSync(inst.dir, { recursive: true, force: true });
    markTeardown();
  }
}

/** fsync + fdatasync calls of the whole MTA per message drained, from strace's summary. */
async function fsyncs(n: number): Promise<string> {
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) return 'skipped: no strace';
  const inst = installWithUsers('qbench-fsync-', users);
  try {
    configure(inst, 100);
    await (await fill(inst, n, 32)).go();
    const out = join(inst.dir, 'strace.txt');
    const m = startMta(inst, ['strace', '-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', out]);
    await watch(inst, m, n, performance.now());
    await stopMta(m, true);
    const summary = readFileSync(out, 'utf8');
    const calls = (name: string): number => Number(new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)(?:\\s+\\d+)?\\s+${name}$`, 'm').exec(summary)?.[1] ?? 0);
    const f = calls('fsync');
    const d = calls('fdatasync');
    return `${((f + d) / n).toFixed(2)} per message (${f} fsync + ${d} fdatasync for ${n} messages; plus the writer's own)`;
  } finally {
    rmSync(inst.dir, { recursive: true, force: true });
    markTeardown();
  }
}

export async function drainBench(opts: { quick: boolean }): Promise<[string, string][]> {
  if (process.getuid?.() !== 0) return [['whole MTA', 'skipped: needs root (deliveries run as other uids)']];
  const rows: [string, string][] = [];
  const n = opts.quick ? 2000 : 10_000;
  for (const c of [10, 100]) {
    const w = await drain(n, c);
    rows.push([
      `drain a full queue (${n} msgs, ${users} users), concurrencylocal ${c}`,
      `${(n / w.deliveredS).toFixed(0)} msg/s into Maildir (${w.deliveredS.toFixed(1)} s; queue empty at ${w.emptyS.toFixed(1)} s); peak ${w.peakMb.toFixed(0)} MB Pss in ${w.peakProcesses} processes; ${(w.cpuMs / n).toFixed(2)} ms CPU/msg (${w.byProgram})`,
    ]);
  }
  const e = await endToEnd(n, 100);
  rows.push([
    `end to end: 32 writers -> Maildir (${n} msgs), concurrencylocal 100`,
    `${(n / e.deliveredS).toFixed(0)} msg/s delivered (all queued at ${e.queuedS.toFixed(1)} s, delivered at ${e.deliveredS.toFixed(1)} s); peak ${e.peakMb.toFixed(0)} MB Pss`,
  ]);
  rows.push(['whole MTA fsyncs while draining', await fsyncs(opts.quick ? 500 : 2000)]);
  rows.push(...floorBench(opts));
  return rows;
}

if (process.argv[2] === '--fill') {
  const [home, n, parallel, names] = process.argv.slice(3);
  process.stdout.write('ready\n');
  process.stdin.once('data', () => {
    void fillHere(home ?? '', (names ?? '').split(','), Number(n), Number(parallel)).then(() => {
      process.stdout.write('done\n');
      process.exit(0);
    });
  });
} else if (process.argv[2] === '--one') {
  // One drain, for profiling: `npx tsx bench/drain.ts --one MESSAGES CONCURRENCYLOCAL`.
  // With a fifth argument DIR: under `strace -ff -o DIR/t` (one file of syscalls per process).
  const dir = process.argv[5];
  const w = await drain(Number(process.argv[3] ?? 2000), Number(process.argv[4] ?? 100), dir === undefined ? [] : ['strace', '-ff', '-o', `${dir}/t`]);
  process.stdout.write(`${JSON.stringify(w)}\n`);
  process.exit(0);
} else if (process.argv[2] === '--e2e') {
  // End to end alone: `npx tsx bench/drain.ts --e2e MESSAGES CONCURRENCYLOCAL`.
  const e = await endToEnd(Number(process.argv[3] ?? 2000), Number(process.argv[4] ?? 100));
  process.stdout.write(`${JSON.stringify(e)}\n`);
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(table(await drainBench({ quick: process.argv.includes('--quick') })));
  process.exit(0);
}
