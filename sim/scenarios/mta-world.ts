// A simulated world for the whole MTA with the real local channel: qmail installed, booted by the
// real qmail-start (sim/boot.ts) with qmail-send, todo-proc, two qmail-cleans, the real
// qmail-lspawn with its delivery workers and the real qmail-rspawn, whose remote host never
// resolves (a temporary DNS failure: every remote delivery is deferred and stays queued).
//
// Users and what their mail does:
//   m1..mN   Maildir (qmail-start's ./Maildir/ default delivery)
//   b1, b2   mbox: .qmail is ./Mailbox
//   p1, p2   |sim-mail-sink, a program that reads its message and records it outside the world
//   f1       &m1@sim.example;   f2   &m2@sim.example and &f2-away@remote.example (one copy, two
//            recipients: one delivered, one held)
//   postmaster (alias/.qmail-postmaster: ./Maildir/ in ~alias) receives double bounces
//   nosuch*  no such user: qmail-local's "Sorry, no mailbox here by that name." bounce
// Clients queue through the real qmail-queue (setuid qmailq) as an ordinary user. Every message
// carries `X-Sim-Index: N` first (send-world.ts bodyOf), some of its lines quoted by mbox rules.
//
// From outside, the world watches every spawn (trace observe): which process started which, in
// which epoch (the scenario's count of faults so far), and as which uid; so a maildir file (its
// name carries the delivering pid), a program's run and a forward's qmail-queue are each put in
// the epoch of the delivery worker that made them, and a delivery as root is seen.

import { Kernel } from '../kernel.ts';
import { installQmail, simIds, type Installation } from '../install.ts';
import type { CrashProfile } from '../fs-api.ts';
import { bootQmail, type QmailBoot } from '../boot.ts';
import { addLocalUser, userFile, usersGid, type LocalUser } from './lspawn-world.ts';
import { bodyOf, type Mail } from './send-world.ts';
import { queueMessage } from '../../impl/shared/qq-client.ts';
import { latin1Bytes } from '../../impl/lib/latin1.ts';
import type { Program } from '../../impl/sys/types.ts';
import type { SpawnHandle } from '../world.ts';
import { addPeers, startPeers, type NetPeer, type PeerSite } from './net-peers.ts';

export const mtaMe = 'sim.example';
export const remoteDomain = 'remote.example';
export const sinkProgram = 'sim-mail-sink';
/** In the peers world, the one remote domain whose DNS always fails (its mail is held). */
export const unresolvedDomain = 'unresolved.example';
export type RemoteMode = 'unresolved' | 'peers';
/** The peers world's remote domains, each with its peer's behaviour. */
export const mtaPeerSites: readonly PeerSite[] = [
  { domain: remoteDomain, kind: 'accept' },
  { domain: 'reject.example', kind: 'reject' },
  { domain: 'greylist.example', kind: 'greylist' },
  { domain: 'reset.example', kind: 'reset' },
];
const submitProgram = 'sim-submit-mail';
const submitterUid = 1000;
/** 30 days. */
export const queuelifetimeSec = 2_592_000;
/** Processes that deliver (and all they start): never root. */
const deliveryPrograms: ReadonlySet<string> = new Set(['qmail-local-worker', 'qmail-local']);

export interface MtaWorldOpts {
  seed: number;
  profile: CrashProfile;
  split?: number;
  maildirUsers?: number;
  keepTraceLines?: number;
  /** Replace installed programs' mains (a deliberately broken daemon, in tests). */
  override?: Record<string, Program>;
  /** Where remote mail goes (see above); default unresolved. */
  remote?: RemoteMode;
}

export interface Submitted extends Mail {
  index: number;
  body: Uint8Array;
  handle: SpawnHandle;
  /** qmail-queue's exit code once the client ended (0 = accepted), null if cut off by a power loss. */
  code: number | null | undefined;
}

export interface SinkRecord {
  pid: number;
  uid: number;
  euid: number;
  recipient: string;
  dtLine: string;
  rpLine: string;
  bytes: Uint8Array;
}

interface Spawned {
  parent: number;
  program: string;
  arg1: string;
  epoch: number;
}

export interface MtaUsers {
  maildir: LocalUser[];
  mbox: LocalUser[];
  program: LocalUser[];
  forward: LocalUser[];
  /** ~alias, for postmaster. */
  alias: LocalUser;
}

export class MtaWorld {
  /** Faults so far: a new epoch starts at each boot after a fault and at each worker kill. */
  epoch = 1;
  readonly submitted: Submitted[] = [];
  readonly sinks: SinkRecord[] = [];
  /** Deliveries (or their children) started as root: violations. */
  readonly rootDeliveries: string[] = [];
  /** The scripted SMTP peers (the peers world; none when remote mail never resolves). */
  readonly peers: NetPeer[] = [];
  /** domain -> its peer's address. */
  readonly ipOf = new Map<string, string>();
  remote: RemoteMode = 'unresolved';
  private readonly spawned = new Map<number, Spawned>();
  private submitterUid = 0;

  constructor(
    readonly k: Kernel,
    readonly inst: Installation,
    readonly users: MtaUsers,
  ) {}

  /** qmail-start as rc runs it: ./Maildir/ by default, the log on its fd 1. */
  boot(): QmailBoot {
    return bootQmail(this.k, this.inst, { defaultDelivery: './Maildir/' });
  }

  /** Starts (again) every peer's process: before the first boot and after each power loss. */
  startPeers(): void {
    startPeers(this.k, this.peers);
  }

  /** Queues a message through qmail-queue as an ordinary user; the client runs as the world runs. */
  submit(mail: Mail): Submitted {
    const index = this.submitted.length;
    const handle = this.k.spawn(`${this.inst.home}/bin/${submitProgram}`, [submitProgram, String(index)], { uid: this.submitterUid, gid: usersGid });
    const s: Submitted = { ...mail, index, body: bodyOf(index, mail), handle, code: undefined };
    this.submitted.push(s);
    void handle.wait().then((st) => (s.code = st.code));
    return s;
  }

  /** Live delivery processes (workers, qmail-local runs), old runs' orphans included. */
  deliveryPids(): number[] {
    return [...this.k.procs.values()].filter((p) => deliveryPrograms.has(p.argv[0] ?? '')).map((p) => p.pid);
  }

  /** The epoch of the delivery process that is pid or started it (null: not from a delivery). */
  deliveryEpoch(pid: number): number | null {
    for (let p = this.spawned.get(pid), n = 0; p !== undefined && n < 64; p = this.spawned.get(p.parent), n++) {
      if (deliveryPrograms.has(p.program)) return p.epoch;
    }
    return null;
  }

  /** Which submission a qmail-queue pid (`qp`) belongs to: one started by the submitting client. */
  submissionOf(qp: number): number | null {
    const q = this.spawned.get(qp);
    const parent = q === undefined ? undefined : this.spawned.get(q.parent);
    return q?.program === 'qmail-queue' && parent?.program === submitProgram ? Number(parent.arg1) : null;
  }

  /** For the trace's observe: every spawn, with its parent, program, uid and the epoch now. */
  observe(pid: number, event: string, fields: Readonly<Record<string, unknown>> | undefined): void {
    if (event !== 'proc.spawn' || fields === undefined) return;
    const child = fields['child'] as number;
    const program = String(fields['program']);
    const argv = fields['argv'] as readonly string[];
    this.spawned.set(child, { parent: pid, program, arg1: argv[1] ?? '', epoch: this.epoch });
    const fromDelivery = deliveryPrograms.has(program) || this.deliveryEpoch(pid) !== null;
    if (fromDelivery && (fields['uid'] === 0 || fields['euid'] === 0)) {
      this.rootDeliveries.push(`${program} (pid ${child}, parent ${pid}) started as uid ${String(fields['uid'])} euid ${String(fields['euid'])}`);
    }
  }

  setSubmitter(uid: number): void {
    this.submitterUid = uid;
  }
}

export async function mtaWorld(opts: MtaWorldOpts): Promise<MtaWorld> {
  let world: MtaWorld | null = null;
  const k = new Kernel({
    seed: opts.seed, profile: opts.profile, pidMax: 4_000_000,
    trace: { syscalls: false, keepLines: opts.keepTraceLines ?? 2000, observe: (pid, event, fields) => world?.observe(pid, event, fields) },
  });
  const inst = await installQmail(k, { split: opts.split ?? 7, override: opts.override });
  const root = { uid: 0, gid: 0, mode: 0o644 };
  k.writeFile(`${inst.home}/control/locals`, `${mtaMe}\n`, root);
  // Remote mail must still be queued at the end of a run of several virtual days: not bounced as
  // too old (qmail's default is 7 days).
  k.writeFile(`${inst.home}/control/queuelifetime`, `${queuelifetimeSec}\n`, root);
  const users = addUsers(k, inst, opts.maildirUsers ?? 6);
  const w = new MtaWorld(k, inst, users);
  world = w;
  w.remote = opts.remote ?? 'unresolved';
  if (w.remote === 'unresolved') {
    // Every remote delivery meets a temporary DNS failure: deferred, retried, kept.
    k.net.setDnsFailure(remoteDomain, true);
  } else {
    k.net.setDnsFailure(unresolvedDomain, true);
    const rng = k.prng('peer-odds');
    const odds = { hangGreeting: 0, hangRcpt: 0, afterDot: 0.05 + 0.15 * rng.float() };
    const { peers, ipOf } = addPeers(k, mtaPeerSites, odds, () => w.epoch);
    w.peers.push(...peers);
    for (const [domain, ip] of ipOf) w.ipOf.set(domain, ip);
  }
  installPrograms(k, inst, w);
  // The submitting user, like install.ts addSubmitters' (whose group `users` is already made).
  k.users.addUser({ name: 'user1', uid: submitterUid, gid: usersGid, home: '/home/user1' });
  w.setSubmitter(submitterUid);
  return w;
}

function addUsers(k: Kernel, inst: Installation, maildirCount: number): MtaUsers {
  k.users.addGroup('users', usersGid);
  k.mkdirs('/home', { uid: 0, gid: 0, mode: 0o755 });
  let uid = 2001;
  const add = (name: string): LocalUser => addLocalUser(k, name, uid++);
  const maildir = Array.from({ length: maildirCount }, (_, i) => add(`m${i + 1}`));
  const mbox = ['b1', 'b2'].map(add);
  const program = ['p1', 'p2'].map(add);
  const forward = ['f1', 'f2'].map(add);
  for (const u of mbox) userFile(k, u, '.qmail', './Mailbox\n');
  for (const u of program) userFile(k, u, '.qmail', `|${sinkProgram}\n`);
  userFile(k, forward[0] as LocalUser, '.qmail', `&m1@${mtaMe}\n`);
  userFile(k, forward[1] as LocalUser, '.qmail', `&m2@${mtaMe}\n&f2-away@${remoteDomain}\n`);
  // postmaster, for double bounces: ~alias/.qmail-postmaster delivers to ~alias/Maildir/.
  const alias: LocalUser = { name: 'alias', uid: simIds.users.alias, gid: simIds.groups.qmail, home: `${inst.home}/alias` };
  for (const d of ['Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) k.mkdirs(`${alias.home}/${d}`, { uid: alias.uid, gid: alias.gid, mode: 0o700 });
  k.writeFile(`${alias.home}/.qmail-postmaster`, './Maildir/\n', { uid: alias.uid, gid: alias.gid, mode: 0o644 });
  return { maildir, mbox, program, forward, alias };
}

function installPrograms(k: Kernel, inst: Installation, w: MtaWorld): void {
  const install = (name: string, path: string, main: Program): void => {
    k.programs.register(name, main);
    k.install(path, name, { uid: 0, gid: 0, mode: 0o755 });
  };
  install(submitProgram, `${inst.home}/bin/${submitProgram}`, async (sys) => {
    const m = w.submitted[Number(sys.proc.self.argv[1])];
    if (m === undefined) return 100;
    const envelope = { sender: latin1Bytes(m.sender), recipients: m.recipients.map(latin1Bytes) };
    const r = await queueMessage(sys, m.body, envelope, { home: inst.home, env: {} });
    return r.status?.code ?? 111;
  });
  // A |program delivery's other end: it keeps what it was fed, outside the world, and says yes.
  install(sinkProgram, `/usr/bin/${sinkProgram}`, async (sys) => {
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65_536);
    for (;;) {
      const n = await sys.fs.read(0, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.slice(0, n));
    }
    const self = sys.proc.self;
    const env = self.env;
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.length;
    }
    w.sinks.push({ pid: self.pid, uid: self.uid, euid: self.euid, recipient: env['RECIPIENT'] ?? '', dtLine: env['DTLINE'] ?? '', rpLine: env['RPLINE'] ?? '', bytes });
    return 0;
  });
}
