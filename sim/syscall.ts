// Small pieces of the syscall machinery shared by the kernel and the per-process Sys.

import { SysError, type Errno } from '../impl/sys/errors.ts';
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
 *  never the program that made the call (which learns of it in a later microtask). Most are
 *  answers (ENOENT from a stat, EEXIST from a link), so it is built as a plain object on
 *  SysError's prototype chain: Error's constructor, even with no frames to capture, cost twenty
 *  times more. `instanceof SysError` and `instanceof Error` hold; message and stack (the text
 *  stacklessSysError gives) are computed when read. */
export function sysError(code: Errno, syscall: string, path?: string): SysError {
  return new (AnswerError as unknown as new (code: Errno, syscall: string, path?: string) => SysError)(code, syscall, path);
}

interface AnswerFields {
  code: Errno;
  syscall: string;
  path: string | undefined;
  name: string;
}

function AnswerError(this: AnswerFields, code: Errno, syscall: string, path?: string): void {
  this.code = code;
  this.syscall = syscall;
  this.path = path;
  this.name = 'SysError';
}

function answerMessage(e: AnswerFields): string {
  return e.path === undefined ? `${e.syscall}: ${e.code}` : `${e.syscall} ${e.path}: ${e.code}`;
}

/** Setting message or stack (nothing does today) makes it an own property, as on any Error. */
function ownValue(e: object, key: string, value: unknown): void {
  Object.defineProperty(e, key, { value, writable: true, enumerable: false, configurable: true });
}

AnswerError.prototype = Object.create(SysError.prototype, {
  constructor: { value: SysError, writable: true, configurable: true },
  message: {
    get(this: AnswerFields): string {
      return answerMessage(this);
    },
    set(this: object, v: unknown) {
      ownValue(this, 'message', v);
    },
    configurable: true,
  },
  stack: {
    get(this: AnswerFields): string {
      return `SysError: ${answerMessage(this)}`;
    },
    set(this: object, v: unknown) {
      ownValue(this, 'stack', v);
    },
    configurable: true,
  },
}) as object;
