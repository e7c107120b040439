// Scenario "mta-crash": the whole MTA with the real local channel (mta-world.ts) receives generated
// traffic through the real qmail-queue while faults strike at random points:
//   power         a power loss under the run's crash profile; queue-fix, then boot again;
//   kill-send, kill-todo, kill-lspawn, kill-clean
//                 SIGKILL to that daemon: qmail-start stops the rest and must exit 111; the world
//                 starts it again as supervise does (a second later; if an old delivery worker is
//                 still finishing, once it is gone, so that the mbox snapshots below stay exact);
//   kill-worker   SIGKILL to a delivery worker (qmail-lspawn reports its deliveries crashed).
// Remote mail goes to scripted SMTP peers (mta-world.ts, remote 'peers', the default): most accept,
// one rejects `bad*` recipients, one greylists, one now and then resets after the final dot
// (kept or not); unresolved.example never resolves. With remote 'unresolved' every remote
// recipient is deferred to the end instead (remote.example's DNS always fails).
// Then a healed phase (four days: every retry, every OSSIFIED cleanup), a clean restart, and the
// checks:
//   - every recipient of every message whose qmail-queue exited 0 is delivered at least once (the
//     mailbox holds Return-Path + Delivered-To + the queued copy, byte for byte; a peer kept the
//     queued copy byte for byte), bounced (the bounce, in qmail's exact text, is in the sender's
//     mailbox or postmaster's, or kept by the sender's peer), or, if remote and unresolved, still
//     queued with its deferrals logged (delivery.ts, mailboxes.ts, peer-ledger.ts);
//   - duplicates only across a fault (the 6.3 window) or after a peer kept a message without
//     answering (qmail-remote's "Possible duplicate!"), counted; none after a message's end msg;
//   - the queue holds nothing but those remote messages (no local file, no todo, intd, bounce,
//     pid leftover); every log line parses (spec/log.ts); qmail-start exited 111 after each kill;
//   - no delivery ran as root, every delivered file is its user's, no program crashed;
//   - the same seed gives the same trace (the test runs it twice).

import type { CrashProfile } from '../fs-api.ts';
import type { Prng } from '../prng.ts';
import type { QmailBoot } from '../boot.ts';
import { queueFix } from '../install.ts';
import { mtaWorld, mtaMe, remoteDomain, unresolvedDomain, type MtaWorld, type RemoteMode } from './mta-world.ts';
import { rejectText } from './net-peers.ts';
import { peerAttempts, windowDuplicates } from './peer-ledger.ts';
import type { LocalUser } from './lspawn-world.ts';
import type { Mail } from './send-world.ts';
import { checkDeliveries, type Attempt, type LedgerCounts } from '../checkers/delivery.ts';
import { checkLog, copyEnds, queueLeftovers } from '../checkers/send-state.ts';
import {
  attemptsOf, checkCopy, mboxDeliveries, MboxTracker, parseMaildirFile, pendingBounce, type CopyRules, type Delivered,
} from '../checkers/mailboxes.ts';
import type { Identity } from '../checkers/mail-identity.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { rewrite, stripVdomPrepend, type RewriteControls } from '../../impl/lib/rewrite.ts';
import { parseLogLine } from '../../spec/log.ts';
import { localText } from '../../spec/local.ts';
import { messagePath } from '../../spec/queue.ts';
import type { Program } from '../../impl/sys/types.ts';

export type MtaFault = 'power' | 'kill-send' | 'kill-todo' | 'kill-lspawn' | 'kill-clean' | 'kill-worker';
export const mtaFaults: readonly MtaFault[] = ['power', 'kill-send', 'kill-todo', 'kill-lspawn', 'kill-clean', 'kill-worker'];

export interface MtaCrashOpts {
  seed: number;
  messages: number;
  faults: number;
  profile: CrashProfile;
  split?: number;
  /** Which faults to draw from (default all). */
  kinds?: MtaFault[];
  /** Replacement programs (a deliberately broken daemon, in tests). */
  override?: Record<string, Program>;
  /** Spread the faulty phase over this much virtual time: messages arrive one by one at even
   *  intervals, faults strike at random instants (a simulated day: 24 h). Default: in bursts, one
   *  burst before each fault. */
  durationMs?: number;
  /** Told as each part of the run ends: 'faulty' (the faults and arrivals, e.g. the day),
   *  'healed' (the four quiet days and the clean restart); the checks follow. For timing them. */
  onPhase?: (phase: 'faulty' | 'healed', events: number) => void;
  /** Where remote mail goes (mta-world.ts RemoteMode); default peers. */
  remote?: RemoteMode;
}

export interface MtaCrashResult {
  seed: number;
  counts: LedgerCounts;
  faults: Record<MtaFault, number>;
  accepted: number;
  uncertain: number;
  /** Copies found: maildir files, mbox entries, program runs; messages held in the queue. */
  found: { maildir: number; mbox: number; program: number; queued: number; peer: number };
  /** Copies the peers kept without answering 250 (a reset after the dot), and the duplicate
   *  deliveries those explain (within counts.duplicateDeliveries). */
  peerWindow: { kept: number; duplicates: number };
  /** What the peers did, by their kind: act (a reply code, reset-kept, ...) -> times. */
  peerActs: Record<string, Record<string, number>>;
  /** Restarts that waited for an old delivery worker beyond supervise's second. */
  restartsDelayed: number;
  checks: number;
  violations: string[];
  simMs: number;
  events: number;
  traceHash: string;
}

const hourMs = 3_600_000;
const superviseDelayMs = 1000;
const exitWaitMs = 2 * hourMs;
const workerWaitMs = 10 * 60_000;
const healedMs = 4 * 24 * hourMs;

export interface Run {
  boot: QmailBoot;
  /** Ended by a power loss (its last log line may be cut). */
  crashed: boolean;
  lastEpoch: number;
}

export interface State {
  w: MtaWorld;
  rng: Prng;
  runs: Run[];
  faults: Record<MtaFault, number>;
  mboxes: MboxTracker;
  notes: string[];
  restartsDelayed: number;
}

export const unknownLocals = ['nosuch1', 'nosuch2', 'nosuch3', 'ghost'];

function randomMail(rng: Prng, w: MtaWorld): Mail {
  const { maildir, mbox, program, forward } = w.users;
  const local = (u: LocalUser): string => `${u.name}@${mtaMe}`;
  const sender = rng.pick([
    ...maildir.map(local), ...mbox.map(local), local(program[0] as LocalUser),
    `sender@${remoteDomain}`, `list@${remoteDomain}`, '', `ghost@${mtaMe}`,
  ]);
  const n = 1 + rng.int(rng.chance(0.1) ? 6 : 3);
  const recipients = Array.from({ length: n }, () => {
    const roll = rng.float();
    if (roll < 0.45) return local(rng.pick(maildir));
    if (roll < 0.55) return local(rng.pick(mbox));
    if (roll < 0.62) return local(rng.pick(program));
    if (roll < 0.7) return local(rng.pick(forward));
    if (roll < 0.8) return `${rng.pick(unknownLocals.slice(0, 3))}@${mtaMe}`;
    return remoteRecipient(rng, w);
  });
  return { sender, recipients, text: randomText(rng) };
}

/** A remote recipient: mostly remote.example's; in the peers world some rejected (`bad*`),
 *  greylisted or behind a peer that may reset, and a few whose domain never resolves. */
function remoteRecipient(rng: Prng, w: MtaWorld): string {
  if (w.remote === 'unresolved') return `r${rng.int(5)}@${remoteDomain}`;
  const roll = rng.float();
  if (roll < 0.6) return `r${rng.int(5)}@${remoteDomain}`;
  if (roll < 0.75) return `${rng.chance(0.5) ? 'bad' : 'r'}${rng.int(3)}@reject.example`;
  if (roll < 0.86) return `r${rng.int(4)}@greylist.example`;
  if (roll < 0.97) return `r${rng.int(4)}@reset.example`;
  return `r${rng.int(3)}@${unresolvedDomain}`;
}

/** Header and body after X-Sim-Index: some lines an mbox must quote, some longer bodies. */
export function randomText(rng: Prng): string {
  const lines = [`Subject: generated ${rng.int(1_000_000)}`, ''];
  const count = rng.chance(0.1) ? 50 + rng.int(200) : 1 + rng.int(8);
  for (let i = 0; i < count; i++) {
    const roll = rng.float();
    lines.push(roll < 0.05 ? 'From the desk of the simulator' : roll < 0.08 ? '>From an earlier quote' : `line ${i} ${'x'.repeat(rng.int(70))}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runFor(st: State, ms: number): Promise<void> {
  await st.w.k.run({ untilMs: st.w.k.nowMs + ms });
}

export function boot(st: State): QmailBoot {
  const b = st.w.boot();
  st.runs.push({ boot: b, crashed: false, lastEpoch: st.w.epoch });
  return b;
}

export function current(st: State): Run {
  return st.runs[st.runs.length - 1] as Run;
}

/** A new epoch: the mboxes are snapshotted first, so what they hold now belongs to the old one. */
export function nextEpoch(st: State): void {
  snapshotMboxes(st);
  current(st).lastEpoch = st.w.epoch;
  st.w.epoch++;
}

export function snapshotMboxes(st: State): void {
  for (const u of st.w.users.mbox) {
    const path = `${u.home}/Mailbox`;
    const bytes = st.w.k.fs.peekFile(path);
    st.mboxes.snapshot(path, bytes === null ? null : latin1(bytes), st.w.epoch);
  }
}

/** Waits until qmail-start has exited (supervise restarts only then) and no old delivery worker
 *  is left, at least supervise's second. */
export async function waitDown(st: State, b: QmailBoot, why: string): Promise<void> {
  const { k } = st.w;
  await k.run({ until: () => b.status() !== null, untilMs: k.nowMs + exitWaitMs });
  if (b.status() === null) {
    const procs = [...k.procs.values()].map((p) => `${p.pid}:${p.argv.join(' ')}`).join(', ');
    throw new Error(`mta-crash: qmail-start did not exit within 2 h after ${why}; running: ${procs}\n${b.log().slice(-3000)}`);
  }
  const since = k.nowMs;
  await runFor(st, superviseDelayMs);
  if (st.w.deliveryPids().length > 0) {
    st.restartsDelayed++;
    await k.run({ until: () => st.w.deliveryPids().length === 0, untilMs: since + workerWaitMs });
    if (st.w.deliveryPids().length > 0) st.notes.push(`delivery workers still running ${workerWaitMs / 60_000} min after ${why}`);
  }
}

export async function fault(st: State, kind: MtaFault, b: QmailBoot): Promise<QmailBoot> {
  const { k } = st.w;
  st.faults[kind]++;
  if (kind === 'power') {
    k.powerLoss();
    current(st).crashed = true;
    nextEpoch(st);
    // The peers are other machines; the sim's power loss killed their processes too.
    st.w.startPeers();
    // As queue-crash does: the boot repairs the queue first.
    const fix = await queueFix(k, st.w.inst.home, []);
    if (fix.code !== 0) st.notes.push(`queue-fix after a power loss exited ${fix.code}: ${fix.stdout}`);
    return boot(st);
  }
  await k.run({ until: () => b.pids() !== null || b.status() !== null });
  if (kind === 'kill-worker') {
    const workers = st.w.deliveryPids();
    if (workers.length === 0) return b;
    k.kill(st.rng.pick(workers), 'SIGKILL');
    nextEpoch(st);
    return b;
  }
  const pids = b.pids();
  const pid = pids === null ? null
    : kind === 'kill-send' ? pids.send : kind === 'kill-todo' ? pids.todo : kind === 'kill-lspawn' ? pids.lspawn : st.rng.pick(pids.clean);
  if (pid !== null && k.procs.has(pid)) {
    k.kill(pid, 'SIGKILL');
    await waitDown(st, b, kind);
    const s = b.status();
    if (s?.code !== 111) st.notes.push(`qmail-start exited ${JSON.stringify(s)} after ${kind}, not 111: ${b.stderr().slice(-500)}`);
  } else {
    await waitDown(st, b, `${kind} (nothing to kill)`);
  }
  nextEpoch(st);
  return boot(st);
}

/** TERM to qmail-start (passed on to qmail-send); it must exit 0. */
export async function stop(st: State, b: QmailBoot): Promise<void> {
  b.kill('SIGTERM');
  await waitDown(st, b, 'TERM');
  if (b.status()?.code !== 0) st.notes.push(`qmail-start exited ${JSON.stringify(b.status())} after TERM: ${b.stderr().slice(-500)}`);
}

/** A fresh scenario state over a world (nothing booted yet). */
export function newState(w: MtaWorld): State {
  return {
    w, rng: w.k.prng('scenario'), runs: [], mboxes: new MboxTracker(), notes: [], restartsDelayed: 0,
    faults: Object.fromEntries(mtaFaults.map((f) => [f, 0])) as Record<MtaFault, number>,
  };
}

export async function runMtaCrash(opts: MtaCrashOpts): Promise<MtaCrashResult> {
  const w = await mtaWorld({ seed: opts.seed, profile: opts.profile, split: opts.split, override: opts.override, remote: opts.remote ?? 'peers' });
  const st = newState(w);
  const kinds = opts.kinds ?? [...mtaFaults];
  w.startPeers();
  let b = boot(st);
  const perFault = Math.max(1, Math.floor(opts.messages / (opts.faults + 1)));
  let submitted = 0;
  const submitSome = (n: number): void => {
    for (let i = 0; i < n && submitted < opts.messages; i++, submitted++) w.submit(randomMail(st.rng, w));
  };
  // Faulty phase.
  if (opts.durationMs !== undefined) b = await spreadPhase(st, opts.durationMs, opts.messages, opts.faults, kinds, b, submitSome);
  else {
    for (let f = 0; f < opts.faults; f++) {
      submitSome(perFault);
      if (st.rng.chance(0.3)) await runFor(st, st.rng.int(2 * hourMs));
      await w.k.run({ maxEvents: 1 + st.rng.int(perFault * 600), untilMs: w.k.nowMs + st.rng.int(hourMs) });
      b = await fault(st, st.rng.pick(kinds), b);
    }
  }
  opts.onPhase?.('faulty', w.k.eventsRun);
  // Healed phase: the rest, then long enough for every retry and every OSSIFIED cleanup.
  submitSome(opts.messages);
  await runFor(st, healedMs);
  // A clean restart: each qmail-clean sweeps pid/ before its first command.
  await stop(st, b);
  nextEpoch(st);
  b = boot(st);
  w.submit({ sender: `sender@${remoteDomain}`, recipients: [`m1@${mtaMe}`] });
  await runFor(st, hourMs);
  await stop(st, b);
  current(st).lastEpoch = w.epoch;
  opts.onPhase?.('healed', w.k.eventsRun);
  snapshotMboxes(st);
  return check(st, opts);
}

/** The faulty phase over `durationMs` of virtual time: message i arrives at i/messages of it, the
 *  faults at instants drawn uniformly (a fault's own restart time delays the arrivals behind it). */
async function spreadPhase(
  st: State, durationMs: number, messages: number, faults: number, kinds: MtaFault[], b: QmailBoot, submitSome: (n: number) => void,
): Promise<QmailBoot> {
  const { k } = st.w;
  const start = k.nowMs;
  const faultAt = Array.from({ length: faults }, () => st.rng.int(Math.max(1, Math.floor(durationMs)))).sort((x, y) => x - y);
  let arrived = 0;
  for (let f = 0; arrived < messages || f < faultAt.length; ) {
    const arrival = arrived < messages ? start + (arrived * durationMs) / messages : Infinity;
    const strike = f < faultAt.length ? start + (faultAt[f] as number) : Infinity;
    await k.run({ untilMs: Math.max(k.nowMs, Math.min(arrival, strike)) });
    if (arrival <= strike) {
      submitSome(1);
      arrived++;
    } else {
      b = await fault(st, st.rng.pick(kinds), b);
      f++;
    }
  }
  await k.run({ untilMs: Math.max(k.nowMs, start + durationMs) });
  return b;
}

// ---- the checks ----

export function rewriteControls(): RewriteControls {
  return { envnoathost: mtaMe, locals: new ConstMap([mtaMe], false), percenthack: new ConstMap([], false), virtualdomains: new ConstMap([], true) };
}

export function copyRules(w: MtaWorld): CopyRules {
  const rejectIp = w.ipOf.get('reject.example');
  return {
    me: mtaMe,
    doubleBounceTo: `postmaster@${mtaMe}`,
    original: (i) => {
      const m = w.submitted[i];
      return m === undefined ? null : { body: m.body, sender: m.sender };
    },
    failureText: (r) => {
      if (unknownLocals.some((u) => r === `${u}@${mtaMe}`)) return `${localText.noMailbox}\n`;
      if (rejectIp !== undefined && /^bad[0-9]*@reject\.example$/.test(r)) return `${rejectIp} does not like recipient.\nRemote host said: ${rejectText.trimEnd()}\nGiving up on ${rejectIp}.\n`;
      return null;
    },
  };
}

export interface Found {
  delivered: Delivered[];
  ids: Identity[];
  counts: MtaCrashResult['found'];
  held: Attempt[];
  heldKeys: { id: number; address: string; where: string }[];
}

export function collect(st: State, rules: CopyRules, violations: string[]): Found {
  const { w } = st;
  const { k } = w;
  const delivered: Delivered[] = [];
  const counts = { maildir: 0, mbox: 0, program: 0, queued: 0, peer: 0 };
  const maildirs = [...w.users.maildir.map((u) => ({ u, address: `${u.name}@${mtaMe}` })), { u: w.users.alias, address: `postmaster@${mtaMe}` }];
  for (const { u, address } of maildirs) {
    const dir = `${u.home}/Maildir/new`;
    for (const name of (k.fs.peekDir(dir) ?? []).sort()) {
      const path = `${dir}/${name}`;
      const pid = /P([0-9]+)R/.exec(name);
      const epoch = pid === null ? null : w.deliveryEpoch(Number(pid[1]));
      if (epoch === null) violations.push(`${path}: not named after a delivery process`);
      if (k.fs.peekStat(path)?.uid !== u.uid) violations.push(`${path}: not owned by ${u.name}`);
      const d = parseMaildirFile(path, k.fs.peekFile(path) as Uint8Array, epoch ?? 0);
      if (typeof d === 'string') violations.push(d);
      else if (d.recipient !== address) violations.push(`${path}: Delivered-To ${d.recipient}, in the maildir of ${address}`);
      else {
        delivered.push(d);
        counts.maildir++;
      }
    }
  }
  for (const u of w.users.mbox) {
    const path = `${u.home}/Mailbox`;
    const bytes = k.fs.peekFile(path);
    if (bytes === null) continue;
    if (k.fs.peekStat(path)?.uid !== u.uid) violations.push(`${path}: not owned by ${u.name}`);
    for (const d of mboxDeliveries(path, latin1(bytes), st.mboxes, violations)) {
      if (d.recipient !== `${u.name}@${mtaMe}`) violations.push(`${d.where}: Delivered-To ${d.recipient}`);
      delivered.push(d);
      counts.mbox++;
    }
  }
  w.sinks.forEach((r, i) => {
    const where = `program run ${i} (pid ${r.pid})`;
    const user = w.users.program.find((u) => r.recipient === `${u.name}@${mtaMe}`);
    if (user === undefined || r.uid !== user.uid || r.euid !== user.uid) violations.push(`${where}: ran as uid ${r.uid} euid ${r.euid} for ${r.recipient}`);
    if (r.dtLine !== `Delivered-To: ${r.recipient}\n`) violations.push(`${where}: DTLINE ${JSON.stringify(r.dtLine)}`);
    const rp = /^Return-Path: <([^\n]*)>\n$/.exec(r.rpLine);
    if (rp === null) violations.push(`${where}: RPLINE ${JSON.stringify(r.rpLine)}`);
    const epoch = w.deliveryEpoch(r.pid);
    if (epoch === null) violations.push(`${where}: not started by a delivery`);
    delivered.push({ where, recipient: r.recipient, sender: rp?.[1] ?? '', mess: r.bytes, epoch: epoch ?? 0 });
    counts.program++;
  });
  const ids = delivered.map((d) => checkCopy(d.where, d.mess, d.sender, rules, violations));
  const { held, heldKeys, queued } = heldInQueue(st, rules, violations);
  counts.queued = queued;
  return { delivered, ids, counts, held, heldKeys };
}

/** Messages still queued at the end: only for remote recipients (H attempts), nothing else left. */
function heldInQueue(st: State, rules: CopyRules, violations: string[]): { held: Attempt[]; heldKeys: Found['heldKeys']; queued: number } {
  const { k, inst } = st.w;
  const q = inst.queue;
  const held: Attempt[] = [];
  const heldKeys: Found['heldKeys'] = [];
  const allowed = new Set<string>();
  let queued = 0;
  for (let s = 0; s < q.split; s++) {
    for (const name of k.fs.peekDir(`${q.dir}/info/${s}`) ?? []) {
      const id = Number(name);
      const path = (dir: string): string => `${q.dir}/${messagePath(dir, id, q)}`;
      const info = k.fs.peekFile(path('info'));
      const remote = k.fs.peekFile(path('remote'));
      const mess = k.fs.peekFile(path('mess'));
      for (const dir of ['info', 'remote', 'mess']) allowed.add(path(dir));
      if (info === null || remote === null || mess === null) {
        violations.push(`queue: message ${id} left without its remote or mess file`);
        continue;
      }
      queued++;
      const sender = latin1(info).replace(/^F([^\0]*)\0[^]*$/, '$1');
      const id0 = checkCopy(`queue ${messagePath('mess', id, q)}`, mess, sender, rules, violations);
      const todo = latin1(remote).split('\0').filter((r) => r.startsWith('T')).map((r) => r.slice(1));
      if (todo.length === 0) violations.push(`queue: message ${id} has no remote recipient left`);
      for (const address of todo) {
        held.push({ recipient: address, report: 'H', message: mess, epoch: 0, identity: id0 });
        heldKeys.push({ id, address, where: messagePath('mess', id, q) });
      }
      // A power loss can keep intd/ID after todo/ID's removal was durable (qmail-clean syncs the
      // two directories together); harmless: nothing reads intd/ of a preprocessed message, and
      // qmail-clean's cleanup of the finished message removes it (found by the model test, seed
      // MODEL_SEED=579613289).
      if (k.fs.peekFile(path('intd')) !== null) allowed.add(path('intd'));
      // Its local failures wait in bounce/ID until the remote recipients are done (one bounce).
      const bounce = k.fs.peekFile(path('bounce'));
      if (bounce !== null) {
        allowed.add(path('bounce'));
        const pending = pendingBounce(messagePath('bounce', id, q), bounce, id0, rules, violations);
        held.push({ recipient: '(pending bounce)', report: 'H', message: null, epoch: 0, identity: pending });
      }
    }
  }
  for (const left of queueLeftovers(k.fs, q)) if (!allowed.has(left)) violations.push(`left in the queue: ${left}`);
  return { held, heldKeys, queued };
}

export interface FromLogs {
  refusals: Attempt[];
  deferred: Set<string>;
}

/** From every run's activity log: local failures of submitted messages (rule 4's refusals), and
 *  which (queue id, remote address) were deferred after the id's latest `info msg`. A log may miss
 *  lines a killed qmail-send had not written yet, and a message preprocessed just before such a kill
 *  never gets an `info msg` line: the world's own list of failing recipients completes them. */
export function fromLogs(st: State): FromLogs {
  const refusals: Attempt[] = [];
  const deferred = new Set<string>();
  // The deferred keys of each queue id, so that an `info msg` clears its own without a scan.
  const deferredOf = new Map<number, string[]>();
  const qpOf = new Map<number, number>();
  for (const run of st.runs) {
    const starts = new Map<number, { id: number; channel: string; recipient: string }>();
    for (const line of run.boot.log().split('\n')) {
      const e = parseLogLine(line);
      if ('error' in e) continue;
      if (e.kind === 'info') {
        qpOf.set(e.id, e.qp);
        for (const key of deferredOf.get(e.id) ?? []) deferred.delete(key);
        deferredOf.delete(e.id);
      }
      if (e.kind === 'starting') starts.set(e.delivery.n, { id: e.id, channel: e.channel, recipient: e.recipient });
      if (e.kind !== 'delivery') continue;
      const s = starts.get(e.delivery.n);
      if (s === undefined) continue;
      if (e.result === 'deferral' && s.channel === 'remote') {
        const key = `${s.id} ${s.recipient}`;
        deferred.add(key);
        const keys = deferredOf.get(s.id);
        if (keys === undefined) deferredOf.set(s.id, [key]);
        else keys.push(key);
      }
      const qp = qpOf.get(s.id);
      const index = qp === undefined ? null : st.w.submissionOf(qp);
      if (e.result === 'failure' && s.channel === 'local' && index !== null) {
        const identity: Identity = { kind: 'original', index, copy: `Received: (qmail ${qp} invoked` };
        refusals.push({ recipient: s.recipient, report: `D${e.report}`, message: null, epoch: run.lastEpoch, identity });
      }
    }
  }
  return { refusals, deferred };
}

export function check(st: State, opts: MtaCrashOpts, rules: CopyRules = copyRules(st.w)): MtaCrashResult {
  const { w } = st;
  const violations: string[] = [...st.notes];
  const found = collect(st, rules, violations);
  const logs = fromLogs(st);
  for (const h of found.heldKeys) {
    if (!logs.deferred.has(`${h.id} ${h.address}`)) violations.push(`${h.where}: held for ${h.address} with no deferral logged`);
    if (w.remote === 'peers' && !h.address.endsWith(`@${unresolvedDomain}`)) violations.push(`${h.where}: still held for ${h.address}, whose peer is reachable`);
  }
  const peers = peerAttempts(w.peers, rules, violations);
  found.counts.peer = peers.kept;
  const controls = rewriteControls();
  const envelope = (m: (typeof w.submitted)[number]): { index: number; sender: string; recipients: string[] } => ({ index: m.index, sender: m.sender, recipients: m.recipients });
  const accepted = w.submitted.filter((m) => m.code === 0).map(envelope);
  const uncertain = w.submitted.filter((m) => m.code === null || m.code === undefined).map(envelope);
  // A refused submission (disk full, EIO: the catalogue's scenarios) has no failures to expect.
  const expected = w.submitted.filter((m) => m.code === 0 || m.code === null || m.code === undefined).flatMap((m) => m.recipients.filter((r) => rules.failureText(r) !== null).map((r): Attempt => ({
    recipient: r, report: `D${rules.failureText(r) ?? ''}`, message: null, epoch: 0, identity: { kind: 'original', index: m.index, copy: '(expected to fail)' },
  })));
  const attempts = [
    ...expected,
    ...attemptsOf(found.delivered, found.ids, found.held.map((h) => h.identity as Identity), (qp) => w.deliveryEpoch(qp), violations),
    ...found.held, ...logs.refusals, ...peers.attempts,
  ];
  const ledger = checkDeliveries({
    accepted, uncertain, attempts,
    ends: copyEnds(st.runs.map((r) => ({ run: r.lastEpoch, text: r.boot.log() }))),
    address: (r) => rewrite(r, controls).address,
    bounceName: (a) => stripVdomPrepend(a, controls.virtualdomains),
  });
  violations.push(...ledger.violations);
  for (const run of st.runs) {
    const text = run.boot.log();
    violations.push(...checkLog(run.crashed ? text.slice(0, text.lastIndexOf('\n') + 1) : text).violations);
  }
  violations.push(...w.rootDeliveries.map((r) => `a delivery as root: ${r}`));
  violations.push(...w.k.bugs.map((bug) => `program crashed: ${bug.argv.join(' ')}: ${bug.message}`));
  const refused = w.submitted.filter((m) => m.code !== 0 && m.code !== null && m.code !== undefined);
  if (refused.length > 0) violations.push(`qmail-queue refused ${refused.length} submissions (first: exit ${refused[0]?.code})`);
  return {
    seed: opts.seed, counts: ledger.counts, faults: st.faults, accepted: accepted.length, uncertain: uncertain.length,
    found: found.counts, peerWindow: { kept: peers.window, duplicates: windowDuplicates(peers, attempts, accepted) },
    peerActs: Object.fromEntries(w.peers.map((p) => [p.kind, { ...p.acts }])), restartsDelayed: st.restartsDelayed, checks: ledger.checks, violations,
    simMs: w.k.nowMs, events: w.k.eventsRun, traceHash: w.k.traceHash(),
  };
}

/** One line that replays a run (the test's replay case; qsim for large runs). */
export function mtaCrashReplay(o: MtaCrashOpts): string {
  const kinds = o.kinds === undefined ? '' : ` KINDS=${o.kinds.join(',')}`;
  const duration = o.durationMs === undefined ? '' : ` DURATION_MS=${o.durationMs}`;
  const remote = o.remote === undefined || o.remote === 'peers' ? '' : ` REMOTE=${o.remote}`;
  return `SEED=${o.seed} MESSAGES=${o.messages} FAULTS=${o.faults} PROFILE=${o.profile}${kinds}${duration}${remote} npx vitest run test/scenarios/mta-crash.test.ts -t replay`;
}

