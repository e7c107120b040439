// Small pieces of the syscall machinery shared by the kernel and the per-process Sys.

import type { WaitQueue } from './wait-queue.ts';

/** Returned by a syscall's attempt: wait on `queue`, then try again. */
export class Blocked {
  constructor(readonly queue: WaitQueue) {}
}

/** The promise a dead process gets: it never settles, as a killed process never returns. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** What the trace keeps of a syscall's result: scalars as they are, lists by length. */
export function summarize(r: unknown): Record<string, unknown> {
  if (typeof r === 'number' || typeof r === 'string' || typeof r === 'boolean') return { ret: r };
  if (Array.isArray(r)) return { ret: r.length };
  return {};
}
