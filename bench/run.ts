// npm run bench: throughput and cost figures for the queue (issue 2). Prints a table; nothing here
// asserts a time. Each figure names what it measures.
//
//   node start-up          `node -e 0` and a bundled program (qmail-nullqueue) started and waited for
//   qmail-queue binary     messages queued per second through <home>/bin/qmail-queue (the setuid
//                          helper + the Node bundle), 1 and 8 clients at once
//   in-process writer      messages queued per second through impl/queue/enqueue.ts in this process,
//                          1 and 32 at once, and fsyncs per message
//   simulator              the default npm start scenario: simulated messages per wall second
//   qmail-lspawn           local deliveries per second into maildirs through the worker pool and
//                          through QMAILLOCAL (bench/lspawn.ts; needs root)
//
// Usage: npm run bench [-- --quick]

import { spawn, execFileSync } from 'node:child_process';
import type { Writable } from 'node:stream';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostSys } from '../impl/sys/host/index.ts';
import { enqueue, bytesSource } from '../impl/queue/enqueue.ts';
import { encodeEnvelope } from '../impl/lib/envelope.ts';
import { receivedLine } from '../impl/lib/received.ts';
import type { Sys } from '../impl/sys/types.ts';
import { runQueueCrash } from '../sim/scenarios/queue-crash.ts';
import { lspawnBench } from './lspawn.ts';
import { drainBench } from './drain.ts';
import { smtpBench } from './smtp.ts';
import { simBench } from './sim.ts';
import { table } from './host.ts';

const quick = process.argv.includes('--quick');
const root = join(import.meta.dirname, '..');
const enc = new TextEncoder();
const message = enc.encode(`From: bench@example.com\nTo: you@example.com\nSubject: bench\n\n${'x'.repeat(70)}\n`.repeat(30));
const envelope = encodeEnvelope({ sender: enc.encode('bench@example.com'), recipients: [enc.encode('you@example.com')] });
const rows: [string, string][] = [];
// Programs run as qmail runs them (rc: `env - PATH=...`): without NODE_OPTIONS or
// NODE_EXTRA_CA_CERTS, which alone adds about 55 ms to every Node start here.
const deployedEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

function run(cmd: string, args: string[], input?: Uint8Array, fd1?: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const stdio = fd1 === undefined ? (['pipe', 'ignore', 'ignore'] as const) : (['pipe', 'pipe', 'ignore'] as const);
    const child = spawn(cmd, args, { stdio: [...stdio], env: deployedEnv });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
    if (fd1 !== undefined) (child.stdio[1] as unknown as Writable).end(Buffer.from(fd1));
    child.stdin?.end(input === undefined ? undefined : Buffer.from(input));
  });
}

async function timeEach(n: number, f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n;
}

async function rate(n: number, parallel: number, f: () => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next++ < n) await f();
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return n / ((performance.now() - t0) / 1000);
}

async function startup(): Promise<void> {
  const n = quick ? 5 : 20;
  rows.push(['node -e 0 (start + exit)', `${(await timeEach(n, () => run(process.execPath, ['-e', '0']))).toFixed(1)} ms`]);
  const nullq = join(root, 'dist/bin/qmail-nullqueue');
  rows.push(['bundled program start (qmail-nullqueue)', `${(await timeEach(n, () => run(nullq, [], message, envelope))).toFixed(1)} ms`]);
}

function install(): { home: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-'));
  chmodSync(dir, 0o755);
  const home = join(dir, 'qmail');
  const args = ['--home', home, '--split', '23'];
  if (process.getuid?.() === 0) args.push('--create-users');
  execFileSync(join(root, 'dist/bin/qmail-setup'), args, { stdio: 'ignore' });
  return { home, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function binary(home: string): Promise<void> {
  const qq = join(home, 'bin/qmail-queue');
  for (const parallel of [1, 8]) {
    const n = quick ? 40 : parallel === 1 ? 150 : 400;
    const r = await rate(n, parallel, async () => {
      const code = await run(qq, [], message, envelope);
      if (code !== 0) throw new Error(`qmail-queue exited ${code}`);
    });
    rows.push([`qmail-queue binary, ${parallel} at once`, `${r.toFixed(0)} msg/s`]);
  }
}

/** Counts the fsyncs (files and directories) the writer asks for. */
function counting(sys: Sys, counter: { n: number }): Sys {
  const fs = new Proxy(sys.fs, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'fsync' || prop === 'syncDir') return (...a: unknown[]) => (counter.n++, (v as (...x: unknown[]) => unknown).apply(target, a));
      return v.bind(target);
    },
  });
  return { ...sys, fs };
}

async function inProcess(home: string): Promise<void> {
  const base = await hostSys();
  const counter = { n: 0 };
  const sys = counting(base, counter);
  const layout = { dir: join(home, 'queue'), split: 23, bigtodo: false };
  let seq = 0;
  const one = async (): Promise<void> => {
    const now = Date.now();
    const r = await enqueue(sys, layout, {
      message: bytesSource(message),
      envelope: bytesSource(envelope),
      received: enc.encode(receivedLine(process.pid, 0, { alias: null, qmaild: null, qmails: null }, now)),
      uid: 0,
      pid: process.pid,
      pidNames: [`${process.pid}.${Math.floor(now / 1000)}.${++seq}`],
    });
    if (r.code !== 0) throw new Error(`enqueue: ${r.code} ${r.detail}`);
  };
  for (const parallel of [1, 32]) {
    const n = quick ? 200 : 2000;
    counter.n = 0;
    const r = await rate(n, parallel, one);
    rows.push([`in-process writer, ${parallel} at once`, `${r.toFixed(0)} msg/s`]);
    rows.push([`  fsyncs per message (files + directories)`, (counter.n / n).toFixed(2)]);
  }
}

async function simulator(): Promise<void> {
  const messages = quick ? 1000 : 5000;
  const t0 = performance.now();
  const r = await runQueueCrash({ seed: 1, messages, clients: 32, crashes: 20, profile: 'posix', split: 23 });
  const wall = (performance.now() - t0) / 1000;
  rows.push([`simulator, ${messages} messages, 20 power losses`, `${(messages / wall).toFixed(0)} msg per wall s (${wall.toFixed(1)} s, ${(r.events / wall).toFixed(0)} events/s)`]);
}

await startup();
const inst = install();
try {
  await binary(inst.home);
  await inProcess(inst.home);
} finally {
  inst.cleanup();
}
await simulator();
rows.push(...(await simBench(quick)));
rows.push(...(await lspawnBench({ quick })));
rows.push(...(await drainBench({ quick })));
await smtpBench(rows, quick);
process.stdout.write(table(rows));
process.exit(0);
