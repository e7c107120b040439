// Node's bigint Stats -> Stat. Inode numbers are message ids (spec/queue.md 1.3), so they must be
// exact: 64-bit inode numbers above 2^53 (XFS inode64, btrfs) fail loudly with EOVERFLOW, as
// stat(2) does for a too-small st_ino.

import type { BigIntStats, Stats } from 'node:fs';
import { SysError } from '../errors.ts';
import { S, type FileKind, type Stat } from '../types.ts';

const nsPerMs = 1_000_000n;

export function kindOf(mode: number): FileKind {
  switch (mode & S.IFMT) {
    case S.IFREG:
      return 'file';
    case S.IFDIR:
      return 'dir';
    case S.IFIFO:
      return 'fifo';
    case S.IFLNK:
      return 'symlink';
    case S.IFSOCK:
      return 'socket';
    default:
      return 'other';
  }
}

export function statFrom(st: BigIntStats, syscall: string, path?: string): Stat {
  const mode = Number(st.mode);
  return {
    dev: safe(st.dev, syscall, path),
    ino: safe(st.ino, syscall, path),
    mode,
    kind: kindOf(mode),
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: safe(st.size, syscall, path),
    atimeMs: ms(st.atimeNs),
    mtimeMs: ms(st.mtimeNs),
    ctimeMs: ms(st.ctimeNs),
  };
}

function safe(n: bigint, syscall: string, path?: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < 0n) throw new SysError('EOVERFLOW', syscall, path);
  return Number(n);
}

/** Milliseconds with the sub-millisecond part kept as a fraction, as Node's number Stats do. */
function ms(ns: bigint): number {
  return Number(ns / nsPerMs) + Number(ns % nsPerMs) / 1e6;
}

/** From Node's number Stats, which cost far less than bigint ones (no BigInt per field); when a
 *  field is too big for a double to be exact, from `exact()` (a bigint stat of the same file). */
export function statFromNumbers(st: Stats, exact: () => BigIntStats, syscall: string, path?: string): Stat {
  if (st.ino > Number.MAX_SAFE_INTEGER || st.size > Number.MAX_SAFE_INTEGER || st.dev > Number.MAX_SAFE_INTEGER) return statFrom(exact(), syscall, path);
  return {
    dev: st.dev,
    ino: st.ino,
    mode: st.mode,
    kind: kindOf(st.mode),
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atimeMs: st.atimeMs,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
  };
}
