// Exhaustive crash exploration of the queue-crash scenario (ALICE/CrashMonkey style, spec/faults.md 1.6).
// A run without random crashes is replayed from its seed; for every crash point (after event i of the
// traffic, i = 0 … E) and every answer sequence SimFs.crash may ask of its Chooser there, the world is
// rebuilt from scratch (the kernel is deterministic, so no snapshot is needed), the power fails with
// exactly those answers, queue-fix repairs the queue, the OSSIFIED sweep runs and every checker reads
// the result. The answer sequences are walked depth first: each choose(n) branches n ways.
//
// Bounds: `statesPerPointMax` states at one crash point, `statesMax` in all; a point whose tree was
// cut short is counted as truncated, and the report says so.

import type { Chooser } from './fs-api.ts';
import { finish, setUpQueueCrash, type QueueCrashOpts } from './scenarios/queue-crash.ts';
import { queueFix } from './install.ts';
import { assert } from './assert.ts';
import type { SimFsApi } from './fs-api.ts';

export const statesPerPointMaxDefault = 2;
export const statesMaxDefault = 20_000;

export interface ExploreOpts {
  crash: Omit<QueueCrashOpts, 'crashes' | 'sampler'>;
  statesPerPointMax?: number;
  statesMax?: number;
  /** Only this crash point (replay). */
  at?: number;
  /** Only this answer sequence at `at` (replay of one state). */
  choices?: readonly number[];
  /** Told before each crash point (a progress line). */
  onPoint?: (at: number, events: number, statesRun: number) => void;
}

export interface ExploreViolation {
  at: number;
  choices: number[];
  violations: string[];
}

export interface ExploreResult {
  /** Events of the traffic phase of the uncrashed run. */
  events: number;
  points: number;
  /** Distinct crash states (trees) checked at one point: fewest, most. */
  statesMin: number;
  statesMax: number;
  /** Answer sequences run, all points (duplicates included). */
  statesTotal: number;
  /** Crash points whose answer tree was cut by a bound (their states are a subset). */
  truncatedPoints: number;
  /** True when statesMax stopped the walk before every point was visited. */
  stoppedEarly: boolean;
  /** States whose rebuilt tree equalled one already checked at the same point (not re-checked). */
  duplicates: number;
  checks: number;
  violations: ExploreViolation[];
}

/** Events the traffic phase runs without a crash. */
export async function trafficEvents(opts: ExploreOpts['crash']): Promise<number> {
  const w = await setUpQueueCrash({ ...opts, crashes: 0 });
  w.driver.fill();
  const r = await w.k.run({ until: () => w.driver.done });
  return r.events;
}

/** A chooser that answers `prefix`, then 0 (or n-1: everything survives), and records each question's n. */
class Recorder {
  readonly answers: number[];
  readonly ns: number[] = [];
  constructor(prefix: readonly number[], private readonly fillMax = false) {
    this.answers = [...prefix];
  }
  readonly choose: Chooser = (n) => {
    assert(n >= 2, 'choose(n) asks n >= 2');
    const j = this.ns.length;
    this.ns.push(n);
    if (j >= this.answers.length) this.answers.push(this.fillMax ? n - 1 : 0);
    const a = this.answers[j] as number;
    assert(a < n, `replayed answer ${a} fits choose(${n}) at question ${j}`);
    return a;
  };
  /** The next answer sequence in depth-first order, or null when the tree is done. */
  next(): number[] | null {
    const used = this.answers.slice(0, this.ns.length);
    for (let j = used.length - 1; j >= 0; j--) {
      if ((used[j] as number) < (this.ns[j] as number) - 1) return [...used.slice(0, j), (used[j] as number) + 1];
    }
    return null;
  }
}

/** One crash state: crash after `at` traffic events with these answers, recover, check. */
export async function crashState(
  opts: ExploreOpts['crash'],
  at: number,
  rec: Recorder | readonly number[],
  seen?: Set<string>,
): Promise<{ violations: string[]; checks: number; answers: number[]; duplicate: boolean }> {
  const r = rec instanceof Recorder ? rec : new Recorder(rec);
  const copts: QueueCrashOpts = { ...opts, crashes: 1 };
  const w = await setUpQueueCrash(copts);
  w.driver.fill();
  await w.k.run({ maxEvents: at });
  const choices = w.k.powerLoss(r.choose);
  w.driver.crashed();
  const answers = r.answers.slice(0, r.ns.length);
  // The same prefix and the same tree recover the same way: check each distinct tree once.
  if (seen !== undefined) {
    const d = treeDigest(w.k.fs, '/');
    if (seen.has(d)) return { violations: [], checks: 0, answers, duplicate: true };
    seen.add(d);
  }
  const fix = await queueFix(w.k, w.inst.home, []);
  if (fix.code !== 0) return { violations: [`queue-fix after the crash exited ${fix.code}: ${fix.stdout.trim()}`], checks: 1, answers, duplicate: false };
  const res = await finish(w.k, w.inst, w.ledger, copts, choices);
  return { violations: res.violations, checks: res.checks, answers, duplicate: false };
}

export async function explore(opts: ExploreOpts): Promise<ExploreResult> {
  const perPoint = opts.statesPerPointMax ?? statesPerPointMaxDefault;
  const total = opts.statesMax ?? statesMaxDefault;
  assert(perPoint >= 1 && total >= 1, 'state bounds are positive');
  const events = await trafficEvents(opts.crash);
  const res: ExploreResult = {
    events, points: 0, statesMin: Infinity, statesMax: 0, statesTotal: 0, truncatedPoints: 0, stoppedEarly: false, duplicates: 0, checks: 0, violations: [],
  };
  if (opts.at !== undefined && opts.at > events) throw new ExploreUsage(`--at ${opts.at}: the uncrashed run has only ${events} events`);
  const points = opts.at === undefined ? range(0, events) : [opts.at];
  for (const at of points) {
    if (res.statesTotal >= total) {
      res.stoppedEarly = true;
      break;
    }
    opts.onPoint?.(at, events, res.statesTotal);
    let prefix: number[] | null = [...(opts.choices ?? [])];
    let states = 0;
    const seen = new Set<string>();
    // Under a bound, both extremes come first: everything pending survives, then (depth first
    // from) nothing survives. The first is met again at the end of a complete walk (a duplicate).
    let first = opts.choices === undefined;
    while (prefix !== null) {
      if (states >= perPoint || res.statesTotal >= total) {
        res.truncatedPoints++;
        break;
      }
      const rec: Recorder = new Recorder(first ? [] : prefix, first);
      const s = await crashState(opts.crash, at, rec, seen);
      states++;
      res.statesTotal++;
      if (s.duplicate) res.duplicates++;
      res.checks += s.checks;
      if (s.violations.length > 0) res.violations.push({ at, choices: s.answers, violations: s.violations });
      // No question asked: the point has exactly one crash state.
      if (first && rec.ns.length === 0) prefix = null;
      else if (!first) prefix = opts.choices === undefined ? rec.next() : null;
      first = false;
    }
    res.points++;
    res.statesMin = Math.min(res.statesMin, seen.size);
    res.statesMax = Math.max(res.statesMax, seen.size);
  }
  if (res.points === 0) res.statesMin = 0;
  return res;
}

/** A request the run cannot answer (a crash point past its end). */
export class ExploreUsage extends Error {}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The visible tree as text (exact, so equal strings are equal trees): every name, inode number, kind, mode, owner, size, times and bytes. */
export function treeDigest(fs: Pick<SimFsApi, 'peekDir' | 'peekStat' | 'peekFile'>, dir: string): string {
  const parts: string[] = [];
  const walk = (path: string): void => {
    for (const name of fs.peekDir(path) ?? []) {
      const p = path === '/' ? `/${name}` : `${path}/${name}`;
      const st = fs.peekStat(p);
      if (st === null) continue;
      parts.push(`${p} ${st.ino} ${st.kind} ${st.mode} ${st.uid} ${st.gid} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.atimeMs}`);
      if (st.kind === 'dir') walk(p);
      else if (st.kind === 'file') parts.push(bytesDigest(fs.peekFile(p)));
    }
  };
  walk(dir);
  return parts.join('\n');
}

function bytesDigest(b: Uint8Array | null): string {
  if (b === null) return '-';
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193) >>> 0;
  return `${b.length}/${h.toString(16)}`;
}
