// Queue replay: a real queue (ours or qmail-1.03's), imported from a host tree (sim/replay-queue-tree.ts
// reads it; scripts/qsim-tree.ts lists it from a directory or a tarball), delivered by the whole MTA
// in the simulator under chosen faults (mta-crash's machinery: power losses, kill -9 of each
// daemon or of a delivery worker), then a healed phase of four days, then the checks.
//
// The world: qmail installed (installQmail) with the imported queue's split and BIGTODO, the
// imported control files over the installed ones, users/ (users/cdb rebuilt by our qmail-newu when
// only users/assign came), ~alias's .qmail files, and the users the deliveries need (from
// users/assign, an etc/passwd of the tree, or the options), each with a home and a Maildir (files
// of their homes come along when the tree is a root file system). Remote deliveries are held: the
// remote spawner is qmail-rspawn-defer, so remote recipients stay queued, deferred, and are
// reported as such (the imported hosts do not exist in the simulator).
//
// Message numbers. A message's number is the inode number of its mess file (spec/queue.md 1), and
// qmail-queue relies on it: a new message takes the number of its fresh inode, and would collide
// with an imported mess/ID whose inode the simulator gave another number. So every imported message
// is renumbered: its mess file is written first, and its number becomes that file's inode number in
// the simulator; info, local, remote, todo (and intd as a second name of todo), bounce follow under
// the new number, each at messagePath(dir, newId) of the installed layout (which is queue-fix's
// placement, so a re-split needs no move). The report maps old numbers to new ones.
//
// The checks (the ledger): every recipient due at import (T in local/, remote/, or todo/) ends
// delivered (a success logged, or its copy in the user's Maildir when a power loss took the line:
// qmail-send does not wait for its log), bounced (a failure logged), or, if remote, still queued and
// deferred; a local one still queued is a violation, and so is one with no outcome at all. A
// recipient already done at import (D) is never delivered again. Every delivery logged is of an
// imported message or of one qmail made during the replay (a bounce, by qmails; a forward, by a
// local user); every new file in a Maildir is a copy of an imported message or a bounce, and a
// success logged for a user with no .qmail file has its copy, byte for byte, in ~/Maildir. A
// second delivery of one recipient needs a fault between (the 6.3 window; counted). Every
// log line parses (spec/log.ts); nothing is left in the queue but messages still due; no program
// crashed; no delivery ran as root. Duplicates across a fault (the 6.3 window) are counted.

import { Kernel } from './kernel.ts';
import { installQmail, queueFix, simIds, type Installation } from './install.ts';
import { installAs, type QmailBoot } from './boot.ts';
import type { Ctx, CrashProfile } from './fs-api.ts';
import { MtaWorld, type MtaUsers } from './scenarios/mta-world.ts';
import { boot as bootRun, fault, mtaFaults, stop, type MtaFault, type State } from './scenarios/mta-crash.ts';
import { MboxTracker } from './checkers/mailboxes.ts';
import { checkLog, queueLeftovers } from './checkers/send-state.ts';
import { planImport, ReplayQueueError, type HostTree, type ImportPlan, type PlannedMessage, type Recipient } from './replay-queue-tree.ts';
import { O, type Program } from '../impl/sys/types.ts';
import { latin1 } from '../impl/lib/latin1.ts';
import { ConstMap } from '../impl/lib/constmap.ts';
import { rewrite, type RewriteControls } from '../impl/lib/rewrite.ts';
import { messageFileModes, messagePath, type QueueLayout } from '../spec/queue.ts';
import { parseLogLine, type LogEvent } from '../spec/log.ts';

export { ReplayQueueError, type HostTree } from './replay-queue-tree.ts';

export interface ReplayQueueOpts {
  seed: number;
  faults: number;
  profile: CrashProfile;
  /** Which faults to draw from (default all of mta-crash's). */
  kinds?: MtaFault[];
  /** Users to create beyond users/assign and etc/passwd (uids from 3000, homes /home/NAME). */
  users?: string[];
  /** The healed phase (default four days: every retry, every OSSIFIED cleanup). */
  healedMs?: number;
  /** Replacement programs (a deliberately broken daemon, in tests). */
  override?: Record<string, Program>;
}

export type Outcome = 'delivered' | 'bounced' | 'deferred' | 'held' | 'done-before' | 'none';

export interface RecipientOutcome {
  oldId: number;
  id: number;
  recipient: string;
  channel: 'local' | 'remote';
  outcome: Outcome;
  /** Successful deliveries logged (more than one: across a fault). */
  deliveries: number;
}

export interface ReplayedMessage {
  oldId: number;
  id: number;
  state: PlannedMessage['state'];
  sender: string | null;
  recipients: number;
  doneBefore: number;
}

export interface ReplayQueueResult {
  seed: number;
  source: string;
  flavour: ImportPlan['flavour'];
  split: number;
  bigtodo: boolean;
  messages: ReplayedMessage[];
  outcomes: RecipientOutcome[];
  counts: Record<Outcome, number> & { duplicates: number };
  usersCreated: string[];
  /** What reading the tree and building the world found (orphans, renumbering, newu, queue-fix). */
  notes: string[];
  faults: Record<MtaFault, number>;
  /** Faults that struck while imported mail was still due (local recipients, or todo/). */
  faultsMidDelivery: number;
  /** Log lines of every run, parsed, and how many of each kind. */
  logLines: number;
  logKinds: Record<string, number>;
  /** Queue files left at the end. */
  leftovers: string[];
  violations: string[];
  simMs: number;
  events: number;
  traceHash: string;
}

const hourMs = 3_600_000;
const root = { uid: 0, gid: 0 };
const rootCtx: Ctx = { cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 };
const usersGroup = 100;

interface Imported {
  plan: PlannedMessage;
  id: number;
  /** u and p of its todo (the qp and uid its `info msg` line will carry). */
  qp: number | null;
  uid: number | null;
}

export async function replayQueue(tree: HostTree, opts: ReplayQueueOpts): Promise<ReplayQueueResult> {
  const plan = planImport(tree, opts.users ?? []);
  const notes = [...plan.notes];
  let world: MtaWorld | null = null;
  const k = new Kernel({
    seed: opts.seed, profile: opts.profile, pidMax: 4_000_000,
    trace: { syscalls: false, keepLines: 2000, observe: (pid, event, fields) => world?.observe(pid, event, fields) },
  });
  const inst = await installQmail(k, { split: plan.split, bigtodo: plan.bigtodo, override: opts.override });
  importControl(k, inst, plan);
  const created = importUsers(k, inst, plan, notes);
  await importUsersDir(k, inst, plan, notes);
  const alias = importAlias(k, inst, plan);
  const imported = importMessages(k, inst.queue, plan.messages, notes);
  const fix = await queueFix(k, inst.home, []);
  for (const line of fix.stdout.split('\n').filter((l) => l !== '')) notes.push(`queue-fix: ${line}`);
  if (fix.code !== 0) notes.push(`queue-fix exited ${fix.code}: ${fix.stderr.trim()}`);
  // Remote mail is held: the imported hosts do not exist here.
  installAs(k, inst, 'qmail-rspawn', 'qmail-rspawn-defer');
  const maildirs = maildirsOf(k, inst, created, alias);
  const before = new Set(maildirs.flatMap((d) => maildirFiles(k, d.dir)));
  const users: MtaUsers = { maildir: [], mbox: [], program: [], forward: [], alias };
  const w = new MtaWorld(k, inst, users);
  world = w;
  const st: State = {
    w, rng: k.prng('replay-queue'), runs: [], mboxes: new MboxTracker(), notes: [], restartsDelayed: 0,
    faults: Object.fromEntries(mtaFaults.map((f) => [f, 0])) as Record<MtaFault, number>,
  };
  const midDelivery = await drive(st, opts, imported.length);
  return { ...check(st, plan, imported, created, maildirs, before, notes, opts), faultsMidDelivery: midDelivery };
}

/** Boots, strikes the faults, heals. The first faults come within the delivery of the imported
 *  messages (about 150 events a message), the later ones spread over the next hours. Returns how
 *  many faults struck while imported mail was still due locally or waiting in todo/. */
async function drive(st: State, opts: ReplayQueueOpts, messages: number): Promise<number> {
  const { k } = st.w;
  const kinds = opts.kinds ?? [...mtaFaults];
  const budget = Math.max(200, Math.floor((150 * messages) / (opts.faults + 1)));
  let midDelivery = 0;
  let b: QmailBoot = bootRun(st);
  for (let f = 0; f < opts.faults; f++) {
    if (st.rng.chance(0.1)) await k.run({ untilMs: k.nowMs + st.rng.int(2 * hourMs) });
    await k.run({ maxEvents: 1 + st.rng.int(budget), untilMs: k.nowMs + st.rng.int(hourMs) });
    if (mailDue(st)) midDelivery++;
    b = await fault(st, st.rng.pick(kinds), b);
  }
  await k.run({ untilMs: k.nowMs + (opts.healedMs ?? 4 * 24 * hourMs) });
  await stop(st, b);
  const last = st.runs[st.runs.length - 1];
  if (last !== undefined) last.lastEpoch = st.w.epoch;
  return midDelivery;
}

function mailDue(st: State): boolean {
  const q = st.w.inst.queue;
  const todo = q.bigtodo ? Array.from({ length: q.split }, (_, i) => `${q.dir}/todo/${i}`) : [`${q.dir}/todo`];
  return stillQueued(st).local.size > 0 || todo.some((d) => (st.w.k.fs.peekDir(d) ?? []).length > 0);
}

// ---- building the world ----

function importControl(k: Kernel, inst: Installation, plan: ImportPlan): void {
  for (const [name, bytes] of [...plan.control].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (/^[A-Za-z0-9._-]+$/.test(name)) k.writeFile(`${inst.home}/control/${name}`, bytes, { ...root, mode: 0o644 });
  }
}

function ensureGroup(k: Kernel, gid: number): void {
  if (k.users.getgrgid(gid) === null) k.users.addGroup(gid === usersGroup ? 'users' : `g${gid}`, gid);
}

function importUsers(k: Kernel, inst: Installation, plan: ImportPlan, notes: string[]): string[] {
  const created: string[] = [];
  k.mkdirs('/home', { ...root, mode: 0o755 });
  for (const u of plan.users) {
    if (k.users.getpwnam(u.name) !== null || (u.from === 'passwd' && u.uid < 100) || u.uid === 0) continue;
    if (u.home === inst.home || u.home.startsWith(`${inst.home}/`) || u.home === '/') {
      notes.push(`user ${u.name}: home ${u.home} inside the installation, not created`);
      continue;
    }
    ensureGroup(k, u.gid);
    k.users.addUser({ name: u.name, uid: u.uid, gid: u.gid, home: u.home });
    created.push(u.name);
    const own = { uid: u.uid, gid: u.gid };
    k.mkdirs(u.home, { ...own, mode: 0o755 });
    importHomeFiles(k, plan, u.home, own, notes);
    for (const d of ['Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) k.mkdirs(`${u.home}/${d}`, { ...own, mode: 0o700 });
  }
  return created;
}

/** A root file system's files under a user's home, owned by that user (the host's uids mean nothing here). */
function importHomeFiles(k: Kernel, plan: ImportPlan, home: string, own: { uid: number; gid: number }, notes: string[]): void {
  const entries = [...plan.rootFiles].filter(([p]) => p.startsWith(`${home}/`)).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [path, e] of entries) {
    if (e.kind === 'dir') k.mkdirs(path, { ...own, mode: e.mode & 0o7777 });
    else if (e.kind === 'file') {
      k.mkdirs(path.slice(0, path.lastIndexOf('/')), { ...own, mode: 0o700 });
      k.writeFile(path, e.bytes ?? new Uint8Array(0), { ...own, mode: e.mode & 0o777 });
    } else notes.push(`${path}: a ${e.kind}, not imported`);
  }
}

async function importUsersDir(k: Kernel, inst: Installation, plan: ImportPlan, notes: string[]): Promise<void> {
  if (plan.assign !== null) k.writeFile(`${inst.home}/users/assign`, plan.assign, { ...root, mode: 0o644 });
  if (plan.cdb !== null) k.writeFile(`${inst.home}/users/cdb`, plan.cdb, { ...root, mode: 0o644 });
  if (plan.assign === null || plan.cdb !== null) return;
  const h = k.spawn(`${inst.home}/bin/qmail-newu`, ['qmail-newu'], { env: { QMAILHOME: inst.home } });
  const done = h.wait();
  await k.run({ until: () => h.status() !== null });
  const r = await done;
  notes.push(r.code === 0 ? 'users/cdb rebuilt from users/assign by qmail-newu' : `qmail-newu exited ${r.code}: ${r.stderr.trim()}`);
}

function importAlias(k: Kernel, inst: Installation, plan: ImportPlan): MtaUsers['alias'] {
  const alias = { name: 'alias', uid: simIds.users.alias, gid: simIds.groups.qmail, home: `${inst.home}/alias` };
  const own = { uid: alias.uid, gid: alias.gid };
  for (const [name, bytes] of plan.alias) if (/^[A-Za-z0-9._:+-]+$/.test(name)) k.writeFile(`${alias.home}/${name}`, bytes, { ...own, mode: 0o644 });
  for (const d of ['Maildir', 'Maildir/tmp', 'Maildir/new', 'Maildir/cur']) k.mkdirs(`${alias.home}/${d}`, { ...own, mode: 0o700 });
  // Double bounces go to postmaster: somewhere to land unless the tree said where.
  if (!plan.alias.has('.qmail-postmaster') && !plan.alias.has('.qmail-default')) k.writeFile(`${alias.home}/.qmail-postmaster`, './Maildir/\n', { ...own, mode: 0o644 });
  return alias;
}

function syncDir(k: Kernel, path: string): void {
  const of = k.fs.open(rootCtx, path, O.RDONLY | O.DIRECTORY, 0);
  try {
    k.fs.fsync(of);
  } finally {
    k.fs.close(of);
  }
}

function leadingNumber(recs: string[], tag: string): number | null {
  const r = recs.find((x) => x.startsWith(tag));
  return r === undefined || !/^[0-9]+/.test(r.slice(1)) ? null : Number(/^[0-9]+/.exec(r.slice(1))?.[0]);
}

/** Writes each message under a new number, its mess file's inode number here (see the header). */
function importMessages(k: Kernel, q: QueueLayout, messages: readonly PlannedMessage[], notes: string[]): Imported[] {
  const out: Imported[] = [];
  const owner = (dir: string): { uid: number; gid: number; mode: number } => {
    const m = messageFileModes[dir] ?? { owner: 'qmailq', mode: 0o644 };
    return { uid: m.owner === 'qmails' ? simIds.users.qmails : simIds.users.qmailq, gid: simIds.groups.qmail, mode: m.mode };
  };
  for (const m of messages) {
    const staging = `${q.dir}/pid/import.${m.oldId}`;
    k.writeFile(staging, m.files.mess as Uint8Array, owner('mess'));
    const id = k.fs.peekStat(staging)?.ino as number;
    const mess = `${q.dir}/${messagePath('mess', id, q)}`;
    k.fs.link(rootCtx, staging, mess);
    syncDir(k, mess.slice(0, mess.lastIndexOf('/')));
    k.fs.unlink(rootCtx, staging);
    syncDir(k, `${q.dir}/pid`);
    for (const dir of ['info', 'local', 'remote', 'todo', 'bounce'] as const) {
      const bytes = m.files[dir];
      if (bytes !== undefined) k.writeFile(`${q.dir}/${messagePath(dir, id, q)}`, bytes, owner(dir));
    }
    if (m.files.intd !== undefined) {
      const intd = `${q.dir}/${messagePath('intd', id, q)}`;
      if (m.intdIsTodo) {
        k.fs.link(rootCtx, `${q.dir}/${messagePath('todo', id, q)}`, intd);
        syncDir(k, intd.slice(0, intd.lastIndexOf('/')));
      } else k.writeFile(intd, m.files.intd, owner('intd'));
    }
    if (id !== m.oldId) notes.push(`message ${m.oldId} is message ${id} here`);
    const recs = m.files.todo === undefined ? [] : latin1(m.files.todo).split('\0');
    out.push({ plan: m, id, qp: leadingNumber(recs, 'p'), uid: leadingNumber(recs, 'u') });
  }
  return out;
}

interface Maildir {
  dir: string;
  owner: string;
}

function maildirsOf(k: Kernel, inst: Installation, created: readonly string[], alias: MtaUsers['alias']): Maildir[] {
  const out: Maildir[] = [{ dir: `${alias.home}/Maildir`, owner: 'alias' }];
  for (const name of created) {
    const pw = k.users.getpwnam(name);
    if (pw !== null && pw.home !== inst.home) out.push({ dir: `${pw.home}/Maildir`, owner: name });
  }
  return out;
}

function maildirFiles(k: Kernel, dir: string): string[] {
  return ['new', 'cur'].flatMap((s) => (k.fs.peekDir(`${dir}/${s}`) ?? []).sort().map((n) => `${dir}/${s}/${n}`));
}

// ---- the checks ----

function controlLines(k: Kernel, inst: Installation, name: string): string[] | null {
  const b = k.fs.peekFile(`${inst.home}/control/${name}`);
  if (b === null) return null;
  return latin1(b).split('\n').map((l) => l.replace(/[ \t\r]+$/, '')).filter((l) => l !== '' && !l.startsWith('#'));
}

function rewriteControls(k: Kernel, inst: Installation): RewriteControls {
  const me = controlLines(k, inst, 'me')?.[0] ?? 'sim.example';
  return {
    envnoathost: controlLines(k, inst, 'envnoathost')?.[0] ?? me,
    locals: new ConstMap(controlLines(k, inst, 'locals') ?? [me], false),
    percenthack: new ConstMap(controlLines(k, inst, 'percenthack') ?? [], false),
    virtualdomains: new ConstMap(controlLines(k, inst, 'virtualdomains') ?? [], true),
  };
}

interface Due {
  imp: Imported;
  recipient: string;
  channel: 'local' | 'remote';
  done: boolean;
}

function dueOf(imp: Imported, r: Recipient, controls: RewriteControls): Due {
  if (r.channel !== 'todo') return { imp, recipient: r.address, channel: r.channel, done: r.done };
  const rw = rewrite(r.address, controls);
  return { imp, recipient: rw.address, channel: rw.channel, done: false };
}

/** What the logs say, per imported message (by old number) and recipient: results in order. */
interface LogFacts {
  results: Map<string, string[]>;
  /** The run of each logged success, by key. */
  successRuns: Map<string, number[]>;
  started: Map<string, number>;
  lines: number;
  kinds: Record<string, number>;
}

function readLogs(st: State, imported: readonly Imported[], allowedUids: ReadonlySet<number>, violations: string[]): LogFacts {
  const byId = new Map(imported.map((i) => [i.id, i]));
  const ended = new Set<number>();
  const facts: LogFacts = { results: new Map(), successRuns: new Map(), started: new Map(), lines: 0, kinds: {} };
  // The message each id names now: an imported one until its end msg, then whatever took its number.
  const current = new Map<number, string | null>(imported.map((i) => [i.id, `${i.plan.oldId}`]));
  for (const [runIndex, run] of st.runs.entries()) {
    const text = run.boot.log();
    violations.push(...checkLog(run.crashed ? text.slice(0, text.lastIndexOf('\n') + 1) : text).violations);
    const starts = new Map<number, string | null>();
    for (const line of text.split('\n')) {
      const e: LogEvent | { error: string } = parseLogLine(line);
      if ('error' in e) continue;
      facts.lines++;
      facts.kinds[e.kind] = (facts.kinds[e.kind] ?? 0) + 1;
      if (e.kind === 'info') {
        const imp = byId.get(e.id);
        const same = imp !== undefined && !ended.has(e.id) && imp.qp === e.qp && imp.uid === e.uid;
        if (same) current.set(e.id, `${imp.plan.oldId}`);
        else {
          current.set(e.id, null);
          if (!allowedUids.has(e.uid)) violations.push(`message ${e.id} (qp ${e.qp}, uid ${e.uid}) was not in the imported queue, and neither a bounce nor a forward`);
        }
      }
      if (e.kind === 'end') {
        if (current.get(e.id) !== null && byId.has(e.id)) ended.add(e.id);
        current.set(e.id, null);
      }
      if (e.kind === 'starting') {
        const key = current.get(e.id);
        if (key === undefined) violations.push(`delivery ${e.delivery.n} of message ${e.id}, which is neither imported nor logged as queued`);
        const k = key === undefined || key === null ? null : `${key} ${e.recipient}`;
        starts.set(e.delivery.n, k);
        if (k !== null) facts.started.set(k, (facts.started.get(k) ?? 0) + 1);
      }
      if (e.kind === 'delivery') {
        const k = starts.get(e.delivery.n);
        if (k === undefined || k === null) continue;
        const list = facts.results.get(k) ?? [];
        list.push(e.result);
        facts.results.set(k, list);
        if (e.result === 'success') facts.successRuns.set(k, [...(facts.successRuns.get(k) ?? []), runIndex]);
      }
    }
  }
  return facts;
}

/** Recipients still due in the queue at the end, by channel: "id recipient". */
function stillQueued(st: State): { local: Set<string>; remote: Set<string>; ids: Set<number> } {
  const { k, inst } = st.w;
  const q = inst.queue;
  const out = { local: new Set<string>(), remote: new Set<string>(), ids: new Set<number>() };
  for (let s = 0; s < q.split; s++) {
    for (const name of k.fs.peekDir(`${q.dir}/info/${s}`) ?? []) {
      const id = Number(name);
      for (const ch of ['local', 'remote'] as const) {
        const b = k.fs.peekFile(`${q.dir}/${messagePath(ch, id, q)}`);
        for (const r of b === null ? [] : latin1(b).split('\0')) {
          if (r.startsWith('T')) {
            out[ch].add(`${id} ${r.slice(1)}`);
            out.ids.add(id);
          }
        }
      }
    }
  }
  return out;
}

/** A recipient's end: its last logged result (deferrals aside), else whether it is still queued,
 *  else a copy in its Maildir: qmail-send does not wait for its log lines, so a power loss can take
 *  a success line while the delivery and its mark in local/ survive. */
function outcomeOf(d: Due, results: readonly string[], inQueue: boolean, copied: boolean): Outcome {
  if (d.done) return 'done-before';
  const final = results.filter((x) => x !== 'deferral').at(-1);
  if (final === 'success') return 'delivered';
  if (final === 'failure') return 'bounced';
  if (inQueue) return d.channel === 'remote' ? 'deferred' : 'held';
  return copied ? 'delivered' : 'none';
}

function check(
  st: State, plan: ImportPlan, imported: readonly Imported[], created: readonly string[], maildirs: readonly Maildir[],
  before: ReadonlySet<string>, notes: string[], opts: ReplayQueueOpts,
): Omit<ReplayQueueResult, 'faultsMidDelivery'> {
  const { w } = st;
  const { k, inst } = w;
  const violations: string[] = [...st.notes];
  const controls = rewriteControls(k, inst);
  const allowedUids = new Set([simIds.users.qmails, ...created.map((n) => k.users.getpwnam(n)?.uid ?? -1)]);
  const logs = readLogs(st, imported, allowedUids, violations);
  const queued = stillQueued(st);
  const outcomes: RecipientOutcome[] = [];
  const expectCopy: { imp: Imported; recipient: string }[] = [];
  const copies = checkMaildirs(k, imported, maildirs, before, violations);
  const counts = { delivered: 0, bounced: 0, deferred: 0, held: 0, 'done-before': 0, none: 0, duplicates: 0 };
  for (const imp of imported) {
    // Records per address: an address may be listed twice (two deliveries due), or done and due.
    const byKey = new Map<string, Due[]>();
    for (const r of imp.plan.recipients) {
      const d = dueOf(imp, r, controls);
      byKey.set(d.recipient, [...(byKey.get(d.recipient) ?? []), d]);
    }
    for (const [address, records] of byKey) {
      const key = `${imp.plan.oldId} ${address}`;
      const due = records.filter((d) => !d.done).length;
      const results = logs.results.get(key) ?? [];
      const successes = results.filter((x) => x === 'success').length;
      if (due === 0 && (logs.started.get(key) ?? 0) > 0) violations.push(`message ${imp.plan.oldId}: ${address} was done before the import and was delivered again`);
      if (due > 0 && successes > due) {
        counts.duplicates += successes - due;
        // The 6.3 window: a second delivery needs a fault between (a new run, or a killed worker).
        const runs = logs.successRuns.get(key) ?? [];
        const perRun = Math.max(...[...new Set(runs)].map((n) => runs.filter((x) => x === n).length));
        if (perRun > due && st.faults['kill-worker'] === 0) violations.push(`message ${imp.plan.oldId}: ${address} delivered ${successes} times, ${perRun} in one run with no fault between`);
      }
      for (const d of records) {
        const copied = copies.has(`${address}\0${latin1(imp.plan.files.mess as Uint8Array)}`);
        const outcome = outcomeOf(d, results, queued[d.channel].has(`${imp.id} ${address}`), copied);
        if (outcome === 'delivered' && d.channel === 'local') expectCopy.push({ imp, recipient: address });
        if (outcome === 'held') violations.push(`message ${imp.plan.oldId} (here ${imp.id}): local ${address} still queued after the healed phase`);
        if (outcome === 'none') violations.push(`message ${imp.plan.oldId} (here ${imp.id}): ${address} neither delivered, bounced nor queued`);
        if (outcome === 'deferred' && !results.includes('deferral')) violations.push(`message ${imp.plan.oldId}: ${address} held with no deferral logged`);
        counts[outcome]++;
        outcomes.push({ oldId: imp.plan.oldId, id: imp.id, recipient: address, channel: d.channel, outcome, deliveries: successes });
      }
    }
  }
  for (const c of expectCopy) {
    const at = c.recipient.lastIndexOf('@');
    const pw = at === -1 ? null : k.users.getpwnam(c.recipient.slice(0, at));
    const plain = pw !== null && created.includes(pw.name) && k.fs.peekStat(`${pw.home}/.qmail`) === null;
    // user@ (no extension) of a user with no .qmail gets the default ./Maildir/: the copy must be there.
    if (plain && !copies.has(`${c.recipient}\0${latin1(c.imp.plan.files.mess as Uint8Array)}`)) {
      violations.push(`message ${c.imp.plan.oldId}: delivered to ${c.recipient} by the log, but not in ${pw.home}/Maildir`);
    }
  }
  const leftovers = queueLeftovers(k.fs, inst.queue);
  for (const left of leftovers) {
    const id = Number(left.slice(left.lastIndexOf('/') + 1));
    if (!queued.ids.has(id)) violations.push(`left in the queue: ${left}`);
  }
  violations.push(...w.rootDeliveries.map((r) => `a delivery as root: ${r}`));
  violations.push(...k.bugs.map((bug) => `program crashed: ${bug.argv.join(' ')}: ${bug.message}`));
  return {
    seed: opts.seed, source: plan.source, flavour: plan.flavour, split: plan.split, bigtodo: plan.bigtodo,
    messages: imported.map((i) => ({
      oldId: i.plan.oldId, id: i.id, state: i.plan.state, sender: i.plan.sender, recipients: i.plan.recipients.length,
      doneBefore: i.plan.recipients.filter((r) => r.done).length,
    })),
    outcomes, counts, usersCreated: [...created], notes, faults: st.faults, logLines: logs.lines, logKinds: logs.kinds, leftovers, violations,
    simMs: k.nowMs, events: k.eventsRun, traceHash: k.traceHash(),
  };
}

/** Every Maildir file written during the replay: a copy of an imported message (after Return-Path
 *  and Delivered-To), or a bounce (null sender, qmail-send's text). Returns the copies found, as
 *  "Delivered-To address \0 copy". */
function checkMaildirs(k: Kernel, imported: readonly Imported[], maildirs: readonly Maildir[], before: ReadonlySet<string>, violations: string[]): Set<string> {
  const bodies = new Set(imported.map((i) => latin1(i.plan.files.mess as Uint8Array)));
  const copies = new Set<string>();
  for (const m of maildirs) {
    for (const path of maildirFiles(k, m.dir)) {
      if (before.has(path)) continue;
      const text = latin1(k.fs.peekFile(path) ?? new Uint8Array(0));
      const head = /^Return-Path: <([^\n]*)>\nDelivered-To: ([^\n]*)\n/.exec(text);
      if (head === null) {
        violations.push(`${path}: no Return-Path and Delivered-To lines`);
        continue;
      }
      const copy = text.slice(head[0].length);
      if (bodies.has(copy)) {
        copies.add(`${head[2]}\0${copy}`);
        continue;
      }
      if (head[1] === '' && copy.includes('This is the qmail-send program')) continue;
      if ([...bodies].some((b) => copy.endsWith(b))) continue; // a forwarded copy: a new Received and Delivered-To first
      violations.push(`${path}: delivered, but neither a copy of an imported message nor a bounce`);
    }
  }
  return copies;
}
