// The delivery worker pool (spec/spawn.md): one long-lived worker per active (uid, gid, groups,
// home), started once as that user and reused, so that no delivery pays a Node start-up.
//
// Bounds: at most workerPoolMax processes (a retiring worker counts until it is reaped), at most
// workerDeliveriesMax deliveries on one worker. A delivery that finds its worker full, or the pool
// full of busy workers, waits in FIFO order. When the pool is full and a delivery needs a new worker,
// the least recently used idle worker is retired (each waiting delivery retires at most one). A
// worker idle for workerIdleMs retires by itself.

import type { Sys } from '../sys/types.ts';
import type { OutgoingRequest } from '../lib/worker-protocol.ts';
import { workerDeliveriesMax, workerIdleMs, workerPoolMax } from '../../spec/spawn.ts';
import { Worker, type WorkerCreds, type WorkerOutcome } from './worker.ts';

export interface PoolOptions {
  program: string;
  env: Record<string, string>;
  poolMax?: number;
  deliveriesMax?: number;
  idleMs?: number;
}

interface Waiter {
  key: string;
  creds: WorkerCreds;
  /** This delivery already retired a worker to make room; it waits for that room. */
  evicted: boolean;
  resolve: (w: Worker) => void;
}

export function workerKey(c: WorkerCreds): string {
  return `${c.uid}:${c.gid}:${c.groups.join(',')}:${c.home}`;
}

export class WorkerPool {
  /** Live workers by key, least recently used first (a Map keeps insertion order). */
  private readonly workers = new Map<string, Worker>();
  private readonly waiting: Waiter[] = [];
  private readonly poolMax: number;
  private readonly deliveriesMax: number;
  private readonly idleMs: number;
  /** Workers started so far (for tests and benchmarks). */
  started = 0;

  constructor(
    private readonly sys: Sys,
    private readonly opts: PoolOptions,
  ) {
    this.poolMax = opts.poolMax ?? workerPoolMax;
    this.deliveriesMax = opts.deliveriesMax ?? workerDeliveriesMax;
    this.idleMs = opts.idleMs ?? workerIdleMs;
    if (!(this.poolMax >= 1 && this.deliveriesMax >= 1 && this.idleMs > 0)) throw new Error('WorkerPool: bad bounds');
  }

  get size(): number {
    return this.workers.size;
  }

  async deliver(creds: WorkerCreds, req: Omit<OutgoingRequest, 'id'>): Promise<WorkerOutcome> {
    const w = await this.acquire(creds);
    try {
      return await w.deliver(req);
    } finally {
      w.load--;
      w.lastUsedMs = this.sys.clock.monotonicMs();
      this.pump();
      if (w.load === 0 && w.state === 'running') w.startIdleTimer(this.idleMs);
    }
  }

  /** Retires every worker and waits until all are gone (after the last delivery). */
  async shutdown(): Promise<void> {
    const all = [...this.workers.values()];
    for (const w of all) w.retire();
    await Promise.all(all.map((w) => w.exited));
  }

  private acquire(creds: WorkerCreds): Promise<Worker> {
    const waiter: Waiter = { key: workerKey(creds), creds, evicted: false, resolve: () => undefined };
    const w = this.tryAcquire(waiter);
    if (w !== null) return Promise.resolve(w);
    return new Promise((resolve) => {
      waiter.resolve = resolve;
      this.waiting.push(waiter);
    });
  }

  /** A worker for this delivery now (its load taken), or null: wait. */
  private tryAcquire(waiter: Waiter): Worker | null {
    const w = this.workers.get(waiter.key);
    if (w !== undefined) {
      // A retiring worker finishes alone; its successor starts once it is gone.
      if (w.state === 'retiring' || w.state === 'dead' || w.load >= this.deliveriesMax) return null;
      return this.take(w);
    }
    if (this.workers.size >= this.poolMax) {
      if (!waiter.evicted && this.evictOne()) waiter.evicted = true;
      return null;
    }
    const fresh = new Worker(this.sys, waiter.key, waiter.creds, this.opts.program, this.opts.env, (gone) => this.gone(gone));
    this.started++;
    this.workers.set(waiter.key, fresh);
    return this.take(fresh);
  }

  private take(w: Worker): Worker {
    w.stopIdleTimer();
    w.load++;
    // Most recently used goes last.
    this.workers.delete(w.key);
    this.workers.set(w.key, w);
    return w;
  }

  /** Retires the least recently used idle worker; false when every worker is busy or leaving. */
  private evictOne(): boolean {
    for (const w of this.workers.values()) {
      if (w.load === 0 && w.state === 'running') {
        this.sys.log.event('debug', 'lspawn.worker_evicted', { worker: w.pid, key: w.key });
        w.retire();
        return true;
      }
    }
    return false;
  }

  private gone(w: Worker): void {
    if (this.workers.get(w.key) === w) this.workers.delete(w.key);
    this.pump();
  }

  /** Places waiting deliveries, oldest first. */
  private pump(): void {
    const still: Waiter[] = [];
    for (const waiter of this.waiting.splice(0)) {
      const w = this.tryAcquire(waiter);
      if (w === null) still.push(waiter);
      else waiter.resolve(w);
    }
    this.waiting.unshift(...still);
  }
}
