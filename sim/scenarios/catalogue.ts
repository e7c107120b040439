// The scenario catalogue of `qsim run --scenario NAME` (issue 5): named runs of the whole MTA with
// the real local channel (mta-world.ts), each driving one kind of trouble, each ending with a healed
// phase (four days: every retry, every OSSIFIED cleanup), a clean restart, one more message, and
// mta-crash's full checks (the delivery ledger, the mailboxes byte for byte, the queue, every log
// line, no delivery as root, no program crashed), plus the scenario's own:
//
//   steady           traffic spread over a simulated day, a couple of faults;
//   spike            bursts of 50 x concurrencylocal messages at one instant; the queue drains,
//                    nothing is lost; the peak queue depth is reported;
//   crash-storm      power losses and kills close together, some during queue-fix or the boot;
//   disk-full        the disk fills for a few hours: clients get qmail-queue's 53 and nothing they
//                    were refused is ever delivered, deliveries defer and get through once space
//                    returns;
//   eio              EIO from random file operations for a window: daemons may exit 111 (restarted
//                    as supervise does), clients get temporary failures, nothing accepted is lost;
//   slow-deliveries  .qmail programs that hang for hours, defer (exit 111) some times, bounce
//                    (exit 100); every retry comes on qmail's schedule: the k-th retry at
//                    birth + (10k)² s (nextretry, spec/send.ts chanskip);
//   clock-steps      the wall clock jumps forwards and backwards during traffic: nothing lost,
//                    retries still happen, no busy loop (events in a quiet day are bounded);
//   aged-queue       remote mail deferred past queuelifetime (partly by a clock step past it):
//                    bounced after the last try with qmail's text, never before the lifetime ends.
//
// Each run also collects coverage marks (sim/coverage.ts) from outside: the trace, the logs, the
// ledger. `size` scales the traffic (1: a few seconds here; 10 and more: big runs).

import type { CrashProfile, SimFsApi } from '../fs-api.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';
import type { QmailBoot } from '../boot.ts';
import { queueFix } from '../install.ts';
import { mtaWorld, mtaMe, remoteDomain, sinkProgram, type MtaWorld } from './mta-world.ts';
import {
  boot, check, copyRules, current, fault, nextEpoch, randomText, runFor, snapshotMboxes, stop, unknownLocals, waitDown,
  type MtaCrashResult, type MtaFault, type State, newState,
} from './mta-crash.ts';
import { addLocalUser, userFile, type LocalUser } from './lspawn-world.ts';
import type { Mail } from './send-world.ts';
import type { CopyRules } from '../checkers/mailboxes.ts';
import { Coverage, CoverageWatch, marksFromLedger, marksFromLogs, type CoverageCounts } from '../coverage.ts';
import { qqMessages, qq } from '../../spec/exit-codes.ts';
import { dyingText } from '../../spec/send.ts';
import { remoteReports } from '../../spec/remote.ts';
import type { Errno } from '../../impl/sys/errors.ts';
import type { Prng } from '../prng.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { parseLogLine } from '../../spec/log.ts';

export const scenarioNames = ['steady', 'spike', 'crash-storm', 'disk-full', 'eio', 'slow-deliveries', 'clock-steps', 'aged-queue'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface CatalogueOpts {
  seed: number;
  /** Traffic scale: 1 (default) runs in seconds; bigger runs more messages and faults. */
  size?: number;
  profile?: CrashProfile;
  /** Replacement programs (a deliberately broken daemon, in tests). */
  override?: Record<string, Program>;
}

export interface DepthSample {
  tMs: number;
  /** Messages in mess/. */
  depth: number;
  /** Submissions so far. */
  submitted: number;
}

export interface CatalogueResult extends MtaCrashResult {
  scenario: ScenarioName;
  size: number;
  /** Submissions, refused ones included. */
  submitted: number;
  coverage: CoverageCounts;
  /** The scenario's own figures (peak depth, refusals, retry checks...). */
  rows: [string, string][];
  samples: DepthSample[];
  /** Virtual ms of each fault (red lines in the html report). */
  faultTimes: number[];
}

const secMs = 1000;
const minuteMs = 60 * secMs;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;
const healedMs = 4 * dayMs;
/** The sim's program for .qmail lines of the catalogue's own users (see flakyMain). */
export const flakyProgram = 'sim-flaky';

/** One run of a .qmail program of the catalogue's users, seen from inside that program. */
export interface ProgramRun {
  index: number;
  recipient: string;
  tMs: number;
  code: number;
}

/** A scenario run in progress: the world, mta-crash's state, coverage, samples, and supervise. */
export class Driver {
  readonly cov = new Coverage();
  readonly watch: CoverageWatch;
  readonly samples: DepthSample[] = [];
  readonly faultTimes: number[] = [];
  readonly programRuns: ProgramRun[] = [];
  /** Called at each sample (at most once a sample interval of virtual time). */
  onSample: (() => void) | null = null;
  /** Wall-clock ms (what qmail sees) at which each submission was started, by index. */
  readonly submitMs: number[] = [];
  readonly notes: string[] = [];
  readonly rows: [string, string][] = [];
  /** Addresses that may bounce, with their failure text (beyond mta-crash's unknown locals). */
  readonly failures = new Map<string, string>();
  b: QmailBoot;
  /** qmail-start exits no one asked for are fine (eio); elsewhere each is a violation. */
  unplannedExitsAllowed = false;
  unplannedExits = 0;
  private sampleEveryMs = minuteMs;
  private nextSampleMs = 0;
  readonly rng: Prng;

  constructor(readonly st: State) {
    this.rng = st.rng;
    const { w } = st;
    this.watch = new CoverageWatch(this.cov, () => w.k.nowMs, new Set([flakyProgram]));
    const own = w.observe.bind(w);
    w.observe = (pid, event, fields) => {
      own(pid, event, fields);
      this.watch.observe(pid, event, fields);
    };
    this.b = this.boot();
  }

  get w(): MtaWorld {
    return this.st.w;
  }

  boot(): QmailBoot {
    this.watch.recoveryUntilMs = this.w.k.nowMs + minuteMs;
    return this.outside(() => boot(this.st));
  }

  submit(mail: Mail): void {
    this.submitMs.push(this.w.k.clock.wallMs());
    this.outside(() => this.w.submit(mail));
  }

  /** True while the driver itself starts a process from outside the world (a fault hook leaves
   *  those alone: an exec that fails would be the harness's, not the MTA's). */
  outsideNow = false;

  private outside<T>(fn: () => T): T {
    this.outsideNow = true;
    try {
      return fn();
    } finally {
      this.outsideNow = false;
    }
  }

  sampleEvery(ms: number): void {
    this.sampleEveryMs = ms;
    this.nextSampleMs = this.w.k.nowMs;
  }

  /** Runs ms of virtual time, sampling the queue, restarting qmail-start as supervise does when it
   *  exited on its own. */
  async run(ms: number): Promise<void> {
    const { k } = this.w;
    const end = k.nowMs + ms;
    // The kernel keeps whole microseconds: compare there, or a float's last bit loops forever.
    while (Math.round(k.nowMs * 1000) < Math.round(end * 1000)) {
      await k.run({ untilMs: end, until: () => this.tick() });
      if (this.b.status() !== null) await this.restartAfterExit();
    }
  }

  /** Runs until no local work is left (no submission running, no delivery, nothing but remote mail
   *  in the queue), at most limitMs; the ms it took, or null. */
  async drain(limitMs: number): Promise<number | null> {
    const { k } = this.w;
    const t0 = k.nowMs;
    while (k.nowMs - t0 < limitMs) {
      if (this.idle()) return k.nowMs - t0;
      await this.run(Math.min(minuteMs, limitMs - (k.nowMs - t0)));
    }
    return this.idle() ? k.nowMs - t0 : null;
  }

  /** One of mta-crash's faults, with its marks. */
  async fault(kind: MtaFault): Promise<void> {
    this.faultTimes.push(this.w.k.nowMs);
    if (kind === 'kill-worker' && this.w.deliveryPids().length > 0) this.cov.mark('worker-killed-mid-delivery');
    if (kind !== 'power' && kind !== 'kill-worker') this.cov.mark('daemon-killed');
    const old = this.b;
    if (kind === 'power') {
      this.b = await fault(this.st, kind, old);
      this.watch.recoveryUntilMs = this.w.k.nowMs + minuteMs;
      return;
    }
    this.b = await fault(this.st, kind, old);
    if (this.b !== old && old.status()?.code === 111) this.cov.mark('start-exit-111');
    if (this.b !== old) this.watch.recoveryUntilMs = this.w.k.nowMs + minuteMs;
  }

  /** A power loss that may strike again while queue-fix repairs the queue (each queue-fix run is
   *  cut after a random number of events), then boots. */
  async powerStorm(again: number): Promise<void> {
    const { k } = this.w;
    this.faultTimes.push(k.nowMs);
    this.st.faults.power++;
    k.powerLoss();
    current(this.st).crashed = true;
    nextEpoch(this.st);
    // From now until the boot's first minute, another power loss strikes during recovery.
    this.watch.recoveryUntilMs = Infinity;
    for (let n = 0; ; n++) {
      const h = k.spawn(`${this.w.inst.home}/bin/queue-fix`, ['queue-fix', `${this.w.inst.home}/queue`], { env: { QMAILHOME: this.w.inst.home } });
      const done = h.wait();
      if (n < again && this.rng.chance(0.6)) {
        await k.run({ until: () => h.status() !== null, maxEvents: 1 + this.rng.int(400) });
        if (h.status() === null) {
          this.faultTimes.push(k.nowMs);
          this.st.faults.power++;
          k.powerLoss();
          continue;
        }
      }
      await k.run({ until: () => h.status() !== null });
      const r = await done;
      if (r.code !== 0) this.notes.push(`queue-fix after a power loss exited ${r.code}: ${r.stdout}${r.stderr}`);
      break;
    }
    this.b = this.boot();
  }

  /** The healed phase, the clean restart with one more message, the checks. */
  async heal(): Promise<void> {
    await this.run(healedMs);
    await stop(this.st, this.b);
    nextEpoch(this.st);
    this.b = this.boot();
    this.submit({ sender: `sender@${remoteDomain}`, recipients: [`m1@${mtaMe}`] });
    await this.run(hourMs);
    await stop(this.st, this.b);
    current(this.st).lastEpoch = this.w.epoch;
    snapshotMboxes(this.st);
  }

  /** mta-crash's checks with this driver's failure texts; `refusals` says what a refused
   *  submission may be: none (a violation), temporary (qmail's 5x-8x codes; nothing of it may
   *  ever be delivered), or uncertain (temporary, and it may have been queued anyway). */
  finish(scenario: ScenarioName, opts: CatalogueOpts, refusals: 'none' | 'temporary' | 'uncertain'): CatalogueResult {
    const { w } = this;
    const base = copyRules(w);
    const rules: CopyRules = { ...base, failureText: (r) => this.failures.get(r) ?? base.failureText(r) };
    const refused = w.submitted.filter((s) => s.code !== 0 && s.code !== null && s.code !== undefined);
    this.cov.mark('qq-tempfail', refused.length);
    this.rows.push(['refused submissions', refused.length === 0 ? '0' : `${refused.length} (${codeCounts(refused.map((s) => s.code as number))})`]);
    const extra: string[] = [];
    for (const s of refused) {
      if (refusals === 'none') continue;
      // 111: mta-world's client could not start qmail-queue at all (an exec that met EIO).
      const text = s.code === 111 ? 'Z' : qqMessages[s.code as number];
      if (text === undefined || !text.startsWith('Z')) extra.push(`submission ${s.index}: qmail-queue exited ${s.code}, not a temporary failure`);
      if (refusals === 'uncertain') s.code = null;
    }
    const r = check(this.st, { seed: opts.seed, messages: w.submitted.length, faults: 0, profile: w.k.fs.profile }, rules);
    const violations = r.violations.filter((v) => refusals === 'none' || !v.startsWith('qmail-queue refused'));
    if (this.unplannedExits > 0 && !this.unplannedExitsAllowed) violations.push(`qmail-start exited on its own ${this.unplannedExits} times`);
    violations.push(...this.notes, ...extra);
    marksFromLedger(this.cov, r.counts);
    marksFromLogs(this.cov, this.st.runs.map((run) => run.boot.log()));
    this.rows.unshift(['peak queue depth', String(Math.max(0, ...this.samples.map((s) => s.depth)))]);
    return { ...r, violations, scenario, size: opts.size ?? 1, submitted: w.submitted.length, coverage: this.cov.counts, rows: this.rows, samples: this.samples, faultTimes: this.faultTimes };
  }

  depth(): number {
    const { k, inst } = this.w;
    const mess = `${inst.queue.dir}/mess`;
    let n = 0;
    for (const sub of k.fs.peekDir(mess) ?? []) n += k.fs.peekDir(`${mess}/${sub}`)?.length ?? 0;
    return n;
  }

  private tick(): boolean {
    const { k } = this.w;
    if (k.nowMs >= this.nextSampleMs) {
      this.nextSampleMs = k.nowMs + this.sampleEveryMs;
      this.samples.push({ tMs: k.nowMs, depth: this.depth(), submitted: this.w.submitted.length });
      this.onSample?.();
      // Bounded: past 4000 samples keep every other one and sample half as often.
      if (this.samples.length > 4000) {
        this.samples.splice(0, this.samples.length, ...this.samples.filter((_, i) => i % 2 === 0));
        this.sampleEveryMs *= 2;
      }
    }
    return this.b.status() !== null;
  }

  private async restartAfterExit(): Promise<void> {
    this.unplannedExits++;
    this.faultTimes.push(this.w.k.nowMs);
    await waitDown(this.st, this.b, 'an exit of its own');
    nextEpoch(this.st);
    this.b = this.boot();
  }

  private idle(): boolean {
    const { w } = this;
    if (w.deliveryPids().length > 0 || w.submitted.some((s) => s.code === undefined)) return false;
    const q = w.inst.queue;
    for (const dir of ['todo', 'local']) {
      for (let s = 0; s < q.split; s++) if ((w.k.fs.peekDir(`${q.dir}/${dir}/${s}`) ?? []).length > 0) return false;
      if ((w.k.fs.peekDir(`${q.dir}/${dir}`) ?? []).some((n) => /^[0-9]+$/.test(n) && Number(n) >= q.split)) return false;
    }
    return true;
  }
}

function codeCounts(codes: number[]): string {
  const m = new Map<number, number>();
  for (const c of codes) m.set(c, (m.get(c) ?? 0) + 1);
  return [...m].sort((a, b) => a[0] - b[0]).map(([c, n]) => `exit ${c}: ${n}`).join(', ');
}

// ---- the world: mta-world plus the catalogue's program users ----

interface WorldTweaks {
  controls?: Record<string, string>;
  /** name → .qmail text for extra users (each also looked for as a program user). */
  users?: Record<string, string>;
}

async function start(opts: CatalogueOpts, tweaks: WorldTweaks = {}): Promise<Driver> {
  const w = await mtaWorld({ seed: opts.seed, profile: opts.profile ?? 'posix', override: opts.override });
  for (const [name, text] of Object.entries(tweaks.controls ?? {})) {
    w.k.writeFile(`${w.inst.home}/control/${name}`, `${text}\n`, { uid: 0, gid: 0, mode: 0o644 });
  }
  let uid = 2501;
  for (const [name, text] of Object.entries(tweaks.users ?? {})) {
    const u = addLocalUser(w.k, name, uid++);
    userFile(w.k, u, '.qmail', text);
    w.users.program.push(u);
  }
  const d = new Driver(newState(w));
  installFlaky(d);
  return d;
}

async function readAll(sys: Sys): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65_536);
  for (let n = await sys.fs.read(0, buf, 0, buf.length, null); n > 0; n = await sys.fs.read(0, buf, 0, buf.length, null)) chunks.push(buf.slice(0, n));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** `sim-flaky MODE ARG`, a .qmail program: `defer N` exits 111 for the first N runs for each
 *  (message, recipient), then delivers (as mta-world's sink); `fail` exits 100 (nothing printed);
 *  `slow MS` sleeps MS of virtual time, then delivers. Each run is recorded outside the world. */
function installFlaky(d: Driver): void {
  const { k } = d.w;
  const sink = k.programs.get(sinkProgram) as Program;
  const seen = new Map<string, number>();
  k.programs.register(flakyProgram, async (sys: Sys) => {
    const [, mode = '', arg = '0'] = sys.proc.self.argv;
    const recipient = sys.proc.self.env['RECIPIENT'] ?? '';
    const tMs = sys.clock.nowMs();
    if (mode === 'slow') {
      await sys.clock.sleep(Number(arg));
      d.programRuns.push({ index: -1, recipient, tMs, code: 0 });
      return sink(sys);
    }
    // All of stdin first, as a program that reads its message does (no EPIPE for qmail-local).
    const bytes = await readAll(sys);
    const index = Number(/^X-Sim-Index: ([0-9]+)$/m.exec(latin1(bytes.subarray(0, 1024)))?.[1] ?? -1);
    const key = `${index} ${recipient}`;
    const runs = (seen.get(key) ?? 0) + 1;
    seen.set(key, runs);
    const code = mode === 'fail' ? 100 : runs <= Number(arg) ? 111 : 0;
    d.programRuns.push({ index, recipient, tMs, code });
    if (code === 0) {
      const self = sys.proc.self;
      d.w.sinks.push({ pid: self.pid, uid: self.uid, euid: self.euid, recipient, dtLine: self.env['DTLINE'] ?? '', rpLine: self.env['RPLINE'] ?? '', bytes });
    }
    return code;
  });
  k.install(`/usr/bin/${flakyProgram}`, flakyProgram, { uid: 0, gid: 0, mode: 0o755 });
}

interface MailMix {
  /** Share of remote recipients (held: DNS never resolves). */
  remote?: number;
  /** Extra local addresses to draw from, with their share. */
  extra?: string[];
  extraShare?: number;
}

function randomMail(rng: Prng, w: MtaWorld, mix: MailMix = {}): Mail {
  const { maildir, mbox, forward } = w.users;
  const local = (u: LocalUser): string => `${u.name}@${mtaMe}`;
  const sender = rng.pick([...maildir.map(local), ...mbox.map(local), `sender@${remoteDomain}`, '', `ghost@${mtaMe}`]);
  const n = 1 + rng.int(rng.chance(0.1) ? 5 : 2);
  const remote = mix.remote ?? 0.1;
  const extraShare = mix.extra === undefined ? 0 : (mix.extraShare ?? 0.3);
  const recipients = Array.from({ length: n }, () => {
    const roll = rng.float();
    if (roll < remote) return `r${rng.int(5)}@${remoteDomain}`;
    if (roll < remote + extraShare) return rng.pick(mix.extra as string[]);
    if (roll < 0.8) return local(rng.pick(maildir));
    if (roll < 0.88) return local(rng.pick(mbox));
    if (roll < 0.93) return local(rng.pick(forward));
    return `${rng.pick(unknownLocals.slice(0, 3))}@${mtaMe}`;
  });
  return { sender, recipients, text: randomText(rng) };
}

function sizeOf(o: CatalogueOpts): number {
  const s = o.size ?? 1;
  if (!(Number.isFinite(s) && s > 0 && s <= 1000)) throw new Error(`catalogue: size ${s}: between 0 and 1000`);
  return s;
}

const count = (o: CatalogueOpts, n: number): number => Math.max(1, Math.round(n * sizeOf(o)));

// ---- the scenarios ----

async function steady(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o);
  const messages = count(o, 30);
  const gap = dayMs / messages;
  const faultAt = new Set(Array.from({ length: 1 + d.rng.int(2) }, () => d.rng.int(messages)));
  for (let i = 0; i < messages; i++) {
    d.submit(randomMail(d.rng, d.w));
    await d.run(Math.round(gap * (0.2 + 1.6 * d.rng.float())));
    if (faultAt.has(i)) await d.fault(d.rng.pick(['power', 'kill-send', 'kill-worker', 'kill-lspawn'] as MtaFault[]));
  }
  await d.heal();
  return d.finish('steady', o, 'none');
}

/** control/concurrencylocal for spike: small, so that 50 x it is a burst the sim runs quickly. */
const spikeConcurrency = 2;

async function spike(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o, { controls: { concurrencylocal: String(spikeConcurrency), concurrencyremote: String(spikeConcurrency) } });
  const bursts = count(o, 1);
  const perBurst = 50 * spikeConcurrency;
  d.sampleEvery(100);
  const drains: number[] = [];
  for (let b = 0; b < bursts; b++) {
    for (let i = 0; i < perBurst; i++) d.submit(randomMail(d.rng, d.w, { remote: 0.03 }));
    const took = await d.drain(12 * hourMs);
    if (took === null) d.notes.push(`burst ${b + 1}: local mail not drained within 12 h (queue depth ${d.depth()})`);
    else drains.push(took);
    d.sampleEvery(minuteMs);
    await d.run(d.rng.int(2 * hourMs));
    d.sampleEvery(100);
  }
  d.sampleEvery(minuteMs);
  d.rows.push(['bursts', `${bursts} x ${perBurst} messages (concurrencylocal ${spikeConcurrency})`]);
  d.rows.push(['drain time', drains.map((ms) => `${(ms / 1000).toFixed(0)} s`).join(', ')]);
  await d.heal();
  return d.finish('spike', o, 'none');
}

async function crashStorm(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o);
  const storms = count(o, 3);
  const kinds: MtaFault[] = ['power', 'power', 'kill-send', 'kill-todo', 'kill-lspawn', 'kill-clean', 'kill-worker'];
  for (let s = 0; s < storms; s++) {
    for (let i = 0; i < 10; i++) d.submit(randomMail(d.rng, d.w));
    await d.run(d.rng.int(30 * secMs));
    // A storm: several faults seconds apart, some before the boot after the last one got far.
    for (let f = 0, n = 3 + d.rng.int(4); f < n; f++) {
      const kind = d.rng.pick(kinds);
      if (kind === 'power') await d.powerStorm(2);
      else await d.fault(kind);
      await d.w.k.run({ maxEvents: d.rng.int(300), untilMs: d.w.k.nowMs + d.rng.int(5 * secMs) });
      if (d.rng.chance(0.3)) d.submit(randomMail(d.rng, d.w));
    }
    await d.run(d.rng.int(hourMs));
  }
  await d.heal();
  return d.finish('crash-storm', o, 'none');
}

async function diskFull(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o);
  const fs = d.w.k.fs as SimFsApi & { usedBytes(): number };
  const before = count(o, 10);
  const during = count(o, 15);
  for (let i = 0; i < before; i++) d.submit(randomMail(d.rng, d.w));
  await d.run(d.rng.int(minuteMs));
  // The disk fills: a few KB left, for 2 to 6 hours, while traffic goes on.
  const left = d.rng.int(8192);
  fs.setCapacity(fs.usedBytes() + left);
  d.faultTimes.push(d.w.k.nowMs);
  const windowMs = 2 * hourMs + d.rng.int(4 * hourMs);
  for (let i = 0; i < during; i++) {
    d.submit(randomMail(d.rng, d.w));
    await d.run(Math.round(windowMs / during));
  }
  fs.setCapacity(Infinity);
  d.faultTimes.push(d.w.k.nowMs);
  d.rows.push(['disk full', `${(windowMs / hourMs).toFixed(1)} h, ${left} bytes left`]);
  for (let i = 0; i < before; i++) d.submit(randomMail(d.rng, d.w));
  await d.heal();
  const r = d.finish('disk-full', o, 'temporary');
  for (const s of d.w.submitted) if (s.code !== 0 && s.code !== qq.tempWriteError) r.violations.push(`submission ${s.index}: qmail-queue exited ${s.code} while the disk was full, not ${qq.tempWriteError}`);
  return r;
}

/** File operations EIO may strike (null-path ones hit whoever runs them). */
const eioOps = ['open', 'read', 'write', 'fsync', 'rename', 'link', 'unlink', 'readdir', 'stat', 'mkdir'] as const;
/** Path groups: which daemon's files (queue dirs) or the deliveries' (home dirs). */
const eioTargets = ['/queue/mess', '/queue/todo', '/queue/intd', '/queue/info', '/queue/local', '/queue/remote', '/queue/bounce', '/queue/pid', '/home/'];

async function eio(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o);
  d.unplannedExitsAllowed = true;
  const messages = count(o, 30);
  for (let i = 0; i < messages / 3; i++) d.submit(randomMail(d.rng, d.w));
  await d.run(d.rng.int(minuteMs));
  const faultRng = d.w.k.prng('catalogue.eio');
  // A random half of the operations on a random few of the path groups (never none of either).
  const ops = new Set([faultRng.pick(eioOps), ...eioOps.filter(() => faultRng.chance(0.5))]);
  const targets = [...new Set([faultRng.pick(eioTargets), ...eioTargets.filter(() => faultRng.chance(0.3))])];
  const p = 0.02 + 0.1 * faultRng.float();
  let injected = 0;
  // A delivery whose undo failed too (the new/ file it could not make durable could not be
  // unlinked, an mbox it could not truncate back) leaves its copy and defers: a duplicate in one
  // run that at-least-once allows. Counted from the trace.
  let failedUndos = 0;
  const own = d.w.observe.bind(d.w);
  d.w.observe = (pid, event, fields) => {
    own(pid, event, fields);
    if (fields?.['err'] !== 'EIO') return;
    if ((event === 'sys.unlink' && String(fields['path']).includes('/Maildir/new/')) || event === 'sys.ftruncate') failedUndos++;
  };
  d.w.k.fs.setFaultHook((op, path): Errno | null => {
    if (d.outsideNow || !ops.has(op as (typeof eioOps)[number])) return null;
    if (path !== null && !targets.some((t) => path.includes(t))) return null;
    if (!faultRng.chance(path === null ? p / 4 : p)) return null;
    injected++;
    return 'EIO';
  });
  d.faultTimes.push(d.w.k.nowMs);
  const windowMs = hourMs + d.rng.int(2 * hourMs);
  for (let i = 0; i < messages / 3; i++) {
    d.submit(randomMail(d.rng, d.w));
    await d.run(Math.round(windowMs / (messages / 3)));
  }
  d.w.k.fs.setFaultHook(null);
  d.faultTimes.push(d.w.k.nowMs);
  d.rows.push(['EIO window', `${(windowMs / hourMs).toFixed(1)} h, ${injected} errors on ${[...ops].join(',')} of ${targets.join(' ')} (p ${p.toFixed(3)})`]);
  d.rows.push(['qmail-start exits', String(d.unplannedExits)]);
  for (let i = 0; i < messages / 3; i++) d.submit(randomMail(d.rng, d.w));
  await d.heal();
  const r = d.finish('eio', o, 'uncertain');
  // qmail-send's "trouble marking ...; message will be delivered twice!" and failed undos: a
  // duplicate in one run each, no more.
  let marks = (d.cov.counts['warning: mark'] ?? 0) + failedUndos;
  r.violations = r.violations.filter((v) => !(/ delivered [0-9]+ times in run [0-9]+$/.test(v) && marks-- > 0));
  return r;
}

/** Local retries (channel 0): the k-th at birth + (10k)² s; late by at most this. */
const retrySlackMs = 5 * minuteMs;

async function slowDeliveries(o: CatalogueOpts): Promise<CatalogueResult> {
  const hangMs = 2 * hourMs + 3 * minuteMs;
  const d = await start(o, {
    users: {
      d1: `|${flakyProgram} defer 1\n`,
      d3: `|${flakyProgram} defer 3\n`,
      d6: `|${flakyProgram} defer 6\n`,
      x1: `|${flakyProgram} fail\n`,
      h1: `|${flakyProgram} slow ${hangMs}\n`,
    },
  });
  d.failures.set(`x1@${mtaMe}`, '');
  const extra = ['d1', 'd3', 'd6', 'x1', 'h1'].map((u) => `${u}@${mtaMe}`);
  const messages = count(o, 25);
  for (let i = 0; i < messages; i++) {
    const m = randomMail(d.rng, d.w, { extra, extraShare: 0.4 });
    // At most a few hung programs at once: concurrencylocal is 10.
    // Each recipient once: the retry check follows one delivery per (message, recipient).
    m.recipients = [...new Set(m.recipients)];
    if (m.recipients.includes(`h1@${mtaMe}`) && d.rng.chance(0.5)) m.recipients = m.recipients.filter((r) => r !== `h1@${mtaMe}`).concat(`m1@${mtaMe}`);
    d.submit(m);
    await d.run(d.rng.int(20 * minuteMs));
  }
  await d.heal();
  const r = d.finish('slow-deliveries', o, 'none');
  const checked = retrySchedule(d, r.violations);
  r.rows.push(['retries on schedule', `${checked} checked against birth + (10k)^2 s`]);
  return r;
}

/** Every (message, recipient)'s program runs: the k-th retry neither early nor late. */
function retrySchedule(d: Driver, violations: string[]): number {
  const byKey = new Map<string, ProgramRun[]>();
  for (const run of d.programRuns) {
    if (run.index < 0) continue;
    const key = `${run.index} ${run.recipient}`;
    byKey.set(key, [...(byKey.get(key) ?? []), run]);
  }
  let checked = 0;
  for (const [key, runs] of byKey) {
    const index = Number(key.split(' ')[0]);
    const submitted = d.submitMs[index];
    // A pass over a message ends when all its deliveries do: one that also names the hanging
    // program is retried after the hang (qmail's nextretry is per message), so it is not timed.
    if (submitted === undefined || d.w.submitted[index]?.recipients.includes(`h1@${mtaMe}`)) continue;
    // qmail's birth is info's mtime in whole seconds: at most a few seconds after the submission.
    const birthMin = Math.floor(submitted / secMs) * secMs;
    runs.forEach((run, k) => {
      if (k === 0) return;
      const due = birthMin + (10 * k) ** 2 * secMs;
      checked++;
      if (run.tMs < due - secMs) violations.push(`retry ${k} of ${key}: at ${run.tMs} ms, before its due ${due} ms`);
      else if (run.tMs > due + retrySlackMs) violations.push(`retry ${k} of ${key}: at ${run.tMs} ms, more than ${retrySlackMs / 1000} s after its due ${due} ms`);
    });
    const last = runs[runs.length - 1] as ProgramRun;
    if (last.code === 111) violations.push(`${key}: its last run deferred`);
  }
  return checked;
}

async function clockSteps(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o, { users: { d2: `|${flakyProgram} defer 2\n` } });
  const messages = count(o, 30);
  const steps = count(o, 6);
  const stepAt = new Set(Array.from({ length: steps }, () => d.rng.int(messages)));
  let stepped = 0;
  for (let i = 0; i < messages; i++) {
    const m = randomMail(d.rng, d.w, { extra: [`d2@${mtaMe}`], extraShare: 0.15 });
    // The first message defers twice for sure: retries across the steps are what is checked.
    if (i === 0) m.recipients = [...new Set([...m.recipients, `d2@${mtaMe}`])];
    d.submit(m);
    await d.run(d.rng.int(30 * minuteMs));
    if (stepAt.has(i)) {
      // Up to 12 h either way: less than OSSIFIED's 36 h, far less than queuelifetime.
      const ms = (d.rng.chance(0.5) ? -1 : 1) * (minuteMs + d.rng.int(12 * hourMs));
      d.w.k.stepClock(ms);
      d.faultTimes.push(d.w.k.nowMs);
      stepped += ms;
    }
  }
  await d.run(healedMs);
  // No busy loop: a quiet day (only remote retries and the OSSIFIED scan) stays small.
  const e0 = d.w.k.eventsRun;
  await d.run(dayMs);
  const quiet = d.w.k.eventsRun - e0;
  d.rows.push(['clock steps', `${stepAt.size}, net ${(stepped / hourMs).toFixed(1)} h`]);
  d.rows.push(['events in a quiet day', String(quiet)]);
  await d.heal();
  const r = d.finish('clock-steps', o, 'none');
  const bound = 20_000 * sizeOf(o);
  if (quiet > bound) r.violations.push(`busy loop: ${quiet} events in a quiet simulated day (bound ${bound})`);
  if (!d.programRuns.some((run) => run.code === 111) || !d.programRuns.some((run) => run.code === 0)) r.violations.push('no deferred program delivery was retried');
  return r;
}

/** queuelifetime for aged-queue: 2 days. */
const agedLifetimeSec = 2 * 86_400;

async function agedQueue(o: CatalogueOpts): Promise<CatalogueResult> {
  const d = await start(o, { controls: { queuelifetime: String(agedLifetimeSec) } });
  const dyingAt = watchDying(d);
  const messages = count(o, 12);
  for (let i = 0; i < messages; i++) {
    const m = randomMail(d.rng, d.w, { remote: 0.5 });
    d.submit(m);
    await d.run(d.rng.int(hourMs));
  }
  for (let i = 0; i < 5; i++) d.failures.set(`r${i}@${remoteDomain}`, `${remoteReports.dnsTemp.slice(1)}${dyingText}`);
  for (const a of ['f2-away', 'sender', 'list']) d.failures.set(`${a}@${remoteDomain}`, `${remoteReports.dnsTemp.slice(1)}${dyingText}`);
  // Half the seeds: the clock steps past the lifetime at once (a queue aged while the host was
  // down); the others wait it out.
  const stepped = d.rng.chance(0.5);
  if (stepped) {
    d.w.k.stepClock(agedLifetimeSec * secMs + hourMs);
    d.faultTimes.push(d.w.k.nowMs);
  }
  d.sampleEvery(10 * secMs);
  await d.heal();
  const r = d.finish('aged-queue', o, 'none');
  if (r.counts.held > 0) r.violations.push(`${r.counts.held} remote recipients still queued past queuelifetime`);
  const bounced = agedBounceTiming(d, r.violations);
  const timed = dyingTiming(d, dyingAt, stepped, r.violations);
  r.rows.push(['dying deliveries', `${bounced} (${timed} timed against birth + queuelifetime${stepped ? ', clock stepped past it' : ''})`]);
  return r;
}

interface Dying {
  index: number;
  wallMs: number;
}

/** Watches each boot's log at every sample for dying failures of submitted messages, with the wall
 *  time they were seen (within a sample interval of when they were logged). */
function watchDying(d: Driver): Dying[] {
  const out: Dying[] = [];
  const read = new Map<QmailBoot, number>();
  const starts = new Map<string, number>();
  const qpOf = new Map<number, number>();
  d.onSample = () => {
    const run = current(d.st).boot;
    const text = run.log();
    const from = read.get(run) ?? 0;
    const end = text.lastIndexOf('\n') + 1;
    if (end <= from) return;
    read.set(run, end);
    for (const line of text.slice(from, end).split('\n')) {
      const e = parseLogLine(line);
      if ('error' in e) continue;
      if (e.kind === 'info') qpOf.set(e.id, e.qp);
      if (e.kind === 'starting') starts.set(`${run.pid} ${e.delivery.n}`, e.id);
      if (e.kind !== 'delivery' || !dyingReport(e.report)) continue;
      const id = starts.get(`${run.pid} ${e.delivery.n}`);
      const qp = id === undefined ? undefined : qpOf.get(id);
      const index = qp === undefined ? null : d.w.submissionOf(qp);
      if (index !== null) out.push({ index, wallMs: d.w.k.clock.wallMs() });
    }
  };
  return out;
}

function dyingReport(report: string): boolean {
  return report.replace(/_/g, ' ').includes('in the queue too long');
}

/** A dying failure never before birth + queuelifetime; without a clock step, no later than the
 *  first remote retry after it (nextretry: birth + (floor(sqrt(lifetime)) + 20)² s) and a sample. */
function dyingTiming(d: Driver, dying: readonly Dying[], stepped: boolean, violations: string[]): number {
  const lastTry = (Math.floor(Math.sqrt(agedLifetimeSec)) + 20) ** 2 * secMs;
  for (const x of dying) {
    const birth = d.submitMs[x.index] as number;
    if (x.wallMs < Math.floor(birth / secMs) * secMs + agedLifetimeSec * secMs) violations.push(`message ${x.index}: bounced as too old at wall ${x.wallMs}, before birth ${birth} + queuelifetime`);
    if (!stepped && x.wallMs > birth + lastTry + 10 * minuteMs) violations.push(`message ${x.index}: bounced as too old at wall ${x.wallMs}, after its last try (birth ${birth} + ${lastTry / 1000} s)`);
  }
  return dying.length;
}

/** From the logs: deliveries that ended as too long in the queue (there must be some), each a
 *  failure whose report starts with the DNS deferral's text. */
function agedBounceTiming(d: Driver, violations: string[]): number {
  let dying = 0;
  for (const run of d.st.runs) {
    for (const line of run.boot.log().split('\n')) {
      const e = parseLogLine(line);
      if ('error' in e || e.kind !== 'delivery' || !dyingReport(e.report)) continue;
      dying++;
      if (e.result !== 'failure' || !e.report.startsWith("Sorry,_I_couldn't_find_any_host_by_that_name.")) violations.push(`dying delivery not in qmail's words: ${line}`);
    }
  }
  if (dying === 0) violations.push('no delivery ended as too long in the queue');
  return dying;
}

export interface CatalogueEntry {
  summary: string;
  run(o: CatalogueOpts): Promise<CatalogueResult>;
}

export const catalogue: Readonly<Record<ScenarioName, CatalogueEntry>> = {
  steady: { summary: 'steady traffic over a simulated day, a fault or two', run: steady },
  spike: { summary: 'bursts of 50 x concurrencylocal messages at once; drains, nothing lost, peak depth', run: spike },
  'crash-storm': { summary: 'power losses and kills seconds apart, some during queue-fix and the boot', run: crashStorm },
  'disk-full': { summary: 'the disk fills for hours: clients get exit 53, deliveries defer, then recover', run: diskFull },
  eio: { summary: 'EIO from random file operations for a window; daemons restarted, nothing accepted lost', run: eio },
  'slow-deliveries': { summary: '.qmail programs that hang, defer (111) and bounce (100); retries on schedule', run: slowDeliveries },
  'clock-steps': { summary: 'the wall clock jumps forwards and backwards; retries go on, no busy loop', run: clockSteps },
  'aged-queue': { summary: 'remote mail deferred past queuelifetime bounces after its last try', run: agedQueue },
};

export function isScenarioName(s: string): s is ScenarioName {
  return (scenarioNames as readonly string[]).includes(s);
}

/** One line that replays a catalogue run. */
export function catalogueReplay(name: ScenarioName, o: CatalogueOpts): string {
  return `npx tsx scripts/qsim.ts run --scenario ${name} --seed ${o.seed} --size ${o.size ?? 1} --profile ${o.profile ?? 'posix'}`;
}
