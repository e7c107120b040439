// How a qmail-local run ends early: a LocalFailure carries the exit code (100 permanent, 111
// temporary) and the one diagnostic line qmail-local prints (a byte string; empty when qmail prints
// nothing, as for a program's own exit code). Thrown where the failure is found, caught once by the
// run (deliver.ts). Any other exception is a bug and passes.

import { SysError } from '../sys/errors.ts';
import { errorStr } from '../lib/error-str.ts';
import { errorTemp } from '../lib/error-temp.ts';
import { localExit } from '../../spec/local.ts';

export class LocalFailure extends Error {
  constructor(
    readonly code: typeof localExit.perm | typeof localExit.temp,
    readonly text: string,
  ) {
    super(text === '' ? `qmail-local exit ${code}` : text);
    this.name = 'LocalFailure';
  }
}

/** Temporary: the message stays queued (111). */
export function temp(text: string): LocalFailure {
  return new LocalFailure(localExit.temp, text);
}

/** Permanent: the message bounces (100). */
export function perm(text: string): LocalFailure {
  return new LocalFailure(localExit.perm, text);
}

/** qmail's error_str for a Sys failure. */
export function errText(e: SysError): string {
  return errorStr(e.code);
}

/** True for a SysError with a temporary errno (qmail's error_temp). */
export function isTempError(e: SysError): boolean {
  return errorTemp(e.code);
}
