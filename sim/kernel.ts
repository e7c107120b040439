// The simulated kernel: one event queue ordered by (virtual time µs, seq), PRNG streams derived by
// name from the seed, the process table, the run loop, crashes and the trace.
//
// Determinism: every promise a program awaits is settled inside an event. After each event the run
// loop drains the microtask queue (a nextTick queued from a microtask runs only once it is empty,
// and every 256 events a setImmediate gives the host a turn: the one use of Node's scheduling in
// sim/, and it never measures real time), so a program's continuation runs, issues its
// next syscalls and draws their latencies in an order fixed by the seed. Time jumps to the next
// event. A dead process's events are skipped without running or counting.

import type { ExitStatus, Signal } from '../impl/sys/types.ts';
import { SysError } from '../impl/sys/errors.ts';
import type { Chooser, CrashProfile, SimFsApi } from './fs-api.ts';
import type { SimEvent } from './event-queue.ts';
import type { Loaded } from './exec.ts';
import type { Desc } from './files.ts';
import type { LatencyClass, LatencyConfig } from './latency.ts';
import type { Creds } from './proc.ts';
import type { TraceOptions } from './trace.ts';
import type { FileOwner, SpawnHandle, WorldSpawnOpts } from './world.ts';
import { assert } from './assert.ts';
import { SimClock, epochMsDefault } from './clock.ts';
import { EventQueue } from './event-queue.ts';
import { OpenFiles } from './files.ts';
import { SimFs } from './fs.ts';
import { checkLatency, latencyDefault } from './latency.ts';
import { deliverSignal, die, killAll, programThrew, startProgram } from './lifecycle.ts';
import { SimNet } from './net.ts';
import { pipeBytesDefault } from './pipe.ts';
import { Prng } from './prng.ts';
import { SimProcess } from './proc.ts';
import { Programs } from './programs.ts';
import { makeSys } from './sys.ts';
import { Blocked, never, summarize } from './syscall.ts';
import { Trace } from './trace.ts';
import { SimUsers } from './users.ts';
import { worldInstall, worldMkdirs, worldSpawn, worldWriteFile } from './world.ts';

export interface FsFactoryOptions {
  profile: CrashProfile;
  choose: Chooser;
  nowMs: () => number;
}

export interface KernelOptions {
  seed: number;
  /** Crash profile of the file system (default 'posix'). */
  profile?: CrashProfile;
  /** Wall-clock ms at virtual time 0 (default 2026-01-01T00:00:00Z). */
  epochMs?: number;
  latency?: Partial<LatencyConfig>;
  /** Builds the file system; default: sim/fs.ts's SimFs. */
  makeFs?: (o: FsFactoryOptions) => SimFsApi;
  trace?: TraceOptions;
  /** The address of processes spawned from outside (default '127.0.0.1'); children inherit it. */
  ip?: string;
  /** Capacity of pipes, FIFOs and each direction of a socket (default 64 KiB). */
  pipeBytes?: number;
  /** Pids wrap after this, like /proc/sys/kernel/pid_max (default 32768). */
  pidMax?: number;
}

export interface RunOptions {
  /** Stop after this many events ran in this call. */
  maxEvents?: number;
  /** Stop when the next event lies after this virtual time (ms since start); time ends there. */
  untilMs?: number;
  /** Stop as soon as this is true (checked before each event). */
  until?: () => boolean;
}

export type RunEnd = 'idle' | 'maxEvents' | 'untilMs' | 'until';

export interface RunResult {
  end: RunEnd;
  /** Events run in this call. */
  events: number;
}

/** Everything a new process starts with; fds[i] is installed at fd i. */
export interface NewProcess {
  ppid: number;
  ip: string;
  creds: Creds;
  cwd: string;
  umask: number;
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  loaded: Loaded;
  fds: ReadonlyArray<Desc | null>;
}

/** A program's uncaught exception: a bug, recorded for checkers to fail the run. */
export interface Bug {
  pid: number;
  argv: readonly string[];
  tMs: number;
  message: string;
  stack: string;
}

export class Kernel {
  readonly seed: number;
  readonly fs: SimFsApi;
  readonly users = new SimUsers();
  readonly programs = new Programs();
  readonly net = new SimNet();
  readonly clock: SimClock;
  readonly trace: Trace;
  readonly files: OpenFiles;
  readonly bugs: Bug[] = [];
  readonly ip: string;
  readonly pidMax: number;
  /** Live processes by pid (dead ones leave at once: waiters hold the process object). */
  readonly procs = new Map<number, SimProcess>();
  private readonly queue = new EventQueue();
  private readonly latency: LatencyConfig;
  private readonly streams = new Map<string, Prng>();
  private readonly sched: Prng;
  private seq = 0;
  private lastPid = 0;
  private spawned = 0;
  private running = false;
  private totalEvents = 0;

  constructor(opts: KernelOptions) {
    assert(Number.isInteger(opts.seed), 'seed is an integer');
    this.seed = opts.seed;
    this.latency = { ...latencyDefault, ...opts.latency };
    checkLatency(this.latency);
    this.clock = new SimClock(opts.epochMs ?? epochMsDefault);
    this.trace = new Trace(opts.trace);
    this.sched = this.prng('sched');
    this.ip = opts.ip ?? '127.0.0.1';
    this.pidMax = opts.pidMax ?? 32_768;
    assert(this.pidMax > 300, 'pidMax > 300');
    const fsPrng = this.prng('fs');
    const fsOpts: FsFactoryOptions = {
      profile: opts.profile ?? 'posix',
      choose: (n) => fsPrng.int(n),
      nowMs: () => this.clock.wallMs(),
    };
    this.fs = opts.makeFs === undefined ? new SimFs(fsOpts) : opts.makeFs(fsOpts);
    this.files = new OpenFiles(this.fs, opts.pipeBytes ?? pipeBytesDefault);
  }

  /** The PRNG stream of that name: the same for a seed whatever else draws. */
  prng(name: string): Prng {
    let p = this.streams.get(name);
    if (p === undefined) {
      p = new Prng(this.seed, name);
      this.streams.set(name, p);
    }
    return p;
  }

  get eventsRun(): number {
    return this.totalEvents;
  }

  /** Virtual ms since the world started (monotonic). */
  get nowMs(): number {
    return this.clock.monotonicMs();
  }

  get nowUs(): number {
    return this.clock.nowUs;
  }

  /** Wall-clock ms, as programs see it (epoch + virtual time + clock steps). */
  wallMs(): number {
    return this.clock.wallMs();
  }

  traceHash(): string {
    return this.trace.hash();
  }

  /** Records a trace line at the current virtual time. */
  record(pid: number, event: string, fields?: Record<string, unknown>, keep = true): void {
    this.trace.record(this.clock.nowUs, pid, event, fields, keep);
  }

  // ---- the world's side: setting up, starting, crashing ----

  install(path: string, program: string, owner: FileOwner): void {
    assert(this.programs.get(program) !== undefined, `program ${program} registered before install`);
    worldInstall(this, path, program, owner);
  }

  /** Creates missing directories of `path` (and `path`) with this owner, durably. */
  mkdirs(path: string, owner: FileOwner): void {
    worldMkdirs(this, path, owner);
  }

  /** Writes a whole file durably (file and directory entry synced), replacing any. */
  writeFile(path: string, bytes: Uint8Array | string, owner: FileOwner): void {
    worldWriteFile(this, path, bytes, owner);
  }

  /** Starts a program from outside the world (as if from init); throws SysError like execve. */
  spawn(path: string, argv: string[], opts: WorldSpawnOpts = {}): SpawnHandle {
    return worldSpawn(this, path, argv, opts);
  }

  /** Delivers a signal now, from outside (no permission check); ESRCH when no such process. */
  kill(pid: number, signal: Signal): void {
    const p = this.procs.get(pid);
    if (p === undefined) throw new SysError('ESRCH', 'kill');
    deliverSignal(this, p, signal);
  }

  /** Power loss: every process dies (no handlers run), every event is dropped, pipes, FIFOs, locks
   *  and sockets vanish, and SimFs keeps what its profile lets survive. Returns SimFs's choices. */
  powerLoss(choose?: Chooser): number {
    const killed = killAll(this);
    this.queue.clear();
    this.files.reset();
    this.net.reset();
    const crashPrng = this.prng('crash');
    const choices = this.fs.crash(choose ?? ((n) => crashPrng.int(n)));
    this.record(0, 'kernel.power_loss', { killed, choices });
    return choices;
  }

  /** Steps the wall clock by ms (negative goes back); monotonic time does not move. */
  stepClock(ms: number): void {
    this.clock.step(ms);
    this.record(0, 'kernel.clock_step', { ms });
  }

  /** Pids of live processes, ascending. */
  pids(): number[] {
    return [...this.procs.keys()].sort((a, b) => a - b);
  }

  // ---- the run loop ----

  async run(opts: RunOptions = {}): Promise<RunResult> {
    assert(!this.running, 'run is not reentrant');
    const max = opts.maxEvents ?? Number.POSITIVE_INFINITY;
    const untilUs = opts.untilMs === undefined ? Number.POSITIVE_INFINITY : Math.round(opts.untilMs * 1000);
    this.running = true;
    let events = 0;
    try {
      await drainMicrotasks();
      for (;;) {
        if (opts.until?.()) return { end: 'until', events };
        if (events >= max) return { end: 'maxEvents', events };
        const ev = this.nextLive();
        if (ev === undefined || ev.tUs > untilUs) {
          if (Number.isFinite(untilUs)) this.clock.nowUs = Math.max(this.clock.nowUs, untilUs);
          return { end: ev === undefined ? 'idle' : 'untilMs', events };
        }
        this.queue.pop();
        assert(ev.tUs >= this.clock.nowUs, 'time never goes back');
        this.clock.nowUs = ev.tUs;
        events++;
        this.totalEvents++;
        ev.run();
        await (events % hostTurnEvents === 0 ? drainMicrotasks() : afterMicrotasks());
      }
    } finally {
      this.running = false;
    }
  }

  /** The next event that will run, dropping cancelled ones and those of dead processes. */
  private nextLive(): SimEvent | undefined {
    for (;;) {
      const ev = this.queue.peek();
      if (ev === undefined || (!ev.cancelled && (ev.owner === null || ev.owner.alive))) return ev;
      this.queue.pop();
    }
  }

  // ---- for sim/sys*.ts and sim/lifecycle.ts ----

  /** Schedules fn after `delayUs` plus a latency of class `cls`; nothing for a dead owner. */
  schedule(owner: SimProcess | null, cls: LatencyClass, fn: () => void, delayUs = 0): SimEvent {
    return this.scheduleAt(owner, this.clock.nowUs + delayUs + this.jitter(cls), fn);
  }

  scheduleAt(owner: SimProcess | null, tUs: number, fn: () => void): SimEvent {
    assert(Number.isSafeInteger(tUs) && tUs >= this.clock.nowUs, 'event time is now or later');
    const ev: SimEvent = { tUs, seq: this.seq++, owner, run: fn, cancelled: owner !== null && !owner.alive };
    if (!ev.cancelled) this.queue.push(ev);
    return ev;
  }

  /** A syscall of p: `attempt` runs in an event after a latency of class `cls` and either returns
   *  the result, throws (SysError: the program's error; anything else: rejected too, so that the
   *  program's bug is recorded as its crash), or returns Blocked(queue) to retry when woken.
   *  detail: a fresh object per call (the trace record; the kernel adds the outcome to it). */
  syscall<T>(p: SimProcess, name: string, cls: LatencyClass, attempt: () => T | Blocked, detail?: Record<string, unknown>, delayUs = 0): Promise<T> {
    if (!p.alive) return never<T>();
    // The call is its own first event (no closure, no separate event record): the hottest path.
    const c = new PendingCall<T>(this, p, name, attempt, detail, this.clock.nowUs + delayUs + this.jitter(cls), this.seq++);
    this.queue.push(c);
    return c.promise;
  }

  /** A latency of class cls, drawn from the scheduler's stream. */
  private jitter(cls: LatencyClass): number {
    const [min, max] = this.latency[cls];
    return max === min ? min : min + this.sched.int(max - min + 1);
  }

  /** Runs one try of a pending call (PendingCall.run, or a wake-up after Blocked). */
  tryOnce<T>(c: PendingCall<T>): void {
    let r: T | Blocked;
    try {
      r = c.attempt();
    } catch (e) {
      this.traceSyscall(c.p, c.name, c.detail, 'err', e instanceof SysError ? e.code : 'BUG');
      c.reject(e);
      return;
    }
    // It died inside its own syscall (a signal to itself): a dead process's calls never settle.
    if (!c.p.alive) return;
    if (r instanceof Blocked) {
      r.queue.add(() => this.schedule(c.p, 'wake', () => this.tryOnce(c)));
      return;
    }
    const ret = summarize(r);
    this.traceSyscall(c.p, c.name, c.detail, ret === undefined ? null : 'ret', ret);
    c.resolve(r);
  }

  /** The record of `{...detail, [key]: value}`, written into detail itself: each call's detail is its
   *  own fresh object (see syscall), and this saves a copy per syscall. */
  private traceSyscall(p: SimProcess, name: string, detail: Record<string, unknown> | undefined, key: 'ret' | 'err' | null, value: unknown): void {
    const fields = detail ?? {};
    if (key !== null) fields[key] = value;
    this.record(p.pid, sysEventName(name), fields, this.trace.syscalls);
  }

  /** Runs program code (a timer callback, a signal handler, a main) as p; a throw is p's crash. */
  runAs(p: SimProcess, fn: () => void): void {
    if (!p.alive) return;
    try {
      fn();
    } catch (e) {
      programThrew(this, p, e);
    }
  }

  /** Ends p with this status (exit, signal, crash). */
  end(p: SimProcess, status: ExitStatus): void {
    die(this, p, status);
  }

  /** Creates a process and schedules the start of its main. */
  createProcess(n: NewProcess): SimProcess {
    const pid = this.allocPid();
    const p = new SimProcess({
      pid, ppid: n.ppid, ip: n.ip, creds: n.creds, cwd: n.cwd, umask: n.umask,
      argv: [...n.argv], env: { ...n.env }, exe: n.loaded.exe,
      // Named by spawn count, not pid: a reused pid must not replay another process's randomness.
      random: new Prng(this.seed, `proc.${this.spawned++}`),
    });
    n.fds.forEach((d, fd) => {
      if (d !== null) p.installAt(fd, d);
    });
    this.procs.set(pid, p);
    p.sys = makeSys(this, p);
    const c = n.creds;
    this.record(n.ppid, 'proc.spawn', { child: pid, program: n.loaded.name, exe: n.loaded.exe, argv: n.argv, uid: c.uid, euid: c.euid, gid: c.gid, egid: c.egid });
    startProgram(this, p, n.loaded.main);
    return p;
  }

  /** The next free pid, wrapping like Linux (after a wrap, low pids are skipped). */
  allocPid(): number {
    for (let i = 0; i < this.pidMax; i++) {
      this.lastPid = this.lastPid + 1 >= this.pidMax ? 300 : this.lastPid + 1;
      if (!this.procs.has(this.lastPid)) return this.lastPid;
    }
    throw new SysError('EAGAIN', 'fork');
  }

  recordBug(p: SimProcess, e: unknown): void {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const stack = e instanceof Error ? (e.stack ?? message) : message;
    this.bugs.push({ pid: p.pid, argv: p.argv, tMs: this.nowMs, message, stack });
    this.record(p.pid, 'proc.crashed', { message });
  }
}

/** A syscall between its call and its completion; also the event of its first try. */
class PendingCall<T> implements SimEvent {
  readonly owner: SimProcess;
  cancelled = false;
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;

  constructor(
    private readonly k: Kernel,
    readonly p: SimProcess,
    readonly name: string,
    readonly attempt: () => T | Blocked,
    readonly detail: Record<string, unknown> | undefined,
    readonly tUs: number,
    readonly seq: number,
  ) {
    assert(Number.isSafeInteger(tUs) && tUs >= k.nowUs, 'event time is now or later');
    this.owner = p;
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  run(): void {
    this.k.tryOnce(this);
  }
}

const sysEventNames = new Map<string, string>();

/** `sys.<name>`, made once per name: a fresh concatenation per syscall cost a flatten in the hash. */
function sysEventName(name: string): string {
  let e = sysEventNames.get(name);
  if (e === undefined) {
    e = `sys.${name}`;
    sysEventNames.set(name, e);
  }
  return e;
}

/** Resolves once the microtask queue is empty (setImmediate callbacks run after it drains). */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The same, cheaper, when called from a microtask (the run loop after its first await): Node runs
 *  nextTick callbacks queued by a microtask only once the microtask queue is empty, then drains the
 *  microtasks again, all without a turn of the host's event loop (a third of the time per event). */
function afterMicrotasks(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

/** Every this many events the run loop still gives the host a turn (its timers, its I/O, a test's
 *  timeout): it changes nothing in the world, only when the host's own callbacks run. */
const hostTurnEvents = 256;
