// Scenario "queue-crash": many concurrent clients queue generated messages through the real
// qmail-queue (setuid qmailq, spawned by the real client code); the power fails at random points;
// after each boot queue-fix repairs the queue. A faulty phase, then a healed phase in which every
// remaining message is submitted without faults. Then the OSSIFIED cleanup runs, and the checkers
// read the queue:
//   - every run whose qmail-queue exited 0 is queued exactly once, message and envelope byte-identical;
//   - a refused run is not queued; a run cut off by a crash is queued fully or not at all;
//   - no leftovers after the cleanup (no mess without todo, no stale intd, empty pid/);
//   - every name is its inode number, in the right split subdirectory; queue-fix -n finds it sound;
//   - no program crashed (kernel bugs).

import { Kernel } from '../kernel.ts';
import type { CrashProfile } from '../fs-api.ts';
import { addSubmitters, installQmail, queueFix, simIds, type Installation } from '../install.ts';
import { QueueLedger, type LedgerCounts } from '../checkers/ledger.ts';
import { checkQueue } from '../checkers/queue-state.ts';
import { generateMessage } from '../workload.ts';
import { queueMessage } from '../../impl/shared/qq-client.ts';
import { cleanupLeftovers } from '../../impl/shared/leftovers.ts';
import { ossifiedMs } from '../../spec/limits.ts';
import { messagePath } from '../../spec/queue.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';
import type { SpawnHandle } from '../world.ts';

export interface QueueCrashOpts {
  seed: number;
  messages: number;
  /** Clients in flight at once. */
  clients: number;
  crashes: number;
  profile: CrashProfile;
  split?: number;
  bigtodo?: boolean;
  /** A replacement qmail-queue (a deliberately broken writer, in tests). */
  queueProgram?: Program;
  /** Trace lines kept in memory (the hash covers all of them anyway). */
  keepTraceLines?: number;
  /** Receives every trace line, syscalls included (qsim replay); does not change the hash. */
  traceSink?: (line: string) => void;
  /** Watches the run (time series for `qsim run --html`); reads state only, changes nothing. */
  sampler?: QueueSampler;
}

/** What a sampler sees: called before each event (it decides itself when to record) and at crashes. */
export interface QueueSampler {
  tick(w: QueueCrashWorld): void;
  crash(w: QueueCrashWorld): void;
}

/** The world of one queue-crash run, after install, before any traffic. */
export interface QueueCrashWorld {
  k: Kernel;
  inst: Installation;
  ledger: QueueLedger;
  driver: Driver;
}

export interface QueueCrashResult {
  seed: number;
  counts: LedgerCounts;
  crashes: number;
  crashChoices: number;
  checks: number;
  violations: string[];
  simMs: number;
  events: number;
  traceHash: string;
  bugs: string[];
}

const exitFor = { ok: 0, D: 100, Z: 111 } as const;

/** The submitting client: what qmail-inject does with a finished message. */
function submitter(seed: number, home: string): Program {
  return async (sys: Sys) => {
    const index = Number(sys.proc.self.argv[1]);
    const m = generateMessage(seed, index);
    const r = await queueMessage(sys, m.message, m.envelope, { home, env: {} });
    if (r.kind !== 'ok') sys.log.event('info', 'client.refused', { index, message: r.message });
    return exitFor[r.kind];
  };
}

/** The OSSIFIED sweep qmail-send and qmail-clean run, a day and a half later. */
function cleaner(inst: Installation): Program {
  return async (sys: Sys) => {
    await sys.clock.sleep(ossifiedMs + 60_000);
    await cleanupLeftovers(sys, inst.queue, sys.clock.nowMs(), ossifiedMs);
    return 0;
  };
}

export class Driver {
  private next = 0;
  private inflight = 0;
  private generation = 0;
  readonly handles = new Set<SpawnHandle>();

  constructor(
    private readonly k: Kernel,
    private readonly inst: Installation,
    private readonly ledger: QueueLedger,
    private readonly uids: number[],
    private readonly opts: QueueCrashOpts,
  ) {}

  get done(): boolean {
    return this.next >= this.opts.messages && this.inflight === 0;
  }

  /** Starts clients up to the concurrency limit; each exit starts the next. */
  fill(): void {
    while (this.inflight < this.opts.clients && this.next < this.opts.messages) this.start(this.next++);
  }

  /** After a power loss nothing of the old generation may start more work. */
  crashed(): void {
    this.generation++;
    this.inflight = 0;
    this.ledger.powerLoss();
  }

  private start(index: number): void {
    const uid = this.uids[index % this.uids.length] as number;
    const gen = this.generation;
    this.ledger.begin(index, uid);
    this.inflight++;
    const h = this.k.spawn(`${this.inst.home}/bin/sim-submit`, ['sim-submit', String(index)], { uid, gid: 100 });
    void h.wait().then((status) => {
      if (gen !== this.generation) return;
      this.ledger.finish(index, status);
      this.inflight--;
      this.fill();
    });
  }
}

/** Builds the world: kernel, installation, submitters, ledger and driver; no traffic yet. */
export async function setUpQueueCrash(opts: QueueCrashOpts): Promise<QueueCrashWorld> {
  const k = new Kernel({ seed: opts.seed, profile: opts.profile, trace: { keepLines: opts.keepTraceLines ?? 1000, syscalls: false, sink: opts.traceSink } });
  const override: Record<string, Program> = opts.queueProgram === undefined ? {} : { 'qmail-queue': opts.queueProgram };
  const inst = await installQmail(k, { split: opts.split ?? 23, bigtodo: opts.bigtodo ?? false, override });
  k.programs.register('sim-submit', submitter(opts.seed, inst.home));
  k.programs.register('sim-cleanup', cleaner(inst));
  k.install(`${inst.home}/bin/sim-submit`, 'sim-submit', { uid: 0, gid: 0, mode: 0o755 });
  k.install(`${inst.home}/bin/sim-cleanup`, 'sim-cleanup', { uid: 0, gid: 0, mode: 0o755 });
  const uids = addSubmitters(k, 4);
  const ledger = new QueueLedger(opts.seed);
  return { k, inst, ledger, driver: new Driver(k, inst, ledger, uids, opts) };
}

export async function runQueueCrash(opts: QueueCrashOpts): Promise<QueueCrashResult> {
  const w = await setUpQueueCrash(opts);
  const { k, inst, ledger, driver } = w;
  const plan = k.prng('scenario');
  const sampler = opts.sampler;
  // The sampler watches from the `until` check, which runs before each event and changes nothing.
  const watch = (done: () => boolean) => () => {
    sampler?.tick(w);
    return done();
  };
  let crashChoices = 0;

  // Faulty phase: spread the crashes over the traffic, each at a random event.
  const perCrash = Math.max(1, Math.floor(opts.messages / (opts.crashes + 1)));
  for (let c = 0; c < opts.crashes; c++) {
    driver.fill();
    await k.run({ maxEvents: 1 + plan.int(perCrash * 60), until: watch(() => false) });
    crashChoices += k.powerLoss();
    driver.crashed();
    sampler?.crash(w);
    const fix = await queueFix(k, inst.home, []);
    if (fix.code !== 0) throw new Error(`seed ${opts.seed}: queue-fix after crash ${c + 1} exited ${fix.code}: ${fix.stdout}`);
  }
  // Healed phase: the rest of the traffic, no faults.
  driver.fill();
  await k.run({ until: watch(() => driver.done) });
  sampler?.tick(w);
  return finish(k, inst, ledger, opts, crashChoices);
}

/** The OSSIFIED sweep, then every checker over the queue and the ledger. */
export async function finish(k: Kernel, inst: Installation, ledger: QueueLedger, opts: QueueCrashOpts, crashChoices: number): Promise<QueueCrashResult> {
  // As root: the sweep reads info/ (qmails) and removes from mess/ (qmailq), as qmail-send and
  // qmail-clean do together.
  const sweep = k.spawn(`${inst.home}/bin/sim-cleanup`, ['sim-cleanup'], { uid: 0, gid: 0 });
  await k.run({ until: () => sweep.status() !== null });
  const report = checkQueue(k.fs, inst.queue);
  const ledgerCheck = ledger.check(report);
  const violations = [...report.violations, ...ledgerCheck.violations];
  for (const id of report.leftovers) violations.push(`leftover after cleanup: ${describe(k, inst, id)}`);
  if (report.pidFiles.length > 0) violations.push(`pid files after cleanup: ${report.pidFiles.join(' ')}`);
  if (report.orphans.length > 0) violations.push(`orphans after cleanup: ${report.orphans.join(' ')}`);
  const sound = await queueFix(k, inst.home, ['-n']);
  if (sound.code !== 0) violations.push(`queue-fix -n exited ${sound.code}: ${sound.stdout.trim()}`);
  const bugs = k.bugs.map((b) => `${b.argv.join(' ')} (pid ${b.pid}): ${b.message}`);
  violations.push(...bugs.map((b) => `program crashed: ${b}`));
  return {
    seed: opts.seed,
    counts: ledgerCheck.counts,
    crashes: opts.crashes,
    crashChoices,
    checks: report.checks + ledgerCheck.checks + 5,
    violations,
    simMs: k.nowMs,
    events: k.eventsRun,
    traceHash: k.traceHash(),
    bugs,
  };
}

/** A leftover's files and times, for the report. */
function describe(k: Kernel, inst: Installation, id: number): string {
  const now = k.clock.wallMs();
  const parts = ['mess', 'intd', 'todo', 'info'].map((dir) => {
    const st = k.fs.peekStat(`${inst.queue.dir}/${messagePath(dir, id, inst.queue)}`);
    return st === null ? `${dir}: none` : `${dir}: ${st.size} bytes, atime -${Math.round((now - st.atimeMs) / 1000)}s`;
  });
  return `${id} (${parts.join('; ')})`;
}
