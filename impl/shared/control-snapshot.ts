// What a long-lived daemon needs to keep control files it read across deliveries or connections
// and still see every change as a fresh qmail program would: a snapshot of stats, taken before the
// files are read, of control/ itself (a file created, removed or renamed there changes its mtime)
// and of each named control that exists (a rewrite in place changes its mtime, ctime or size).
// The kept reading is good while a new look finds the same stats. A snapshot is refused (null)
// when anything changed within controlsSettleMs of the reading (the kernel's coarse clock could
// not tell a later change in the same tick apart) or when a name is a dangling symlink (its target
// may appear without control/ changing). Used by qmail-rspawn (impl/remote/config.ts) and the
// qmail-smtpd listener (impl/smtpd/config.ts); impl/shared/users-cdb.ts does the same for one file.

import type { Stat, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { statOrNull } from './fdio.ts';

/** A file changed less than this before the controls were read is read again next time. */
export const controlsSettleMs = 2000;

export interface ControlSnapshot {
  dir: string;
  /** The controls that existed, with their signatures; the others were absent. */
  files: Map<string, string>;
}

/** dev, ino, mode, owner, size, mtime and ctime: what changes when a file is replaced or rewritten. */
export function statSignature(st: Stat): string {
  return `${st.dev}:${st.ino}:${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** The snapshot of `dir` and `names` in it, to be taken before reading them; startMs is the clock
 *  before this call. null: not to be kept. Throws the SysError of a failed stat other than ENOENT
 *  (the caller then reads the controls as the program always would, and keeps nothing). */
export async function takeControlSnapshot(sys: Sys, dir: string, names: readonly string[], startMs: number): Promise<ControlSnapshot | null> {
  const settled = (st: Stat): boolean => Math.max(st.mtimeMs, st.ctimeMs) < startMs - controlsSettleMs;
  const dirStat = await sys.fs.stat(dir);
  let ok = settled(dirStat);
  const files = new Map<string, string>();
  for (const name of names) {
    const st = await statOrNull(sys, `${dir}/${name}`);
    if (st !== null) {
      files.set(name, statSignature(st));
      ok &&= settled(st);
    } else if ((await statOrNull(sys, `${dir}/${name}`, true)) !== null) ok = false;
  }
  return ok ? { dir: statSignature(dirStat), files } : null;
}

/** Whether `dir` still looks as it did: false on any difference or failed stat. */
export async function controlSnapshotHolds(sys: Sys, dir: string, snap: ControlSnapshot): Promise<boolean> {
  try {
    if (statSignature(await sys.fs.stat(dir)) !== snap.dir) return false;
    for (const [name, sig] of snap.files) {
      const st = await statOrNull(sys, `${dir}/${name}`);
      if (st === null || statSignature(st) !== sig) return false;
    }
    return true;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
}


