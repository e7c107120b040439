// Scenario "net-crash": the whole MTA (mta-world.ts) with mail in and out over the simulated
// network (net-world.ts): clients send through qmail-smtpd --listen, qmail-rspawn delivers to
// scripted peers that accept, reject some recipients, greylist, hang, reset after the final dot or
// go dark (net-peers.ts). Faults strike at random points while traffic flows:
//   power                     a power loss under the run's crash profile (listeners, peers and
//                             clients die with it; queue-fix, boot, listeners and peers again);
//   kill-send, kill-todo, kill-lspawn, kill-clean, kill-rspawn
//                             SIGKILL to that daemon: qmail-start exits 111, supervise restarts it;
//   kill-smtpd                SIGKILL to one listener (its sessions die); restarted a second later;
//   kill-queued               SIGKILL to a listener's queue writer: its qmail-queued (the listener
//                             answers 451 for what was in flight and exits 111; restarted a second
//                             later), or, for listeners run as qmaild, a qmail-queue in flight.
// The listeners run as in production (listenAs root: each binds, starts one long-lived qmail-queued
// as qmailq and becomes qmaild), or as qmaild with a qmail-queue per message (listenAs qmaild).
// Then a healed phase (four virtual days: no outage, every retry), a clean restart, and the checks:
//   - every recipient of every message whose client read 250 after its final dot is delivered (a
//     local mailbox byte for byte, or kept by a peer: its bytes are the queued copy), bounced in
//     qmail's words (to the local sender, to postmaster, or kept by client.example's peer), or
//     held in the queue for remote.example, whose DNS never answers; never lost;
//   - a message whose final dot got no reply is uncertain: delivered or not, never in part; one
//     that was refused or never finished is never delivered;
//   - duplicates only across a fault (the 6.3 window) or after a peer kept a message without
//     answering (a reset or hang after the dot: qmail-remote's "Possible duplicate!"); each
//     counted, the second kind separately;
//   - the queue holds nothing else; every log line parses; no delivery as root; nothing crashed.
// The copies carry qmail-smtpd's Received line after qmail-queue's: it is checked and then set
// aside, so the mailbox checkers see the message as submitted (CopyRules.normalize).

import type { CrashProfile } from '../fs-api.ts';
import type { QmailBoot } from '../boot.ts';
import { mtaMe, remoteDomain } from './mta-world.ts';
import {
  boot, collect, current, fault as mtaFault, fromLogs, newState, nextEpoch, rewriteControls, runFor, snapshotMboxes, stop, unknownLocals, waitDown,
  type MtaFault, type State,
} from './mta-crash.ts';
import { clientDomain, clientProgram, netWorld, randomNetMail, fateOf, relayPort, smtpPort, type ListenAs, type NetWorld } from './net-world.ts';
import { rejectText, type PeerKind } from './net-peers.ts';
import { peerAttempts, windowDuplicates } from './peer-ledger.ts';
import { checkDeliveries, type Attempt, type LedgerCounts, type AcceptedMail } from '../checkers/delivery.ts';
import { checkLog, copyEnds } from '../checkers/send-state.ts';
import { attemptsOf, type CopyRules } from '../checkers/mailboxes.ts';
import { innermost, type Identity } from '../checkers/mail-identity.ts';
import { rewrite, stripVdomPrepend } from '../../impl/lib/rewrite.ts';
import { localText } from '../../spec/local.ts';
import type { Program } from '../../impl/sys/types.ts';
import type { HostFault } from '../net.ts';

export type NetFault = 'power' | 'kill-send' | 'kill-todo' | 'kill-lspawn' | 'kill-clean' | 'kill-rspawn' | 'kill-smtpd' | 'kill-queued';
export const netFaults: readonly NetFault[] = ['power', 'kill-send', 'kill-todo', 'kill-lspawn', 'kill-clean', 'kill-rspawn', 'kill-smtpd', 'kill-queued'];

export interface NetCrashOpts {
  seed: number;
  messages: number;
  faults: number;
  profile: CrashProfile;
  split?: number;
  kinds?: NetFault[];
  /** Replacement programs (a deliberately broken daemon, in tests). */
  override?: Record<string, Program>;
  /** How the listeners run (net-world.ts ListenAs); default root, through qmail-queued. */
  listenAs?: ListenAs;
}

export interface NetCrashResult {
  seed: number;
  counts: LedgerCounts;
  faults: Record<NetFault, number>;
  sent: { accepted: number; uncertain: number; refused: number; unsent: number };
  /** Uncertain messages that were queued after all (some copy of them arrived somewhere). */
  uncertainArrived: number;
  /** Copies kept by peers; of them kept without a 250 (reset or hang after the dot). */
  peerKept: number;
  peerWindow: number;
  /** Duplicate deliveries that follow a peer's unanswered keep (within counts.duplicateDeliveries). */
  windowDuplicates: number;
  /** What the peers did, summed over peers of a kind: act -> times. */
  acts: Record<PeerKind, Record<string, number>>;
  possibleDuplicateLogged: number;
  /** Messages qmail-queued processes reported queued (0 when the listeners run as qmaild), and the
   *  `info msg` lines of their qp named after one of them (rule 6 checks those) or not. */
  queued: { commits: number; named: number; unnamed: number };
  checks: number;
  violations: string[];
  simMs: number;
  events: number;
  traceHash: string;
}

const hourMs = 3_600_000;
const superviseDelayMs = 1000;
/** A listener whose qmail-queued died exits within queuedDeadGraceMs (1 s); this leaves room. */
const listenerExitMs = 10_000;
const clientSpreadMs = 30 * 60_000;
const healedMs = 4 * 24 * hourMs;
const outageFaults: readonly (HostFault | null)[] = [null, 'refuse', 'timeout', 'unreachable'];

interface NetState {
  st: State;
  nw: NetWorld;
  faults: Record<NetFault, number>;
}

/** The outage peer's host: reachable or not, per the scenario's draw; and while the outage is a
 *  refusal, accept.example's DNS fails too (a temporary failure: deferred, not bounced). */
function setOutage(ns: NetState, f: HostFault | null): void {
  const ip = ns.nw.ipOf.get('outage.example');
  if (ip !== undefined) ns.nw.k.net.setHostFault(ip, f);
  ns.nw.k.net.setDnsFailure('accept.example', f === 'refuse');
}

async function fault(ns: NetState, kind: NetFault, b: QmailBoot): Promise<QmailBoot> {
  const { st, nw } = ns;
  const { k } = nw;
  ns.faults[kind]++;
  if (kind === 'kill-smtpd' || kind === 'kill-queued') {
    const inFlight = nw.mails.filter((m) => m.waiting).map((m) => (m.relay ? relayPort : smtpPort));
    const port = st.rng.pick(inFlight.length > 0 ? inFlight : [smtpPort, relayPort]);
    if (kind === 'kill-queued') await killQueuer(ns, port);
    else {
      const h = nw.listeners.get(port);
      if (h !== undefined && h.status() === null) k.kill(h.pid, 'SIGKILL');
      await runFor(st, superviseDelayMs);
      nw.startListener(port);
    }
    return b;
  }
  if (kind === 'kill-rspawn') return killRspawn(ns, b);
  const next = await mtaFault(st, kind as MtaFault, b);
  if (kind === 'power') {
    nw.startPeers();
    for (const port of [smtpPort, relayPort]) nw.startListener(port);
    nw.resumeClients(st.rng, clientSpreadMs);
  }
  return next;
}

/** SIGKILL to the listener's queue writer. A listener's qmail-queued gone, the listener answers
 *  what was in flight (451) and exits 111 within a second or so; supervise starts it again a second
 *  later. A qmail-queue (listeners as qmaild) is per message: its session answers 451, the listener
 *  serves on. */
async function killQueuer(ns: NetState, port: number): Promise<void> {
  const { st, nw } = ns;
  const { k } = nw;
  const pids = nw.queuers(port);
  if (pids.length > 0) k.kill(st.rng.pick(pids), 'SIGKILL');
  if (nw.listenAs === 'qmaild') return;
  const h = nw.listeners.get(port);
  if (h === undefined) return;
  await k.run({ until: () => h.status() !== null, untilMs: k.nowMs + listenerExitMs });
  if (h.status() === null) {
    st.notes.push(`qmail-smtpd --listen on port ${port}: still running ${listenerExitMs} ms after its qmail-queued was killed`);
    k.kill(h.pid, 'SIGKILL');
  } else if (h.status()?.code !== 111) st.notes.push(`qmail-smtpd --listen on port ${port} exited ${JSON.stringify(h.status())} after its qmail-queued was killed, not 111`);
  await runFor(st, superviseDelayMs);
  nw.startListener(port);
}

/** As mta-crash's daemon kills, for qmail-rspawn (its in-process qmail-remotes die with it). */
async function killRspawn(ns: NetState, b: QmailBoot): Promise<QmailBoot> {
  const { st } = ns;
  const { k } = st.w;
  await k.run({ until: () => b.pids() !== null || b.status() !== null });
  const pid = b.pids()?.rspawn ?? null;
  if (pid !== null && k.procs.has(pid)) {
    k.kill(pid, 'SIGKILL');
    await waitDown(st, b, 'kill-rspawn');
    const s = b.status();
    if (s?.code !== 111) st.notes.push(`qmail-start exited ${JSON.stringify(s)} after kill-rspawn, not 111: ${b.stderr().slice(-500)}`);
  } else {
    await waitDown(st, b, 'kill-rspawn (nothing to kill)');
  }
  nextEpoch(st);
  return boot(st);
}

export async function runNetCrash(opts: NetCrashOpts): Promise<NetCrashResult> {
  const nw = await netWorld({ seed: opts.seed, profile: opts.profile, split: opts.split, override: opts.override, listenAs: opts.listenAs });
  const st = newState(nw.w);
  nw.logPlace = () => ({ log: st.runs.length - 1, offset: st.runs[st.runs.length - 1]?.boot.handle.output(1).length ?? 0 });
  const ns: NetState = { st, nw, faults: Object.fromEntries(netFaults.map((f) => [f, 0])) as Record<NetFault, number> };
  const kinds = opts.kinds ?? [...netFaults];
  const { k } = nw;
  nw.startPeers();
  let b = boot(st);
  for (const port of [smtpPort, relayPort]) nw.startListener(port);
  const perFault = Math.max(1, Math.floor(opts.messages / (opts.faults + 1)));
  let sent = 0;
  // Clients start spread over half an hour, so that faults strike sessions in flight.
  const sendSome = (n: number): void => {
    for (let i = 0; i < n && sent < opts.messages; i++, sent++) nw.send(randomNetMail(st.rng, nw), st.rng.int(clientSpreadMs));
  };
  // Faulty phase: traffic, an outage drawn per step, a fault at a random point.
  for (let f = 0; f < opts.faults; f++) {
    setOutage(ns, st.rng.pick(outageFaults));
    sendSome(perFault);
    if (st.rng.chance(0.3)) await runFor(st, st.rng.int(2 * hourMs));
    const kind = st.rng.pick(kinds);
    if (st.rng.chance(kind === 'power' || kind === 'kill-smtpd' || kind === 'kill-queued' ? 0.6 : 0.2)) {
      // Aimed: a client has sent its final dot and waits for the reply (qmail-queue at work).
      await k.run({ until: () => nw.mails.some((m) => m.waiting), untilMs: k.nowMs + hourMs });
      await k.run({ maxEvents: st.rng.int(12) });
    } else await k.run({ maxEvents: 1 + st.rng.int(perFault * 1500), untilMs: k.nowMs + st.rng.int(hourMs) });
    b = await fault(ns, kind, b);
  }
  // Healed phase: the rest of the traffic (an outage still possible while it flows), then none.
  setOutage(ns, opts.faults === 0 ? 'refuse' : st.rng.pick(outageFaults));
  sendSome(opts.messages);
  await runFor(st, 2 * hourMs);
  setOutage(ns, null);
  await runFor(st, healedMs);
  // A clean restart: each qmail-clean sweeps pid/ before its first command (one more message).
  await stop(st, b);
  nextEpoch(st);
  b = boot(st);
  nw.send({ sender: `c0@${clientDomain}`, recipients: [`m1@${mtaMe}`], relay: false, text: 'Subject: last\n\nlast\n' });
  await runFor(st, hourMs);
  await stop(st, b);
  current(st).lastEpoch = nw.w.epoch;
  snapshotMboxes(st);
  return check(ns, opts);
}

// ---- the checks ----

/** qmail-smtpd's Received line (two lines), which follows qmail-queue's in every copy. */
const smtpdReceivedRe = /\nReceived: from unknown \(HELO client\) \(10\.0\.2\.[12]\)\n {2}by 127\.0\.0\.1 with SMTP; ([1-9]|[12][0-9]|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] -0000\n/g;

const smtpdThenMessageRe = new RegExp(`${smtpdReceivedRe.source}X-Sim-Index: `, 'g');

/** The copy without qmail-smtpd's Received lines; every message in it (a bounce or forward wraps
 *  one) must have had its line, or the copy is marked so that its check fails. */
export function withoutSmtpdReceived(text: string): string {
  const messages = text.split('\nX-Sim-Index: ').length - 1;
  const received = (text.match(smtpdThenMessageRe) ?? []).length;
  const stripped = text.replace(smtpdReceivedRe, '\n');
  return messages === received ? stripped : `(a message without qmail-smtpd's Received line)\n${stripped}`;
}

function copyRules(ns: NetState): CopyRules {
  const { nw } = ns;
  const rejectIp = nw.ipOf.get('reject.example') ?? '';
  return {
    me: mtaMe,
    doubleBounceTo: `postmaster@${mtaMe}`,
    original: (i) => {
      const m = nw.mails[i];
      return m === undefined ? null : { body: m.body, sender: m.sender };
    },
    failureText: (r) => {
      if (unknownLocals.some((u) => r === `${u}@${mtaMe}`)) return `${localText.noMailbox}\n`;
      if (/^bad[0-9]*@reject\.example$/.test(r)) return `${rejectIp} does not like recipient.\nRemote host said: ${rejectText.trimEnd()}\nGiving up on ${rejectIp}.\n`;
      return null;
    },
    normalize: withoutSmtpdReceived,
  };
}

function check(ns: NetState, opts: NetCrashOpts): NetCrashResult {
  const { st, nw } = ns;
  const violations: string[] = [...st.notes];
  const rules = copyRules(ns);
  const found = collect(st, rules, violations);
  const logs = fromLogs(st);
  for (const h of found.heldKeys) {
    if (!logs.deferred.has(`${h.id} ${h.address}`)) violations.push(`${h.where}: held for ${h.address} with no deferral logged`);
    if (!h.address.endsWith(`@${remoteDomain}`)) violations.push(`${h.where}: still held for ${h.address}, whose peer is reachable`);
  }
  const peers = peerAttempts(nw.peers, rules, violations);
  const envelope = (m: (typeof nw.mails)[number]): AcceptedMail => ({ index: m.index, sender: m.sender, recipients: m.rcptOk });
  const fates = nw.mails.map(fateOf);
  const accepted = nw.mails.filter((_, i) => fates[i] === 'accepted').map(envelope);
  const uncertain = nw.mails.filter((_, i) => fates[i] === 'uncertain').map(envelope);
  const expected = [...accepted, ...uncertain].flatMap((m) => m.recipients.filter((r) => rules.failureText(r) !== null).map((r): Attempt => ({
    recipient: r, report: `D${rules.failureText(r) ?? ''}`, message: null, epoch: 0, identity: { kind: 'original', index: m.index, copy: '(expected to fail)' },
  })));
  const controls = rewriteControls();
  const attempts = [
    ...expected,
    ...attemptsOf(found.delivered, found.ids, found.held.map((h) => h.identity as Identity), (qp) => nw.w.deliveryEpoch(qp), violations),
    ...found.held, ...peers.attempts,
  ];
  const ledger = checkDeliveries({
    accepted, uncertain, attempts,
    ends: copyEnds(st.runs.map((r) => ({ run: r.lastEpoch, text: r.boot.log() })), nw.queued.instanceOf),
    address: (r) => rewrite(r, controls).address,
    bounceName: (a) => stripVdomPrepend(a, controls.virtualdomains),
  });
  violations.push(...ledger.violations);
  const arrived = new Set(attempts.filter((a) => a.report === 'K' || a.report === 'H').map((a) => (a.identity === undefined ? null : innermost(a.identity))));
  let possibleDuplicateLogged = 0;
  for (const run of st.runs) {
    const text = run.boot.log();
    possibleDuplicateLogged += text.split('Possible_duplicate!').length - 1;
    violations.push(...checkLog(run.crashed ? text.slice(0, text.lastIndexOf('\n') + 1) : text).violations);
  }
  violations.push(...intakeProblems(nw), ...nw.queued.problems);
  violations.push(...nw.w.rootDeliveries.map((r) => `a delivery as root: ${r}`));
  violations.push(...nw.k.bugs.map((bug) => `program crashed: ${bug.argv.join(' ')}: ${bug.message}`));
  return {
    seed: opts.seed, counts: ledger.counts, faults: ns.faults,
    sent: {
      accepted: accepted.length, uncertain: uncertain.length,
      refused: fates.filter((f) => f === 'refused').length, unsent: fates.filter((f) => f === 'unsent').length,
    },
    uncertainArrived: uncertain.filter((m) => arrived.has(m.index)).length,
    peerKept: peers.kept, peerWindow: peers.window, windowDuplicates: windowDuplicates(peers, attempts, accepted),
    acts: actsByKind(nw), possibleDuplicateLogged, queued: { commits: nw.queued.count, named: nw.queued.named, unnamed: nw.queued.unnamed }, checks: ledger.checks, violations,
    simMs: nw.k.nowMs, events: nw.k.eventsRun, traceHash: nw.k.traceHash(),
  };
}

/** The intake side: both listeners still serve, no client still waits for a reply, and none gave up
 *  (a listener is down for a second after a kill, or until the boot after a power loss). */
function intakeProblems(nw: NetWorld): string[] {
  const out: string[] = [];
  for (const [port, h] of nw.listeners) if (h.status() !== null) out.push(`qmail-smtpd --listen on port ${port} ended: ${JSON.stringify(h.status())}`);
  const waiting = [...nw.k.procs.values()].filter((p) => p.argv[0] === clientProgram);
  if (waiting.length > 0) out.push(`${waiting.length} SMTP clients still waiting at the end (first: message ${waiting[0]?.argv[1]})`);
  for (const m of nw.mails) if (m.gaveUp) out.push(`message ${m.index}: its client gave up, the listener refused it for minutes`);
  return out;
}

function actsByKind(nw: NetWorld): Record<PeerKind, Record<string, number>> {
  const out = {} as Record<PeerKind, Record<string, number>>;
  for (const p of nw.peers) {
    const acc = (out[p.kind] ??= {});
    for (const [act, n] of Object.entries(p.acts)) acc[act] = (acc[act] ?? 0) + n;
  }
  return out;
}

/** One line that replays a run. */
export function netCrashReplay(o: NetCrashOpts): string {
  const kinds = o.kinds === undefined ? '' : ` KINDS=${o.kinds.join(',')}`;
  const listenAs = o.listenAs === undefined || o.listenAs === 'root' ? '' : ` LISTEN_AS=${o.listenAs}`;
  return `SEED=${o.seed} MESSAGES=${o.messages} FAULTS=${o.faults} PROFILE=${o.profile}${kinds}${listenAs} npx vitest run test/scenarios/net-crash.test.ts -t replay`;
}
