// What a disk holds for one inode, and the operations the durability model records. Pure: no
// table, no clock. The crash model (spec/faults.md) is "durable image + a chosen prefix of the
// pending operations", so applying an operation to an image lives here, shared by fsync, crash and
// the invariant checker.

import type { FileKind } from '../../impl/sys/types.ts';

/** An inode as the disk holds it: what a crash can bring back. */
export interface Image {
  kind: FileKind;
  /** Full st_mode: type bits and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** File contents (exact length); empty for every other kind. */
  data: Uint8Array;
  /** Symlink target; '' for every other kind. */
  target: string;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** write(2) of `bytes` at file offset `pos`. */
export interface WriteOp {
  t: 'write';
  seq: number;
  ino: number;
  pos: number;
  bytes: Uint8Array;
  atMs: number;
}

/** ftruncate(2), or open with O_TRUNC. */
export interface TruncOp {
  t: 'trunc';
  seq: number;
  ino: number;
  len: number;
  atMs: number;
}

/** chmod, chown or utimes: the inode's metadata as it was right after the call. Absolute values
 *  make replay trivial and order the only thing that matters. */
export interface MetaOp {
  t: 'meta';
  seq: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

export type DataOp = WriteOp | TruncOp;
export type InodeOp = DataOp | MetaOp;

/** One name in one directory after the operation: `ino` null means the name is gone. */
export interface EntrySide {
  dir: number;
  name: string;
  ino: number | null;
}

/** A directory-entry operation. create/link/unlink/mkdir/rmdir/mkfifo/symlink have one side;
 *  rename has two (source name removed, target name set) and survives a crash whole or not at all. */
export interface EntryOp {
  t: 'entry';
  seq: number;
  sides: EntrySide[];
  atMs: number;
}

export type Op = InodeOp | EntryOp;

export function cloneImage(im: Image): Image {
  return { ...im, data: im.data.slice() };
}

/** A growable byte buffer, so that replaying many small writes stays linear. */
export class Bytes {
  private buf: Uint8Array;
  private len: number;

  constructor(init: Uint8Array) {
    this.buf = init.slice();
    this.len = init.length;
  }

  write(pos: number, bytes: Uint8Array): void {
    const end = pos + bytes.length;
    this.reserve(end);
    // A write past the end leaves a hole that reads as zeros.
    if (pos > this.len) this.buf.fill(0, this.len, pos);
    this.buf.set(bytes, pos);
    if (end > this.len) this.len = end;
  }

  truncate(len: number): void {
    this.reserve(len);
    if (len > this.len) this.buf.fill(0, this.len, len);
    this.len = len;
  }

  /** The bytes; the buffer itself when it holds exactly them (the Bytes must not be used after). */
  bytes(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }

  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    while (cap < n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/** Applies inode operations, in the order given, to a copy of `base`. */
export function replayInode(base: Image, ops: readonly InodeOp[]): Image {
  // One copy of the bytes (Bytes copies its input); a crash replays every file.
  const im = { ...base };
  const data = new Bytes(base.data);
  for (const op of ops) {
    if (op.t === 'meta') {
      im.mode = op.mode;
      im.uid = op.uid;
      im.gid = op.gid;
      im.atimeMs = op.atimeMs;
      im.mtimeMs = op.mtimeMs;
      im.ctimeMs = op.ctimeMs;
      continue;
    }
    if (op.t === 'write') data.write(op.pos, op.bytes);
    else data.truncate(op.len);
    im.mtimeMs = op.atMs;
    im.ctimeMs = op.atMs;
  }
  im.data = data.bytes();
  return im;
}

/** Sector boundaries strictly inside a write's byte range, ascending: where it may tear. */
export function tearPoints(op: WriteOp, sectorBytes: number): number[] {
  const out: number[] = [];
  const end = op.pos + op.bytes.length;
  for (let b = (Math.floor(op.pos / sectorBytes) + 1) * sectorBytes; b < end; b += sectorBytes) out.push(b);
  return out;
}

/** The part of a write that reached the disk when it tore at file offset `at`. */
export function tornWrite(op: WriteOp, at: number): WriteOp {
  if (!(at > op.pos && at < op.pos + op.bytes.length)) throw new Error(`fs: tear ${at} outside write`);
  return { ...op, bytes: op.bytes.slice(0, at - op.pos) };
}

/** Applies entry operations, in the order given, to copies of the directories' entry tables. */
export function replayEntries(
  base: (dir: number) => ReadonlyMap<string, number>,
  ops: readonly EntryOp[],
): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const op of ops) {
    for (const side of op.sides) {
      let entries = out.get(side.dir);
      if (entries === undefined) {
        entries = new Map(base(side.dir));
        out.set(side.dir, entries);
      }
      if (side.ino === null) entries.delete(side.name);
      else entries.set(side.name, side.ino);
    }
  }
  return out;
}

export function bySeq(a: { seq: number }, b: { seq: number }): number {
  return a.seq - b.seq;
}
