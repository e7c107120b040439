// Scenario "send-crash": qmail-send, todo-proc and two qmail-cleans deliver generated traffic through
// scripted spawners while the world is hit by faults (power losses under the chosen crash profile,
// kill -9 of qmail-send, kill -9 of todo-proc). A faulty phase, then a healed phase that runs long
// enough for every retry, every dying job and every OSSIFIED cleanup, then one clean restart (so
// each qmail-clean sweeps pid/). Checked (sim/checkers/delivery.ts, send-state.ts):
//   - every recipient of every message whose qmail-queue exited 0 was delivered at least once or
//     bounced; duplicates only across runs (counted);
//   - the queue ends empty (mess, intd, todo, info, local, remote, bounce, pid);
//   - every line of every activity log is in the grammar (spec/log.ts);
//   - no program crashed.
//
// Recipients' local parts choose what the spawner does: k accept, d refuse (D), z defer twice then
// accept, f always defer (bounced once the message is older than queuelifetime), s accept slowly.
// Bounces are always accepted.

import type { CrashProfile } from '../fs-api.ts';
import type { Prng } from '../prng.ts';
import { sendWorld, type SendWorld, type Mail } from './send-world.ts';
import { queueFix } from '../install.ts';
import type { SendBoot } from '../boot-send.ts';
import type { SpawnAnswer, SpawnRequest } from '../fake-spawner.ts';
import { checkDeliveries, type LedgerCounts } from '../checkers/delivery.ts';
import { identify } from '../checkers/mail-identity.ts';
import { checkLog, copyEnds, queueLeftovers } from '../checkers/send-state.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { rewrite, stripVdomPrepend, type RewriteControls } from '../../impl/lib/rewrite.ts';
import type { Program } from '../../impl/sys/types.ts';

export interface SendCrashOpts {
  seed: number;
  messages: number;
  faults: number;
  profile: CrashProfile;
  split?: number;
  bigtodo?: boolean;
  /** Run queue-fix after each power loss (default true). */
  repair?: boolean;
  /** Which faults to draw from (default all three). */
  kinds?: FaultKind[];
  /** Replacement daemons (a deliberately broken one, in tests). */
  override?: Record<string, Program>;
}

export type FaultKind = 'power' | 'kill-send' | 'kill-todo';

export interface SendCrashResult {
  seed: number;
  counts: LedgerCounts;
  faults: Record<FaultKind, number>;
  accepted: number;
  uncertain: number;
  checks: number;
  violations: string[];
  simMs: number;
  events: number;
  traceHash: string;
}

export const sendCrashControls = {
  me: 'sim.example\n',
  locals: 'sim.example\n',
  queuelifetime: '3000\n',
  virtualdomains: 'virtual.example:vhost\n',
} as const;

const hourMs = 3_600_000;

function rewriteControls(): RewriteControls {
  return {
    envnoathost: 'sim.example',
    locals: new ConstMap(['sim.example'], false),
    percenthack: new ConstMap([], false),
    virtualdomains: new ConstMap(['virtual.example:vhost'], true),
  };
}

/** What the scripted spawners do: by the recipient's first letter; bounces always succeed. */
export function crashScript(r: SpawnRequest): SpawnAnswer {
  const id = identify(r.message === null ? '' : latin1(r.message));
  if (id.kind === 'bounce') return { report: 'Kbounce accepted\n', delayMs: 500 };
  const local = r.recipient.replace(/^vhost-/, '');
  switch (local[0]) {
    case 'd':
      return { report: 'DSorry, no mailbox here by that name. (#5.1.1)\n', delayMs: 200 };
    case 'z':
      return r.attempt < 2 ? { report: 'ZTemporary failure, try later. (#4.2.1)\n', delayMs: 300 } : { report: 'Kaccepted after all\n', delayMs: 300 };
    case 'f':
      return { report: 'ZMailbox busy forever. (#4.2.1)\n', delayMs: 300 };
    case 's':
      return { report: 'Kslowly delivered\n', delayMs: 20_000 + (r.recipient.length % 7) * 10_000 };
    default:
      return { report: 'Kdid 0+0+1/\n', delayMs: 100 + (r.recipient.length % 5) * 100 };
  }
}

function randomMail(rng: Prng): Mail {
  const sender = rng.pick(['sender@remote.example', 'lsender@sim.example', '', 'list-@lists.example-@[]', 'vsender@virtual.example']);
  const n = 1 + rng.int(rng.chance(0.1) ? 12 : 3);
  const recipients = Array.from({ length: n }, () => {
    const who = `${rng.pick(['k', 'k', 'k', 'k', 'd', 'z', 'f', 's'])}${rng.int(50)}`;
    if (rng.chance(0.05)) return who; // no @: envnoathost
    return `${who}@${rng.pick(['sim.example', 'remote.example', 'virtual.example', 'SIM.example'])}`;
  });
  return { sender, recipients };
}

export interface Run {
  w: SendWorld;
  boots: { boot: SendBoot; crashed: boolean }[];
  faults: Record<FaultKind, number>;
  /** Problems seen while running (reported as violations). */
  notes: string[];
  repair: boolean;
}

function boot(run: Run): SendBoot {
  const b = run.w.boot();
  run.boots.push({ boot: b, crashed: false });
  return b;
}

async function runFor(run: Run, ms: number): Promise<void> {
  await run.w.k.run({ untilMs: run.w.k.nowMs + ms });
}

/** Waits until the current group has exited (a supervisor restarts qmail-start only then). */
async function waitExit(run: Run, b: SendBoot): Promise<void> {
  await run.w.k.run({ until: () => b.handle.status() !== null, untilMs: run.w.k.nowMs + 2 * hourMs });
  if (b.handle.status() === null) {
    const procs = [...run.w.k.procs.values()].map((p) => `${p.pid}:${p.argv.join(' ')}`).join(', ');
    throw new Error(`send-crash: the daemons did not exit within 2 h after the fault; running: ${procs}\n${b.log().slice(-3000)}`);
  }
}

async function fault(run: Run, kind: FaultKind, b: SendBoot): Promise<SendBoot> {
  const { k } = run.w;
  run.faults[kind]++;
  if (kind === 'power') {
    k.powerLoss();
    const last = run.boots[run.boots.length - 1];
    if (last !== undefined) last.crashed = true;
    // As queue-crash does: the boot repairs the queue first (queue-fix's own chmod/chown of the lock
    // files are not fsynced, so a power loss soon after set-up may undo them).
    if (run.repair) {
      const fix = await queueFix(k, run.w.inst.home, []);
      if (fix.code !== 0) run.notes.push(`queue-fix after a power loss exited ${fix.code}: ${fix.stdout}`);
    }
    return boot(run);
  }
  await k.run({ until: () => b.pids() !== null || b.handle.status() !== null });
  const pids = b.pids();
  const pid = pids === null ? null : kind === 'kill-send' ? pids.send : pids.todo;
  if (pid !== null && k.procs.has(pid)) k.kill(pid, 'SIGKILL');
  await waitExit(run, b);
  return boot(run);
}

/** SIGTERM to qmail-send; a qmail-send that is not running is a violation of its own. */
function terminate(run: Run, b: SendBoot): void {
  const pid = b.pids()?.send;
  if (pid === undefined || !run.w.k.procs.has(pid)) {
    run.notes.push(`qmail-send was not running at the end of a phase:\n${b.log().slice(-2000)}`);
    return;
  }
  run.w.k.kill(pid, 'SIGTERM');
}

export async function runSendCrash(opts: SendCrashOpts, inspect?: (run: Run) => void): Promise<SendCrashResult> {
  const w = await sendWorld({
    seed: opts.seed, profile: opts.profile, split: opts.split ?? 7, bigtodo: opts.bigtodo ?? false,
    controls: sendCrashControls, local: crashScript, remote: crashScript, keepTraceLines: 200, override: opts.override,
  });
  const run: Run = { w, boots: [], faults: { power: 0, 'kill-send': 0, 'kill-todo': 0 }, notes: [], repair: opts.repair ?? true };
  const rng = w.k.prng('scenario');
  const kinds = opts.kinds ?? ['power', 'kill-send', 'kill-todo'];
  let b = boot(run);
  const perFault = Math.max(1, Math.floor(opts.messages / (opts.faults + 1)));
  let submitted = 0;
  const submitSome = (n: number): void => {
    for (let i = 0; i < n && submitted < opts.messages; i++, submitted++) w.submit(randomMail(rng));
  };
  // Faulty phase.
  for (let f = 0; f < opts.faults; f++) {
    submitSome(perFault);
    if (rng.chance(0.3)) await runFor(run, rng.int(2 * hourMs));
    await w.k.run({ maxEvents: 1 + rng.int(perFault * 400) });
    b = await fault(run, rng.pick(kinds), b);
  }
  // Healed phase: the rest, then long enough for retries, dying jobs and OSSIFIED cleanups.
  submitSome(opts.messages);
  await runFor(run, 4 * 24 * hourMs);
  // A clean restart: each qmail-clean sweeps pid/ before its first command.
  terminate(run, b);
  await waitExit(run, b);
  b = boot(run);
  w.submit({ sender: 'sender@remote.example', recipients: ['k-final@sim.example'] });
  await runFor(run, hourMs);
  terminate(run, b);
  await waitExit(run, b);
  inspect?.(run);
  return check(run, opts);
}

function check(run: Run, opts: SendCrashOpts): SendCrashResult {
  const { w } = run;
  const controls = rewriteControls();
  const accepted = w.submitted.filter((m) => m.code === 0).map((m) => ({ index: m.index, sender: m.sender, recipients: m.recipients }));
  const uncertain = w.submitted.filter((m) => m.code === null || m.code === undefined).map((m) => ({ index: m.index, sender: m.sender, recipients: m.recipients }));
  const ledger = checkDeliveries({
    accepted, uncertain, attempts: w.spawners.records,
    ends: copyEnds(run.boots.map((x, i) => ({ run: i + 1, text: x.boot.log() }))),
    address: (r) => rewrite(r, controls).address,
    bounceName: (a) => stripVdomPrepend(a, controls.virtualdomains),
  });
  const violations = [...run.notes, ...ledger.violations];
  for (const left of queueLeftovers(w.k.fs, w.inst.queue)) violations.push(`left in the queue: ${left}`);
  for (const { boot: bt, crashed } of run.boots) {
    const text = bt.log();
    const log = checkLog(crashed ? text.slice(0, text.lastIndexOf('\n') + 1) : text);
    violations.push(...log.violations);
  }
  violations.push(...w.k.bugs.map((bug) => `program crashed: ${bug.argv.join(' ')}: ${bug.message}`));
  const refusedButOk = w.submitted.filter((m) => m.code !== 0 && m.code !== null && m.code !== undefined);
  if (refusedButOk.length > 0) violations.push(`qmail-queue refused ${refusedButOk.length} submissions`);
  return {
    seed: opts.seed, counts: ledger.counts, faults: run.faults, accepted: accepted.length, uncertain: uncertain.length,
    checks: ledger.checks, violations, simMs: w.k.nowMs, events: w.k.eventsRun, traceHash: w.k.traceHash(),
  };
}

export function sendCrashReplay(o: SendCrashOpts): string {
  const kinds = o.kinds === undefined ? '' : ` KINDS=${o.kinds.join(',')}`;
  return `SEED=${o.seed} MESSAGES=${o.messages} FAULTS=${o.faults} PROFILE=${o.profile}${o.bigtodo === true ? ' BIGTODO=1' : ''}${kinds} npx vitest run test/scenarios/send-crash.test.ts -t replay`;
}
