// Local delivery throughput through the built qmail-lspawn (bench/run.ts runs this; alone:
// `npx tsx bench/lspawn.ts [--quick]` after `npm run build`, as root).
//
//   deliveries/s into the Maildirs of 1, 10 and 100 users with 10 (qmail-send's concurrencylocal)
//   and 100 deliveries in flight, through the worker pool and through QMAILLOCAL=<home>/bin/qmail-local
//   (one Node process per delivery, as qmail runs qmail-local); the pool's resident memory.
//
// Users come from users/cdb (qmail-newu) with uids that have no passwd entry, so that the benchmark
// creates no accounts; each owns a home with a Maildir. The message is one queue file owned by
// qmailq, as qmail-queue leaves it. Every delivery is durable before its K (qmail-local fsyncs the
// file and new/). Nothing here asserts a time.

import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMsOf, deployedEnv, idOf, installWithUsers, table, type BenchInstall } from './host.ts';
import type { Readable, Writable } from 'node:stream';

const env = deployedEnv;

export interface LspawnBenchOpts {
  quick: boolean;
}

interface Install extends BenchInstall {
  messid: string;
}

function install(users: number): Install {
  const inst = installWithUsers('qbench-lspawn-', users);
  const message = `From: bench@example.com\nTo: you@example.com\nSubject: bench\n\n${'x'.repeat(70)}\n`.repeat(30);
  const id = 424242;
  const messid = `${id % 23}/${id}`;
  const mess = join(inst.home, 'queue/mess', messid);
  writeFileSync(mess, message, { mode: 0o644 });
  chownSync(mess, idOf('-u', 'qmailq'), idOf('-g', 'qmailq'));
  return { ...inst, messid };
}

interface Run {
  perSecond: number;
  workersRssMb: number;
  workers: number;
  /** CPU (user + system) per delivery, ms: qmail-lspawn itself, and its workers together. */
  lspawnCpuMs: number;
  workersCpuMs: number;
}

/** Drives one qmail-lspawn like qmail-send: n deliveries, `inflight` at once, users round robin. */
async function drive(inst: Install, users: number, n: number, inflight: number, extraEnv: Record<string, string>): Promise<Run> {
  const child = spawn(join(inst.home, 'bin/qmail-lspawn'), ['./Maildir/'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...env, QMAILHOME: inst.home, LOGLEVEL: 'warn', ...extraEnv } });
  const out = child.stdout as Readable;
  const cmd = child.stdin as Writable;
  let started = 0;
  let done = 0;
  let failures = 0;
  let firstFailure = '';
  const free: number[] = Array.from({ length: inflight }, (_, i) => inflight - 1 - i);
  let t0 = 0;
  let rss = { mb: 0, workers: 0, cpuMs: 0 };
  let lspawnCpu0 = 0;
  let lspawnCpu = 0;
  const send = (): void => {
    while (free.length > 0 && started < n) {
      const slot = free.pop() as number;
      const user = inst.users[started % users] as string;
      started++;
      cmd.write(Buffer.concat([Buffer.of(slot), Buffer.from(`${inst.messid}\0bench@example.com\0${user}@bench.example\0`)]));
    }
  };
  const finished = new Promise<void>((resolve) => {
    let line: number[] = [];
    let hello = false;
    out.on('data', (chunk: Buffer) => {
      for (const b of chunk) {
        if (!hello) {
          hello = true;
          lspawnCpu0 = cpuMsOf(child.pid ?? 0);
          t0 = performance.now();
          send();
          continue;
        }
        line.push(b);
        if (b !== 0 || line.length <= 1) continue;
        const text = Buffer.from(line.slice(1, -1)).toString();
        if (!text.startsWith('K')) {
          failures++;
          firstFailure ||= text;
        }
        free.push(line[0] as number);
        line = [];
        done++;
        if (done === n) {
          rss = workersRss(child);
          lspawnCpu = cpuMsOf(child.pid ?? 0) - lspawnCpu0;
          resolve();
        }
      }
      send();
    });
  });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  cmd.end();
  await new Promise((r) => child.on('exit', r));
  if (failures > 0) throw new Error(`${failures} deliveries failed: ${firstFailure}`);
  return { perSecond: n / seconds, workersRssMb: rss.mb, workers: rss.workers, lspawnCpuMs: lspawnCpu / n, workersCpuMs: rss.cpuMs / n };
}

/** Proportional resident memory (Pss) and CPU of lspawn's worker children, from /proc. */
function workersRss(parent: ChildProcess): { mb: number; workers: number; cpuMs: number } {
  let kb = 0;
  let workers = 0;
  let cpuMs = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (!new RegExp(`^PPid:\\s+${parent.pid}$`, 'm').test(status)) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('qmail-local-worker')) continue;
      // Pss: the node binary's pages are shared by every worker; VmRSS would count them each time.
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      cpuMs += cpuMsOf(Number(pid));
      workers++;
    } catch {
      // gone meanwhile
    }
  }
  return { mb: kb / 1024, workers, cpuMs };
}

/** One configuration, for profiling: `npx tsx bench/lspawn.ts --one USERS INFLIGHT N`. */
export async function lspawnOne(users: number, inflight: number, n: number, extraEnv: Record<string, string> = {}): Promise<Run> {
  const inst = install(users);
  try {
    return await drive(inst, users, n, inflight, extraEnv);
  } finally {
    rmSync(inst.dir, { recursive: true, force: true });
  }
}

export async function lspawnBench(opts: LspawnBenchOpts): Promise<[string, string][]> {
  const rows: [string, string][] = [];
  if (process.getuid?.() !== 0) return [['qmail-lspawn', 'skipped: needs root (deliveries run as other uids)']];
  const inst = install(100);
  try {
    // Warm the page cache and the bundles once.
    await drive(inst, 10, 300, 10, {});
    // Cold: one delivery to each of 100 users, so 100 worker starts.
    const cold = await drive(inst, 100, 100, 100, {});
    rows.push(['lspawn worker pool, first delivery to each of 100 users', `${cold.perSecond.toFixed(0)} deliveries/s (each starts a worker; ${cold.workersCpuMs.toFixed(0)} ms worker CPU per start)`]);
    for (const users of [1, 10, 100]) {
      const n = opts.quick ? 1000 : 6000;
      for (const inflight of [10, 100]) {
        const r = await drive(inst, users, n, inflight, {});
        const cpu = `CPU per delivery ${r.lspawnCpuMs.toFixed(2)} ms lspawn + ${r.workersCpuMs.toFixed(2)} ms workers`;
        rows.push([`lspawn worker pool, ${users} user(s), ${inflight} in flight`, `${r.perSecond.toFixed(0)} deliveries/s (${r.workers} workers, ${r.workersRssMb.toFixed(0)} MB Pss; ${cpu})`]);
      }
    }
    const slow = opts.quick ? 40 : 200;
    for (const inflight of [10, 100]) {
      const r = await drive(inst, 10, slow, inflight, { QMAILLOCAL: join(inst.home, 'bin/qmail-local') });
      rows.push([`lspawn QMAILLOCAL=bin/qmail-local, 10 users, ${inflight} in flight`, `${r.perSecond.toFixed(0)} deliveries/s (a Node process per delivery)`]);
    }
  } finally {
    rmSync(inst.dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--one')) {
  const [users, inflight, n] = process.argv.slice(process.argv.indexOf('--one') + 1).map(Number);
  process.stdout.write(`${JSON.stringify(await lspawnOne(users ?? 10, inflight ?? 10, n ?? 2000))}\n`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(table(await lspawnBench({ quick: process.argv.includes('--quick') })));
}
