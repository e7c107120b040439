// Small pieces of the syscall machinery shared by the kernel and the per-process Sys.

import { stacklessSysError } from '../impl/sys/errors.ts';
import type { WaitQueue } from './wait-queue.ts';

/** Returned by a syscall's attempt: wait on `queue`, then try again. */
export class Blocked {
  constructor(readonly queue: WaitQueue) {}
}

/** The promise a dead process gets: it never settles, as a killed process never returns. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** What the trace keeps of a syscall's result (its `ret`): scalars as they are, lists by length,
 *  nothing (undefined) for anything else. */
export function summarize(r: unknown): number | string | boolean | undefined {
  if (typeof r === 'number' || typeof r === 'string' || typeof r === 'boolean') return r;
  if (Array.isArray(r)) return r.length;
  return undefined;
}

/** A SysError made inside a kernel event, without a stack: its stack would show the run loop,
 *  never the program that made the call (which learns of it in a later microtask). */
export const sysError = stacklessSysError;
