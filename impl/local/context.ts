// What every delivery instruction of one run needs: the arguments, the message, where output goes,
// and what qmail-local computed once at the start. Paths are absolute: a run never changes the
// process's working directory (a delivery worker runs many at once).

import type { Sys } from '../sys/types.ts';
import type { LocalArgs, MessageSource } from './types.ts';
import type { LocalOutput } from './output.ts';
import { textOf } from './bytes.ts';

export interface LocalContext {
  sys: Sys;
  args: LocalArgs;
  message: MessageSource;
  out: LocalOutput;
  /** Byte strings (spec 2.3). */
  dtLine: string;
  rpLine: string;
  ufLine: string;
  /** The programs' environment (and qmail-queue's, for forwards). */
  env: Record<string, string>;
  /** The qmail installation: bin/qmail-queue for forwards. */
  qmailHome: string;
}

/** A .qmail path (byte string) as Sys takes it: relative ones are relative to the home directory. */
export function inHome(homedir: string, path: string): string {
  const p = textOf(path);
  return p.startsWith('/') ? p : `${homedir}/${p}`;
}

/** The directory part of an absolute path. */
export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
