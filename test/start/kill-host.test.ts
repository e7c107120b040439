// kill -9 of qmail-send, todo-proc and qmail-lspawn on this host, under load, as root: the host
// twin of the simulator's mta-crash scenario (sim/scenarios/mta-crash.ts), checked by the same pure
// checkers (sim/checkers/mailboxes.ts, delivery.ts, send-state.ts).
//   - programs built into a temporary directory, qmail-setup --create-users into <tmp>/qmail, three
//     ordinary users (qkill1..3) whose homes and Maildirs live in the temporary directory;
//   - a supervise-like loop starts etc/rc (its home replaced: `env - PATH=... qmail-start
//     ./Maildir/`, in a process group of its own) and, whenever it exits, starts it again after
//     200..500 ms;
//   - four clients run the real setuid bin/qmail-queue as the users for KILL_HOST_MESSAGES messages
//     (200 by default), each to 1..3 of the users; the first header line `X-Sim-Index: N` is the
//     message's identity (sim/checkers/mail-identity.ts reads it);
//   - meanwhile SIGKILL strikes qmail-send, todo-proc and qmail-lspawn in turn (each round in a
//     seeded order; KILL_HOST_FAULTS kills, 6 by default: each daemon twice) at seeded moments;
//   - then the MTA runs until the queue holds nothing but S2 leftovers (mess files whose `end msg`
//     a kill cut off from qmail-clean's foop: queue.md 6.2), and TERM ends it (`status: exiting`,
//     exit 0); those leftovers are made OSSIFIED (atime 37 h back) and a clean restart's start-up
//     cleanup scan must remove them; TERM again.
// Checks: every recipient of every accepted message has a copy in its Maildir (new or cur), owned
// by the user, that is Return-Path + Delivered-To + a valid Received line + the submitted bytes;
// duplicates only across runs (the 6.3 window: counted and printed), none after the copy's end msg;
// nothing delivered that was never submitted; the queue ends empty; every line of every run's
// activity log (qmail-start's stdout, no logger) parses; qmail-start exited 111 after each kill.
// A delivered copy's run is the run whose process tree held the worker whose pid the maildir name
// carries (polled from /proc), else the run that was up when the file was named.
// Seeded (KILL_HOST_SEED); the host's timing is not, so a seed replays the choices, not the trace.
// Needs root, cc, setpriv, useradd, flock, and a temporary directory not mounted nosuid.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIntoTemp, isRoot, nosuid, qmailSetup, removeTemp } from '../../conformance/queue/host-install.ts';
import { queueAs, userWithMaildir } from '../../conformance/host/accounts.ts';
import { childrenOf, descendantsOf, processTable, running } from '../../conformance/host/proc-tree.ts';
import { Prng } from '../../sim/prng.ts';
import { ossifiedSec } from '../../spec/send.ts';
import { checkDeliveries, type AcceptedMail, type Attempt } from '../../sim/checkers/delivery.ts';
import { checkCopy, parseMaildirFile, type CopyRules } from '../../sim/checkers/mailboxes.ts';
import { checkLog, copyEnds, queueLeftovers } from '../../sim/checkers/send-state.ts';

const seed = process.env['KILL_HOST_SEED'] === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env['KILL_HOST_SEED']);
const messageCount = Number(process.env['KILL_HOST_MESSAGES'] ?? 200);
const faultCount = Number(process.env['KILL_HOST_FAULTS'] ?? 6);
const replay = `KILL_HOST_SEED=${seed} npx vitest run test/start/kill-host.test.ts`;
const clients = 4;
const userNames = ['qkill1', 'qkill2', 'qkill3'];
const me = 'host.example';
const victims = ['qmail-send', 'todo-proc', 'qmail-lspawn'] as const;
type Victim = (typeof victims)[number];
/** Bounds, in ms: a run coming up, a killed run's exit, supervise's pause, the drain, the test. */
const upWaitMs = 30_000;
const exitWaitMs = 30_000;
const restartMinMs = 200;
const restartSpreadMs = 300;
const killDelayMinMs = 200;
const killDelaySpreadMs = 1500;
const drainMs = Math.max(60_000, messageCount * 200);
const pollMs = 100;
const testMs = 120_000 + drainMs + messageCount * 300;
const statusRe = /^status: local \d+\/\d+ remote \d+\/\d+/m;

const reason = !isRoot ? 'needs root: starts daemons under the qmail uids, creates users' : nosuid('/tmp') ? 'needs /tmp without nosuid: bin/qmail-queue is setuid qmailq' : null;
if (reason !== null) console.warn(`kill-host.test.ts: skipped: ${reason}`);
if (!(Number.isSafeInteger(messageCount) && messageCount > 0 && Number.isSafeInteger(faultCount) && faultCount >= 0 && Number.isSafeInteger(seed)))
  throw new Error('kill-host: KILL_HOST_MESSAGES, KILL_HOST_FAULTS, KILL_HOST_SEED must be integers');

const repo = join(import.meta.dirname, '../..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ExitInfo {
  code: number | null;
  signal: string | null;
}

interface Run {
  n: number;
  pid: number;
  startedMs: number;
  out: Buffer[];
  err: Buffer[];
  exit: Promise<ExitInfo>;
  ended: ExitInfo | null;
}

const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('latin1');

/** supervise, in short: etc/rc runs; when it exits it runs again after a seeded pause. */
class Supervisor {
  readonly runs: Run[] = [];
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  /** Each process seen below a run, by pid: the run it belongs to. */
  readonly runOfPid = new Map<number, number>();
  private poller: NodeJS.Timeout | null = null;

  constructor(
    private readonly rc: string,
    private readonly path: string,
    private readonly prng: Prng,
  ) {}

  start(): void {
    this.launch();
    this.poller = setInterval(() => this.poll(), pollMs);
  }

  private launch(): void {
    this.timer = null;
    // A process group of its own (detached): afterAll kills each run's group by its id.
    const child: ChildProcess = spawn(this.rc, [], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: this.path }, detached: true });
    if (child.pid === undefined) throw new Error('kill-host: etc/rc did not start');
    const run: Run = { n: this.runs.length, pid: child.pid, startedMs: Date.now(), out: [], err: [], exit: Promise.resolve({ code: null, signal: null }), ended: null };
    child.stdout?.on('data', (d: Buffer) => run.out.push(d));
    child.stderr?.on('data', (d: Buffer) => run.err.push(d));
    run.exit = new Promise<ExitInfo>((resolve) =>
      child.on('close', (code, signal) => {
        run.ended = { code, signal };
        resolve(run.ended);
        if (!this.stopping) this.timer = setTimeout(() => this.launch(), restartMinMs + this.prng.int(restartSpreadMs + 1));
      }),
    );
    this.runs.push(run);
  }

  /** Records which run each worker (and daemon) belongs to, while its run is alive. */
  private poll(): void {
    const live = this.runs.filter((r) => r.ended === null);
    if (live.length === 0) return;
    const table = processTable();
    for (const r of live) for (const p of descendantsOf(table, r.pid)) if (!this.runOfPid.has(p.pid)) this.runOfPid.set(p.pid, r.n);
  }

  /** The latest run, once it logged a status line and its three victims run. */
  async up(home: string): Promise<Run> {
    const end = Date.now() + upWaitMs;
    for (;;) {
      const run = this.runs.at(-1);
      if (run !== undefined && run.ended === null && statusRe.test(text(run.out))) {
        const kids = childrenOf(processTable(), run.pid);
        if (victims.every((v) => running(kids, join(home, 'bin', v)).length === 1)) return run;
      }
      if (Date.now() > end) throw new Error(`kill-host: no run came up within ${upWaitMs} ms (seed ${seed}; ${replay})`);
      await sleep(50);
    }
  }

  /** TERM to the latest run; no restart after it. */
  async stop(run: Run): Promise<ExitInfo | null> {
    this.stopping = true;
    process.kill(run.pid, 'SIGTERM');
    return Promise.race([run.exit, sleep(exitWaitMs).then(() => null)]);
  }

  /** After stop(): runs again (a clean restart), restarted after exits as before. */
  resume(): void {
    this.stopping = false;
    this.launch();
  }

  /** Ends everything: no restart, every run's process group killed. */
  kill(): void {
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.poller !== null) clearInterval(this.poller);
    for (const r of this.runs) {
      try {
        process.kill(-r.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

interface Mail {
  index: number;
  sender: string;
  recipients: string[];
  message: Buffer;
}

const address = (user: string): string => `${user}@${me}`;

function makeMail(prng: Prng, index: number): Mail {
  const sender = prng.pick(userNames);
  const recipients = prng.shuffle([...userNames]).slice(0, 1 + prng.int(3));
  // Mostly small, now and then a body of some 100 kB.
  const lines = prng.chance(0.05) ? 1500 : 1 + prng.int(40);
  const body: string[] = [];
  for (let i = 0; i < lines; i++) body.push(Array.from({ length: prng.int(70) }, () => String.fromCharCode(32 + prng.int(95))).join(''));
  const head = [`X-Sim-Index: ${index}`, `From: ${address(sender)}`, `To: ${recipients.map(address).join(', ')}`, `Subject: kill-host seed ${seed} message ${index}`];
  return { index, sender, recipients, message: Buffer.from(`${head.join('\n')}\n\n${body.join('\n')}\n`, 'latin1') };
}

/** Queues one generated mail as uid:gid through the setuid bin/qmail-queue. */
function queueMail(home: string, uid: number, gid: number, mail: Mail): Promise<number | null> {
  return queueAs(home, uid, gid, mail.message, `F${address(mail.sender)}\0${mail.recipients.map((r) => `T${address(r)}\0`).join('')}\0`);
}

interface Kill {
  victim: Victim;
  pid: number;
  run: number;
  atMs: number;
  exit: ExitInfo | null;
}

/** The faults: rounds of the three victims in a seeded order, each at a seeded moment of a run. */
async function strike(sup: Supervisor, home: string, prng: Prng): Promise<Kill[]> {
  const order: Victim[] = [];
  while (order.length < faultCount) order.push(...prng.shuffle([...victims]));
  const kills: Kill[] = [];
  for (const victim of order.slice(0, faultCount)) {
    const run = await sup.up(home);
    await sleep(killDelayMinMs + prng.int(killDelaySpreadMs + 1));
    const [proc] = running(childrenOf(processTable(), run.pid), join(home, 'bin', victim));
    if (proc === undefined) throw new Error(`kill-host: ${victim} of run ${run.n} is gone (run ended: ${JSON.stringify(run.ended)}); seed ${seed}`);
    process.kill(proc.pid, 'SIGKILL');
    const kill: Kill = { victim, pid: proc.pid, run: run.n, atMs: Date.now(), exit: null };
    kills.push(kill);
    kill.exit = await Promise.race([run.exit, sleep(exitWaitMs).then(() => null)]);
  }
  return kills;
}

/** The load: each client submits its share, with short seeded pauses; exit codes by index, and
 *  when the last client was done. */
async function load(home: string, mails: Mail[], ids: Map<string, { uid: number; gid: number }>): Promise<{ codes: Map<number, number | null>; endMs: number }> {
  const codes = new Map<number, number | null>();
  const client = async (c: number): Promise<void> => {
    const pauses = new Prng(seed, `client ${c}`);
    for (const mail of mails.filter((m) => m.index % clients === c)) {
      const id = ids.get(mail.sender) as { uid: number; gid: number };
      codes.set(mail.index, await queueMail(home, id.uid, id.gid, mail));
      await sleep(pauses.int(100));
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  return { codes, endMs: Date.now() };
}

function leftovers(home: string, split: number): string[] {
  const peekDir = (d: string): string[] | null => {
    try {
      return readdirSync(d);
    } catch {
      return null;
    }
  };
  return queueLeftovers({ peekDir } as Parameters<typeof queueLeftovers>[0], { dir: join(home, 'queue'), split, bigtodo: false });
}

/** Until nothing but mess/ files is left (then a second more, for eliminations in flight): what is
 *  left then, and how long it took. A mess file with no todo, intd or info once every qmail-queue
 *  has exited is an S2 leftover (queue.md 6.2): a kill between `end msg` and qmail-clean's foop. */
async function drain(home: string, split: number): Promise<{ ms: number; left: string[] }> {
  const start = Date.now();
  const notMess = (left: string[]): string[] => left.filter((p) => !p.startsWith(join(home, 'queue/mess/')));
  while (notMess(leftovers(home, split)).length > 0 && Date.now() - start < drainMs) await sleep(250);
  const ms = Date.now() - start;
  await sleep(1000);
  return { ms, left: leftovers(home, split) };
}

/** Makes leftovers look OSSIFIED to qmail-send's cleanup (atime 37 h back; mtime kept). Nothing
 *  may read them afterwards: relatime would set the atime to now again. */
function ossify(paths: string[]): void {
  const atimeSec = Date.now() / 1000 - (ossifiedSec + 3600);
  for (const p of paths) utimesSync(p, atimeSec, statSync(p).mtime);
}

async function gone(paths: string[]): Promise<string[]> {
  const end = Date.now() + upWaitMs;
  let left = paths.filter((p) => existsSync(p));
  while (left.length > 0 && Date.now() < end) {
    await sleep(100);
    left = left.filter((p) => existsSync(p));
  }
  return left;
}

const maildirNameRe = /^([0-9]+)\.M([0-9]+)P([0-9]+)R[0-9a-f]+\./;

describe.skipIf(reason !== null)('kill -9 of the daemons under load, on this host (root)', () => {
  let tmp: string | undefined;
  let sup: Supervisor | undefined;
  const split = 7;

  beforeAll(() => {
    tmp = buildIntoTemp('qmail-kill-');
  });

  afterAll(() => {
    sup?.kill();
    removeTemp(tmp);
  });

  it(`nothing accepted is lost (seed ${seed})`, { timeout: testMs }, async () => {
    console.log(`kill-host: seed ${seed}, ${messageCount} messages, ${faultCount} kills; replay: ${replay}`);
    const base = tmp as string;
    const home = join(base, 'qmail');
    qmailSetup(base, home, { split });
    writeFileSync(join(home, 'control/me'), `${me}\n`, { mode: 0o644 });
    writeFileSync(join(home, 'control/locals'), `${me}\n`, { mode: 0o644 });
    mkdirSync(join(base, 'home'), { mode: 0o755 });
    const ids = new Map<string, { uid: number; gid: number }>();
    for (const name of userNames) ids.set(name, userWithMaildir(base, name));

    const rc = join(base, 'rc');
    writeFileSync(rc, readFileSync(join(repo, 'etc/rc'), 'utf8').replaceAll('/var/qmail', home), { mode: 0o755 });
    sup = new Supervisor(rc, `${home}/bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, new Prng(seed, 'supervise'));
    sup.start();
    await sup.up(home);

    const mailPrng = new Prng(seed, 'mail');
    const mails = Array.from({ length: messageCount }, (_, i) => makeMail(mailPrng, i));
    const [{ codes, endMs: loadEndMs }, kills] = await Promise.all([load(home, mails, ids), strike(sup, home, new Prng(seed, 'faults'))]);

    // Healed: the last loaded run delivers what is left, then TERM; a clean restart, whose start-up
    // scan must remove the S2 leftovers the kills made once they are OSSIFIED; TERM again.
    const last = await sup.up(home);
    const drained = await drain(home, split);
    const orphans = drained.left.filter((p) => p.startsWith(join(home, 'queue/mess/')));
    ossify(orphans);
    const stopped = await sup.stop(last);
    sup.resume();
    const clean = await sup.up(home);
    const notCleaned = await gone(orphans);
    const finalLeft = leftovers(home, split);
    const stoppedClean = await sup.stop(clean);
    const report = examine(sup, home, mails, codes);
    console.log(
      [
        `kill-host: seed ${seed}: ${report.accepted} accepted of ${messageCount}, ${report.files} maildir files, ` +
          `${report.counts.recipients} recipients delivered ${report.counts.delivered}, duplicates ${report.counts.duplicateDeliveries}, ` +
          `epochs by time ${report.byTime}, Maildir/tmp leftovers ${report.tmpLeft}`,
        `kill-host: ${sup.runs.length} runs, exits ${sup.runs.map((r) => (r.ended === null ? 'running' : `${r.ended.code ?? r.ended.signal}`)).join(' ')}; ` +
          `kills ${kills.map((k) => `${k.victim}@run${k.run}->${k.exit?.code ?? k.exit?.signal ?? 'none'}`).join(' ')}`,
        `kill-host: duplicates by the kill that ended the run of the first copy: ${kills.map((k) => `${k.victim}@run${k.run}:${report.duplicatesAfter.get(k.run) ?? 0}`).join(' ')}`,
        `kill-host: ${kills.filter((k) => k.atMs < loadEndMs).length} of ${kills.length} kills while the load ran; drained in ${drained.ms} ms; ` +
          `S2 leftovers (mess only) ${orphans.length}, removed by the OSSIFIED cleanup of the clean restart: ${orphans.length - notCleaned.length}`,
      ].join('\n'),
    );
    const stuck = drained.left.filter((p) => !orphans.includes(p));
    if (stuck.length > 0) console.log(`kill-host: seed ${seed}: left in the queue: ${stuck.join(' ')}\n${stuckLog(sup, stuck)}`);
    if (report.violations.length > 0) console.log(`kill-host: seed ${seed}: violations:\n  ${report.violations.slice(0, 40).join('\n  ')}\nreplay: ${replay}`);

    expect(stuck, `queue not drained after ${drainMs} ms (${replay})`).toEqual([]);
    expect(notCleaned, `S2 leftovers not removed by the OSSIFIED cleanup (${replay})`).toEqual([]);
    expect(finalLeft, `the queue at the end (${replay})`).toEqual([]);
    for (const [run, exit] of [[last, stopped], [clean, stoppedClean]] as const) {
      expect(exit, `run ${run.n}'s TERM (${replay})`).toEqual({ code: 0, signal: null });
      expect(text(run.out).trimEnd().split('\n').at(-1)).toBe('status: exiting');
      expect(descendantsOf(processTable(), run.pid)).toEqual([]);
    }
    expect(kills.map((k) => ({ victim: k.victim, exit: k.exit })), replay).toEqual(kills.map((k) => ({ victim: k.victim, exit: { code: 111, signal: null } })));
    // Every run but the last two (TERMed) ended by a kill (none ended by itself).
    expect(sup.runs.map((r) => r.n).slice(0, -2), replay).toEqual(kills.map((k) => k.run));
    expect(report.refused, `qmail-queue exit codes other than 0 (${replay})`).toEqual([]);
    expect(report.violations, replay).toEqual([]);
    expect(report.counts.delivered).toBe(report.counts.recipients);
  });
});

/** The log lines of every run about the messages left in the queue (by their ids). */
function stuckLog(sup: Supervisor, left: string[]): string {
  const ids = new Set(left.map((p) => p.split('/').at(-1)));
  const out: string[] = [];
  for (const r of sup.runs) {
    const deliveries = new Set<string>();
    for (const line of text(r.out).split('\n')) {
      const id = /msg ([0-9]+)/.exec(line)?.[1];
      const delivery = /^(?:starting )?delivery ([0-9]+)/.exec(line)?.[1];
      if (id !== undefined && ids.has(id) && delivery !== undefined) deliveries.add(delivery);
      if ((id !== undefined && ids.has(id)) || (delivery !== undefined && deliveries.has(delivery)) || /^(alert|warning)/.test(line)) out.push(`run ${r.n}: ${line}`);
    }
  }
  return out.slice(-80).join('\n');
}


interface Report {
  accepted: number;
  refused: string[];
  files: number;
  byTime: number;
  tmpLeft: number;
  counts: ReturnType<typeof checkDeliveries>['counts'];
  violations: string[];
  /** Copies delivered again in a later run, by the run that delivered them first. */
  duplicatesAfter: Map<number, number>;
}

/** For each copy and recipient delivered more than once: the first run (whose end lost the mark). */
function duplicatesByRun(attempts: Attempt[]): Map<number, number> {
  const first = new Map<string, number[]>();
  for (const a of attempts) {
    const k = `${a.identity?.copy ?? ''}\0${a.recipient}`;
    first.set(k, [...(first.get(k) ?? []), a.epoch]);
  }
  const out = new Map<number, number>();
  for (const epochs of first.values()) {
    if (epochs.length < 2) continue;
    const run = Math.min(...epochs);
    out.set(run, (out.get(run) ?? 0) + epochs.length - 1);
  }
  return out;
}

/** Every Maildir copy, checked against what was submitted; the ledger; every run's log. */
function examine(sup: Supervisor, home: string, mails: Mail[], codes: Map<number, number | null>): Report {
  const violations: string[] = [];
  const accepted: AcceptedMail[] = [];
  const refused: string[] = [];
  for (const m of mails) {
    const code = codes.get(m.index);
    if (code === 0) accepted.push({ index: m.index, sender: address(m.sender), recipients: m.recipients.map(address) });
    else refused.push(`message ${m.index}: qmail-queue exit ${code}`);
  }
  const rules: CopyRules = {
    me,
    doubleBounceTo: `postmaster@${me}`,
    original: (index) => {
      const m = mails[index];
      return m === undefined ? null : { body: m.message, sender: address(m.sender) };
    },
    failureText: () => null, // no recipient here ever fails
  };
  const runAt = (ms: number): number => sup.runs.filter((r) => r.startedMs <= ms).at(-1)?.n ?? 0;
  const attempts: Attempt[] = [];
  let byTime = 0;
  let tmpLeft = 0;
  for (const name of userNames) {
    const maildir = join(home, '..', 'home', name, 'Maildir');
    const owner = { uid: statSync(maildir).uid, gid: statSync(maildir).gid };
    tmpLeft += readdirSync(join(maildir, 'tmp')).length;
    for (const sub of ['new', 'cur']) {
      for (const file of readdirSync(join(maildir, sub))) {
        const where = `${name}/Maildir/${sub}/${file}`;
        const path = join(maildir, sub, file);
        const st = statSync(path);
        if (st.uid !== owner.uid || st.gid !== owner.gid) violations.push(`${where}: owned by ${st.uid}:${st.gid}, not ${name}`);
        const nm = maildirNameRe.exec(file);
        if (nm === null) violations.push(`${where}: not a maildir name of ours`);
        const pidRun = nm === null ? undefined : sup.runOfPid.get(Number(nm[3]));
        if (pidRun === undefined) byTime++;
        const epoch = pidRun ?? runAt(Number(nm?.[1] ?? 0) * 1000 + Math.floor(Number(nm?.[2] ?? 0) / 1000));
        const d = parseMaildirFile(where, new Uint8Array(readFileSync(path)), epoch);
        if (typeof d === 'string') {
          violations.push(d);
          continue;
        }
        if (d.recipient !== address(name)) violations.push(`${where}: Delivered-To ${d.recipient}, in ${name}'s Maildir`);
        const identity = checkCopy(where, d.mess, d.sender, rules, violations);
        attempts.push({ recipient: d.recipient, report: 'K', message: d.mess, epoch, identity });
      }
    }
  }
  const logs = sup.runs.map((r) => ({ run: r.n, text: text(r.out) }));
  for (const { run, text: log } of logs) for (const v of checkLog(log).violations) violations.push(`run ${run}: ${v}`);
  for (const r of sup.runs) {
    const err = text(r.err);
    if (/internal error|\n\s+at |Error: /.test(err)) violations.push(`run ${r.n}: stderr: ${JSON.stringify(err.slice(0, 600))}`);
  }
  const ledger = checkDeliveries({ accepted, uncertain: [], attempts, address: (r) => r, bounceName: (r) => r, ends: copyEnds(logs) });
  violations.push(...ledger.violations);
  return { accepted: accepted.length, refused, files: attempts.length, byTime, tmpLeft, counts: ledger.counts, violations, duplicatesAfter: duplicatesByRun(attempts) };
}
