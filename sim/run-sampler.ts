// The time series behind `qsim run --html`: a QueueSampler (sim/scenarios/queue-crash.ts) that looks
// at the world before events, at most once per `intervalMs` of virtual time, and at each power loss.
// It only reads (peekDir, the ledger), so a run with it gives the same results and trace hash.
// The number of samples is bounded: past `samplesMax` every other one is dropped and the interval doubles.

import type { QueueCrashWorld, QueueSampler } from './scenarios/queue-crash.ts';
import { assert } from './assert.ts';

export const sampleIntervalMsDefault = 1;
export const samplesMaxDefault = 2000;

export interface Sample {
  tMs: number;
  /** Messages in mess/ (queued or being queued). */
  depth: number;
  accepted: number;
  refused: number;
  cut: number;
  crashes: number;
}

export class RunSampler implements QueueSampler {
  readonly samples: Sample[] = [];
  /** Virtual ms of each power loss. */
  readonly crashTimes: number[] = [];
  private nextMs = 0;
  private ended = false;
  private intervalMs: number;

  constructor(intervalMs = sampleIntervalMsDefault, private readonly samplesMax = samplesMaxDefault) {
    assert(intervalMs > 0 && samplesMax >= 4, 'sampler bounds are positive');
    this.intervalMs = intervalMs;
  }

  tick(w: QueueCrashWorld): void {
    // The moment the traffic is done is always sampled (once), whatever the interval.
    const last = w.driver.done && !this.ended;
    if (w.k.nowMs < this.nextMs && !last) return;
    if (last) this.ended = true;
    this.nextMs = w.k.nowMs + this.intervalMs;
    this.take(w);
  }

  crash(w: QueueCrashWorld): void {
    this.crashTimes.push(w.k.nowMs);
    this.take(w);
  }

  private take(w: QueueCrashWorld): void {
    let accepted = 0;
    let refused = 0;
    let cut = 0;
    for (let i = 0; ; i++) {
      const o = w.ledger.outcome(i);
      if (o === undefined) break;
      if (o === 'ok') accepted++;
      else if (o === 'refused') refused++;
      else if (o === 'cut') cut++;
    }
    this.samples.push({ tMs: w.k.nowMs, depth: depth(w), accepted, refused, cut, crashes: this.crashTimes.length });
    if (this.samples.length > this.samplesMax) this.thin();
  }

  /** Keeps every other sample (and the last), and samples half as often from now on. */
  private thin(): void {
    const last = this.samples[this.samples.length - 1] as Sample;
    const kept = this.samples.filter((_, i) => i % 2 === 0);
    if (kept[kept.length - 1] !== last) kept.push(last);
    this.samples.splice(0, this.samples.length, ...kept);
    this.intervalMs *= 2;
  }
}

function depth(w: QueueCrashWorld): number {
  const mess = `${w.inst.queue.dir}/mess`;
  let n = 0;
  for (const sub of w.k.fs.peekDir(mess) ?? []) n += w.k.fs.peekDir(`${mess}/${sub}`)?.length ?? 0;
  return n;
}
