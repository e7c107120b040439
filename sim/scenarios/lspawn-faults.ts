// Scenario "lspawn-faults": a qmail-send stand-in drives the real qmail-lspawn, its delivery workers
// and qmail-local into users' maildirs, while faults strike at random events:
//   kill-worker   SIGKILL to a live delivery worker, several times;
//   kill-lspawn   SIGKILL to qmail-lspawn itself (its caller sees EOF);
//   power-loss    every process dies and the file system keeps what its profile lets survive.
// Then a healed phase re-sends every job that has no K yet. Checked:
//   - no report for a slot with nothing in flight (a doubled or invented report), and while lspawn
//     lives, exactly one report per command;
//   - every report is `Kdid 1+0+0\n` or, for a delivery caught by a dead worker, `Zqmail-local crashed.\n`;
//   - after a power loss, every delivery reported K before it is in its maildir (durable);
//   - at the end every job is delivered to its own user's maildir, and a job sent only once is there
//     exactly once (a duplicate needs a retry);
//   - no program crashed (kernel bugs).

import type { CrashProfile } from '../fs-api.ts';
import type { Program } from '../../impl/sys/types.ts';
import { lspawnWorld, messageText, queueMessage, tokensIn, userFile, type LspawnWorld } from './lspawn-world.ts';
import { SendStandIns, type SendLedger, type SpawnJob } from './send-stand-in.ts';
import { localCrashedReport } from '../../spec/spawn.ts';

export type LspawnFault = 'kill-worker' | 'kill-lspawn' | 'power-loss';

export interface LspawnFaultOpts {
  seed: number;
  fault: LspawnFault;
  users?: number;
  deliveries?: number;
  concurrency?: number;
  /** How many times the fault strikes (kill-worker; the others strike once). */
  strikes?: number;
  profile?: CrashProfile;
  /** A replacement qmail-local-worker (a deliberately broken one, in tests). */
  worker?: Program;
}

export interface LspawnFaultResult {
  seed: number;
  violations: string[];
  /** Reports `Zqmail-local crashed.` seen (deliveries caught by a dead worker). */
  crashedReports: number;
  /** Deliveries cut off with no report (lspawn or the world died). */
  unreported: number;
  strikes: number;
  traceHash: string;
  events: number;
}

const okReport = 'Kdid 1+0+0\n';

interface Job extends SpawnJob {
  user: string;
}

function setup(w: LspawnWorld, n: number): Job[] {
  const rng = w.k.prng('lspawn-jobs');
  for (const u of w.users) userFile(w.k, u, '.qmail-box', './Maildir/\n');
  return Array.from({ length: n }, (_, index) => {
    const u = w.users[rng.int(w.users.length)] as { name: string };
    const messid = queueMessage(w, 5000 + index, messageText(index, 50 + rng.int(6000)));
    const recipient = rng.chance(0.3) ? `${u.name}-box@sim.example` : `${u.name}@sim.example`;
    return { index, messid, sender: `s${index}@remote.example`, recipient, user: u.name };
  });
}

export async function runLspawnFaults(opts: LspawnFaultOpts): Promise<LspawnFaultResult> {
  const override = opts.worker === undefined ? undefined : { 'qmail-local-worker': opts.worker };
  const w = await lspawnWorld({ seed: opts.seed, users: opts.users ?? 4, profile: opts.profile ?? 'posix', keepTraceLines: 2000, override });
  const jobs = setup(w, opts.deliveries ?? 40);
  const sends = new SendStandIns(w.k, w.inst.home);
  const plan = w.k.prng('lspawn-faults');
  const violations: string[] = [];
  const { ledger, handle } = sends.start({ jobs, concurrency: opts.concurrency ?? 10, retryTemp: 4 });
  let strikes = 0;
  const wanted = opts.fault === 'kill-worker' ? (opts.strikes ?? 3) : 1;
  for (let s = 0; s < wanted && handle.status() === null; s++) {
    await w.k.run({ maxEvents: 1 + plan.int(1500), until: () => handle.status() !== null });
    if (handle.status() !== null) break;
    if (strike(w, opts.fault, ledger, plan.int(1 << 30))) strikes++;
    if (opts.fault === 'power-loss') violations.push(...durable(w, jobs, ledger, 'after the power loss'));
  }
  if (handle.status() === null) await w.k.run({ until: () => handle.status() !== null });
  violations.push(...checkRun(ledger, opts.fault));
  // Healed phase: whatever has no K yet goes again, without faults.
  const pending = jobs.filter((j) => !ledger.reportsOf(j.index).some((a) => a.report?.startsWith('K')));
  const healed = await sends.run({ jobs: pending, concurrency: opts.concurrency ?? 10 });
  violations.push(...checkRun(healed, null));
  violations.push(...finalState(w, jobs, [ledger, healed]));
  violations.push(...w.k.bugs.map((b) => `program crashed: ${b.argv.join(' ')}: ${b.message}`));
  const all = [...ledger.attempts, ...healed.attempts];
  return {
    seed: opts.seed,
    violations,
    crashedReports: all.filter((a) => a.report === localCrashedReport).length,
    unreported: ledger.unreported.length,
    strikes,
    traceHash: w.k.traceHash(),
    events: w.k.eventsRun,
  };
}

/** Applies the fault now; false when there was nothing to strike (no live worker). */
function strike(w: LspawnWorld, fault: LspawnFault, ledger: SendLedger, pick: number): boolean {
  if (fault === 'power-loss') {
    w.k.powerLoss();
    return true;
  }
  if (fault === 'kill-lspawn') {
    if (!w.k.procs.has(ledger.lspawnPid)) return false;
    w.k.kill(ledger.lspawnPid, 'SIGKILL');
    return true;
  }
  const workers = w.k.pids().filter((pid) => w.k.procs.get(pid)?.exe.endsWith('/qmail-local-worker'));
  if (workers.length === 0) return false;
  w.k.kill(workers[pick % workers.length] as number, 'SIGKILL');
  return true;
}

function checkRun(ledger: SendLedger, fault: LspawnFault | null): string[] {
  const v: string[] = [];
  for (const m of ledger.mangled) v.push(`report for no delivery in flight: ${m}`);
  for (const a of ledger.attempts) {
    if (a.report !== null && a.report !== okReport && a.report !== localCrashedReport) v.push(`job ${a.job.index}: report ${JSON.stringify(a.report)}`);
    if (a.report === localCrashedReport && fault !== 'kill-worker') v.push(`job ${a.job.index}: crashed report without a killed worker`);
  }
  const lspawnSurvived = fault === null || fault === 'kill-worker';
  if (lspawnSurvived) {
    if (ledger.concurrencyByte !== 120) v.push(`concurrency byte ${ledger.concurrencyByte}`);
    for (const a of ledger.attempts) if (a.report === null) v.push(`job ${a.job.index} attempt ${a.attempt}: no report`);
    if (ledger.lspawnStatus?.code !== 0) v.push(`lspawn ended ${JSON.stringify(ledger.lspawnStatus)}`);
  }
  return v;
}

/** Every delivery reported K is in its user's maildir now. */
function durable(w: LspawnWorld, jobs: Job[], ledger: SendLedger, when: string): string[] {
  const v: string[] = [];
  const counts = new Map(w.users.map((u) => [u.name, tokensIn(w.k, `${u.home}/Maildir`)]));
  for (const a of ledger.attempts) {
    if (!a.report?.startsWith('K')) continue;
    const job = jobs[a.job.index] as Job;
    if ((counts.get(job.user)?.get(job.index) ?? 0) === 0) v.push(`job ${job.index}: reported K, not in ${job.user}'s maildir ${when}`);
  }
  return v;
}

function finalState(w: LspawnWorld, jobs: Job[], runs: SendLedger[]): string[] {
  const v: string[] = [];
  const counts = new Map(w.users.map((u) => [u.name, tokensIn(w.k, `${u.home}/Maildir`)]));
  const attempts = new Map<number, number>();
  for (const r of runs) for (const a of r.attempts) attempts.set(a.job.index, (attempts.get(a.job.index) ?? 0) + 1);
  for (const job of jobs) {
    const mine = counts.get(job.user)?.get(job.index) ?? 0;
    if (mine === 0) v.push(`job ${job.index}: never delivered to ${job.user}`);
    if (mine > 1 && (attempts.get(job.index) ?? 0) <= 1) v.push(`job ${job.index}: ${mine} copies from one attempt`);
    for (const [user, c] of counts) if (user !== job.user && (c.get(job.index) ?? 0) > 0) v.push(`job ${job.index}: delivered to ${user}`);
  }
  return v;
}
