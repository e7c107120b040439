// The user-facing world: the whole MTA booted in the simulator (scenarios/mta-world.ts: the real
// qmail-start, qmail-send, todo-proc, qmail-cleans, qmail-lspawn and its workers, qmail-rspawn
// whose remote host never resolves), driven one step at a time by a user's own test:
//
//   const world = await createWorld({ seed: 1 });
//   await world.addUser('alice', { kind: 'mbox' });
//   const sent = await world.inject({ sender: 'bob@remote.example', recipients: ['alice@sim.example'] });
//   await world.runUntilIdle();
//   world.mailbox('alice');                    // [{ sender: 'bob@remote.example', ... }]
//   await world.crash(); await world.settle(); // after faults: heal, 36 h, clean restart
//   expect(world.check().violations).toEqual([]);
//
// Every step reuses the mta-crash scenario's own (scenarios/mta-crash.ts): crash() is its power
// loss under the crash profile, queue-fix and a new boot; kill() is its kill -9 of a daemon and
// supervise's restart; check() is its end-of-run check (the delivery ledger, the mailboxes byte for
// byte, the queue, every log line, no delivery as root, no program crashed) plus the queue-state
// checker. The same seed and the same steps give the same trace.

import type { CrashProfile } from './fs-api.ts';
import type { QmailBoot } from './boot.ts';
import type { Program } from '../impl/sys/types.ts';
import { mtaWorld, mtaMe, remoteDomain, sinkProgram, type MtaWorld, type Submitted } from './scenarios/mta-world.ts';
import {
  boot, check as checkRun, copyRules, current, fault, newState, nextEpoch, runFor, snapshotMboxes, stop,
  type MtaCrashResult, type MtaFault, type State,
} from './scenarios/mta-crash.ts';
import { addLocalUser, userFile, type LocalUser } from './scenarios/lspawn-world.ts';
import type { Mail } from './scenarios/send-world.ts';
import { mboxEntries, parseMaildirFile } from './checkers/mailboxes.ts';
import { identify, innermost } from './checkers/mail-identity.ts';
import { checkQueue, type QueueReport } from './checkers/queue-state.ts';
import { checkLog, queueLeftovers } from './checkers/send-state.ts';
import type { LogEvent } from '../spec/log.ts';
import { localText } from '../spec/local.ts';
import { messagePath } from '../spec/queue.ts';
import { ossifiedMs } from '../spec/limits.ts';
import { latin1 } from '../impl/lib/latin1.ts';

export { mtaMe, remoteDomain };
export type { Mail };

export interface WorldOpts {
  seed: number;
  /** The file system's crash profile (default posix: unsynced data may be lost at crash()). */
  profile?: CrashProfile;
  split?: number;
  /** Replace installed programs' mains (a deliberately broken daemon or worker). */
  override?: Record<string, Program>;
}

/** What a user's .qmail does (dotQmailText writes it). */
export type DotQmail =
  | { kind: 'maildir' }
  | { kind: 'mbox' }
  /** A program that reads the message and exits with this code: 0 and 99 deliver (99: stop),
   *  100 bounces, 111 defers. Delivered copies are recorded (mailbox() shows them). */
  | { kind: 'program'; exit: 0 | 99 | 100 | 111 }
  | { kind: 'forward'; to: string[] };

export type Daemon = 'send' | 'todo' | 'lspawn' | 'clean' | 'worker';
export const daemons: readonly Daemon[] = ['send', 'todo', 'lspawn', 'clean', 'worker'];

export interface Injected {
  /** The message's X-Sim-Index (the ledger's name for it). */
  index: number;
  /** qmail-queue's exit code (0: accepted). */
  code: number | null;
}

/** A message as found in a mailbox. */
export interface MailboxMessage {
  kind: 'maildir' | 'mbox' | 'program';
  where: string;
  /** Return-Path. */
  sender: string;
  /** Delivered-To. */
  recipient: string;
  /** The queued copy: qmail-queue's Received line, then the message. */
  text: string;
  /** The submitted message it is (or bounces, or forwards), by inject()'s index; null if none. */
  index: number | null;
  kindOfCopy: 'original' | 'forward' | 'bounce' | 'unknown';
}

export interface QueueView {
  /** The queue-state checker's report (queued, preprocessed, leftovers, pid files, violations). */
  report: QueueReport;
  /** Every file in the queue's message directories. */
  files: string[];
  /** Files that mean local work is left (see runUntilIdle). */
  busy: string[];
}

export interface LogLine {
  /** Which boot (1, 2, ...) logged it. */
  run: number;
  event: LogEvent;
}

export interface WorldCheck {
  violations: string[];
  counts: MtaCrashResult['counts'];
  found: MtaCrashResult['found'];
  faults: Record<MtaFault, number>;
  accepted: number;
  traceHash: string;
}

/** The program a `program` .qmail runs: records a delivered copy (exit 0 or 99) like
 *  mta-world.ts's sink; 100 and 111 need no copy, the shell's `exit` says them. */
const exitSink = 'sim-exit-sink';
const hourMs = 3_600_000;
const firstUid = 3001;
const idleStepMaxMs = hourMs;

/** The text of a .qmail file for a DotQmail. */
export function dotQmailText(d: DotQmail): string {
  switch (d.kind) {
    case 'maildir':
      return './Maildir/\n';
    case 'mbox':
      return './Mailbox\n';
    case 'program':
      return d.exit === 0 ? `|${sinkProgram}\n` : d.exit === 99 ? `|${exitSink} 99\n` : `|exit ${d.exit}\n`;
    case 'forward':
      return d.to.map((a) => `&${a}\n`).join('');
  }
}

/** The message settle() injects after its restart. */
export const sentinelMail: Mail = { sender: `sender@${remoteDomain}`, recipients: [`m1@${mtaMe}`], text: 'Subject: sentinel\n\nsettled\n' };

/** What a recipient whose .qmail is `|exit 100` is bounced with (qmail-local prints nothing). */
export const programFailureText = '';

export class World {
  private b: QmailBoot;
  private nextUid = firstUid;
  /** Addresses that may bounce, with the failure text their bounce block must carry. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly st: State) {
    this.b = boot(st);
  }

  /** The underlying MtaWorld (kernel, installation, submissions) for checks of your own. */
  get mta(): MtaWorld {
    return this.st.w;
  }

  /** Virtual ms since the world started. */
  get nowMs(): number {
    return this.st.w.k.nowMs;
  }

  /** Faults so far (power losses and kills). */
  get faults(): Record<MtaFault, number> {
    return { ...this.st.faults };
  }

  /** Local user names (m1..m6, b1, b2, p1, p2, f1, f2 at first; see mta-world.ts). */
  users(): string[] {
    return this.all().map((u) => u.name);
  }

  /** Queues a message through the real qmail-queue as an ordinary user and runs the world until
   *  the client has exited (the daemons run meanwhile). */
  async inject(mail: Mail): Promise<Injected> {
    const s: Submitted = this.st.w.submit(mail);
    await this.st.w.k.run({ until: () => s.code !== undefined, untilMs: this.nowMs + hourMs });
    return { index: s.index, code: s.code ?? null };
  }

  /** A new local user with a home, an empty Maildir and (unless `default`) a .qmail. */
  addUser(name: string, box: DotQmail | { kind: 'default' } = { kind: 'default' }): void {
    if (this.st.w.k.users.getpwnam(name) !== null) throw new Error(`world: user ${name} exists`);
    if (!/^[a-z][a-z0-9]*$/.test(name)) throw new Error(`world: user name ${JSON.stringify(name)}: lower-case letters and digits only`);
    const u = addLocalUser(this.st.w.k, name, this.nextUid++);
    // Every user is looked for in every kind of mailbox: a .qmail may change at any time.
    for (const list of [this.st.w.users.maildir, this.st.w.users.mbox, this.st.w.users.program]) list.push(u);
    if (box.kind !== 'default') this.setDotQmail(name, '', dotQmailText(box));
  }

  /** Writes ~user/.qmail (ext '') or ~user/.qmail-ext, owned by the user, at once and durably.
   *  A line `|exit 100` makes the address one that may bounce (check() knows its text). */
  setDotQmail(user: string, ext: string, text: string): void {
    const u = this.user(user);
    userFile(this.st.w.k, u, ext === '' ? '.qmail' : `.qmail-${ext}`, text);
    const address = `${ext === '' ? user : `${user}-${ext}`}@${mtaMe}`;
    if (text.split('\n').some((l) => /^\|exit 100 *$/.test(l))) this.failures.set(address, programFailureText);
  }

  /** Declares that `address` may bounce, with this failure text (a .qmail of your own). */
  mayFail(address: string, text: string): void {
    this.failures.set(address, text);
  }

  /** Power loss under the profile, queue-fix, boot again. */
  async crash(): Promise<void> {
    this.b = await fault(this.st, 'power', this.b);
  }

  /** kill -9 of a daemon (qmail-start exits 111; restarted as supervise does), or of a delivery
   *  worker (nothing happens when none runs). */
  async kill(daemon: Daemon): Promise<void> {
    this.b = await fault(this.st, `kill-${daemon}`, this.b);
  }

  /** TERM to qmail-start once qmail-send is up (its first log line: like qmail's, qmail-send
   *  catches TERM only after reading its controls), then boot again (a clean restart: each
   *  qmail-clean sweeps pid/ before its first command). */
  async restart(): Promise<void> {
    const b = this.b;
    await this.st.w.k.run({ until: () => (b.pids() !== null && b.log().includes('\n')) || b.status() !== null });
    await stop(this.st, this.b);
    nextEpoch(this.st);
    this.b = boot(this.st);
  }

  /** Lets virtual time pass, the MTA running. */
  async advance(ms: number): Promise<void> {
    await runFor(this.st, ms);
  }

  /** Runs until no local work is left (queue() busy is empty, no delivery or client runs), at
   *  most limitMs; true if it got there. */
  async runUntilIdle(limitMs = 4 * 24 * hourMs): Promise<boolean> {
    const end = this.nowMs + limitMs;
    for (let step = 1000; ; step = Math.min(2 * step, idleStepMaxMs)) {
      if (this.idle()) return true;
      if (this.nowMs >= end) return false;
      await this.st.w.k.run({ untilMs: Math.min(end, this.nowMs + step) });
    }
  }

  /** Before check(): runs to idle (at most 4 days), lets qmail's 36 hours pass (so that qmail-clean
   *  sweeps the pid/ files a power loss left), restarts cleanly and injects one more message
   *  (sentinelMail: each qmail-clean sweeps before its first command), then runs to idle again.
   *  Returns what did not settle (empty: all did) and the extra message. */
  async settle(): Promise<{ problems: string[]; sentinel: Injected }> {
    const problems: string[] = [];
    if (!(await this.runUntilIdle())) problems.push(`not idle after 4 days: ${this.queue().busy.slice(0, 5).join(' ')}`);
    await this.advance(ossifiedMs + hourMs);
    await this.restart();
    const sentinel = await this.inject(sentinelMail);
    if (sentinel.code !== 0) problems.push(`the sentinel message, after the restart: qmail-queue exited ${sentinel.code}`);
    if (!(await this.runUntilIdle(hourMs))) problems.push(`not idle an hour after the restart: ${this.queue().busy.slice(0, 5).join(' ')}`);
    return { problems, sentinel };
  }

  /** The messages in a user's Maildir/new, Mailbox and program runs, in that order. */
  mailbox(user: string): MailboxMessage[] {
    const u = this.user(user);
    const { k, sinks } = this.st.w;
    const out: MailboxMessage[] = [];
    const dir = `${u.home}/Maildir/new`;
    for (const name of (k.fs.peekDir(dir) ?? []).sort()) {
      const d = parseMaildirFile(`${dir}/${name}`, k.fs.peekFile(`${dir}/${name}`) ?? new Uint8Array(0), 0);
      if (typeof d !== 'string') out.push(message('maildir', d.where, d.sender, d.recipient, latin1(d.mess)));
    }
    const mbox = k.fs.peekFile(`${u.home}/Mailbox`);
    mboxEntries(mbox === null ? '' : latin1(mbox)).forEach((e, i) => {
      if (e.parsed !== null) out.push(message('mbox', `${u.home}/Mailbox#${i}`, e.parsed.sender, e.parsed.recipient, e.parsed.mess));
    });
    sinks.forEach((r, i) => {
      if (r.uid !== u.uid) return;
      const rp = /^Return-Path: <([^\n]*)>\n$/.exec(r.rpLine)?.[1] ?? '';
      out.push(message('program', `program run ${i}`, rp, r.recipient, latin1(r.bytes)));
    });
    return out;
  }

  /** What is in the queue now. */
  queue(): QueueView {
    const { k, inst } = this.st.w;
    return { report: checkQueue(k.fs, inst.queue), files: queueLeftovers(k.fs, inst.queue), busy: this.busyFiles() };
  }

  /** Every activity log line of every boot so far, parsed (lines that do not parse are left out;
   *  check() reports them). */
  log(): LogLine[] {
    return this.st.runs.flatMap((r, i) => checkLog(completeLines(r.boot.log())).events.map((event) => ({ run: i + 1, event })));
  }

  /** Cheap invariants that hold at any moment: no program crashed, no delivery as root, every
   *  complete log line parses, the queue-state checker is content. */
  stepViolations(): string[] {
    const { k, rootDeliveries } = this.st.w;
    return [
      ...k.bugs.map((bug) => `program crashed: ${bug.argv.join(' ')}: ${bug.message}`),
      ...rootDeliveries.map((r) => `a delivery as root: ${r}`),
      ...this.st.runs.flatMap((r) => checkLog(completeLines(r.boot.log())).violations),
      ...this.queue().report.violations,
      ...this.st.notes,
    ];
  }

  /** The full check, meant after settle() (or runUntilIdle() when no power was lost): every
   *  accepted recipient delivered byte for byte, bounced in qmail's words, or (remote) still
   *  queued with its deferrals logged; duplicates only across faults; nothing else queued; every
   *  log line parses; no delivery as root; no program crashed; the queue-state checker content. */
  check(): WorldCheck {
    const { w } = this.st;
    current(this.st).lastEpoch = w.epoch;
    snapshotMboxes(this.st);
    const rules = { ...copyRules(w), failureText: (r: string) => this.failureText(r) };
    const r = checkRun(this.st, { seed: w.k.seed, messages: w.submitted.length, faults: 0, profile: w.k.fs.profile }, rules);
    const violations = [...r.violations, ...this.queue().report.violations];
    return { violations, counts: r.counts, found: r.found, faults: r.faults, accepted: r.accepted, traceHash: r.traceHash };
  }

  private all(): LocalUser[] {
    const { maildir, mbox, program, forward } = this.st.w.users;
    return [...new Set([...maildir, ...mbox, ...program, ...forward])];
  }

  private user(name: string): LocalUser {
    const u = this.all().find((x) => x.name === name);
    if (u === undefined) throw new Error(`world: no local user ${name}`);
    return u;
  }

  /** The failure text a recipient may be bounced with: a declared one, or qmail-local's "no
   *  mailbox" for a local part that is no user (an extension without its .qmail file included). */
  private failureText(recipient: string): string | null {
    const declared = this.failures.get(recipient);
    if (declared !== undefined) return declared;
    const at = recipient.lastIndexOf('@');
    if (recipient.slice(at + 1) !== mtaMe || at < 0) return null;
    const local = recipient.slice(0, at);
    if (local === 'postmaster') return null;
    const u = this.all().find((x) => x.name === local.split('-')[0]);
    const ext = local.includes('-') ? local.slice(local.indexOf('-') + 1) : '';
    if (u === undefined || (ext !== '' && this.st.w.k.fs.peekFile(`${u.home}/.qmail-${ext}`) === null)) return `${localText.noMailbox}\n`;
    return null;
  }

  private idle(): boolean {
    const { w } = this.st;
    return this.busyFiles().length === 0 && w.deliveryPids().length === 0 && w.submitted.every((s) => s.code !== undefined);
  }

  /** Queue files that mean work: anything but pid/ files and the info, remote, mess, bounce and
   *  intd files of a message held only for its remote recipients (an intd/ID can outlive its
   *  todo/ID across a power loss: qmail-clean syncs both directories at once). */
  private busyFiles(): string[] {
    const { k, inst } = this.st.w;
    const q = inst.queue;
    const held = (id: number): boolean => k.fs.peekFile(`${q.dir}/${messagePath('remote', id, q)}`) !== null && k.fs.peekFile(`${q.dir}/${messagePath('local', id, q)}`) === null;
    return queueLeftovers(k.fs, q).filter((path) => {
      const [dir] = path.slice(q.dir.length + 1).split('/');
      if (dir === 'pid') return false;
      return !(['info', 'remote', 'mess', 'bounce', 'intd'].includes(dir ?? '') && held(Number(path.slice(path.lastIndexOf('/') + 1))));
    });
  }
}

function message(kind: MailboxMessage['kind'], where: string, sender: string, recipient: string, text: string): MailboxMessage {
  const id = identify(text);
  return { kind, where, sender, recipient, text, index: innermost(id), kindOfCopy: id.kind };
}

function completeLines(text: string): string {
  return text.slice(0, text.lastIndexOf('\n') + 1);
}

/** Boots a fresh world: qmail installed, users of every mailbox kind, the MTA started. */
export async function createWorld(opts: WorldOpts): Promise<World> {
  const w = await mtaWorld({ seed: opts.seed, profile: opts.profile ?? 'posix', split: opts.split, override: opts.override });
  installExitSink(w);
  const { users } = w;
  // A .qmail may change at any time: every user is looked for in every kind of mailbox.
  const every = [...users.maildir, ...users.mbox, ...users.program, ...users.forward];
  for (const list of [users.maildir, users.mbox, users.program]) list.splice(0, list.length, ...every);
  users.forward.splice(0);
  return new World(newState(w));
}

/** `sim-exit-sink CODE`: keeps what it was fed (as mta-world.ts's sink) and exits CODE. */
function installExitSink(w: MtaWorld): void {
  const { k } = w;
  const sink = k.programs.get(sinkProgram);
  if (sink === undefined) throw new Error(`world: ${sinkProgram} is not installed`);
  k.programs.register(exitSink, async (sys) => {
    const code = await sink(sys);
    return code === 0 ? Number(sys.proc.self.argv[1] ?? 0) : code;
  });
  k.install(`/usr/bin/${exitSink}`, exitSink, { uid: 0, gid: 0, mode: 0o755 });
}
