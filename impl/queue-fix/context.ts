// What every repair needs: the Sys, where the paths are, whether to change anything, and where
// findings go. Paths inside the fixer are relative to `root`; they are shown as `shownAs + rel`.

import type { Stat, Sys } from '../sys/types.ts';
import { isSysError } from '../sys/errors.ts';
import type { Report } from './report.ts';
export { statOrNull } from '../shared/fdio.ts';

export interface FixContext {
  sys: Sys;
  /** Absolute directory the relative paths start from. */
  root: string;
  /** Prefix for shown paths ("queue/"), so lines read the same whatever the absolute path. */
  shownAs: string;
  /** -n: report what would be fixed, change nothing. */
  dryRun: boolean;
  report: Report;
  /** Called with each split directory's absolute path right after it was made, before its
   *  numbered subdirectories are (qmail-setup: spreads them over the file system's block groups;
   *  see impl/setup/spread.ts). Absent: nothing is done. */
  spread?: (path: string) => Promise<void>;
}

export function abs(ctx: FixContext, rel: string): string {
  return rel === '' ? ctx.root : `${ctx.root}/${rel}`;
}

export function shown(ctx: FixContext, rel: string): string {
  if (rel !== '') return `${ctx.shownAs}${rel}`;
  return ctx.shownAs.endsWith('/') ? ctx.shownAs.slice(0, -1) : ctx.shownAs;
}


/** readdir, sorted so that reports read the same on every run (the sim shuffles readdir). */
export async function sortedEntries(sys: Sys, path: string): Promise<string[]> {
  const names = await sys.fs.readdir(path);
  return names.sort(byNumberThenName);
}

function byNumberThenName(a: string, b: string): number {
  const da = /^[0-9]+$/.test(a);
  const db = /^[0-9]+$/.test(b);
  if (da && db) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
  if (da !== db) return da ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parent directory of an absolute path. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function kindName(st: Stat): string {
  return st.kind === 'file' ? 'regular file' : st.kind === 'dir' ? 'directory' : st.kind;
}
