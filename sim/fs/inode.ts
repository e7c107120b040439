// One inode of the simulated file system: live state (NodeData, a memfs Node, holds data, mode, uid,
// gid and the symlink target; we hold virtual timestamps, names and directory tables) and durability state
// (the image a crash falls back to and the operations not yet durable). Also the permission rules,
// which follow Linux's generic_permission: exactly one class (owner, group, other) applies.

import { NodeData } from './node-data.ts';
import type { Cred } from '../fs-api.ts';
import { S, type FileKind, type Stat } from '../../impl/sys/types.ts';
import type { EntryOp, Image, InodeOp } from './image.ts';

/** st_dev of every inode: one file system. */
export const simDev = 1;
/** st_size reported for a directory (ext4's block size; nothing depends on it). */
export const dirBytes = 4096;
export const rootIno = 2;

const typeBits: Record<FileKind, number> = {
  file: S.IFREG,
  dir: S.IFDIR,
  fifo: S.IFIFO,
  symlink: S.IFLNK,
  socket: S.IFSOCK,
  other: 0,
};

export function modeOf(kind: FileKind, perm: number): number {
  return typeBits[kind] | (perm & 0o7777);
}

export class Inode {
  /** Data buffer, st_mode, uid, gid, symlink target. */
  readonly node: NodeData;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Live names. A directory has 1 while it is in the tree (root always), 0 after rmdir. */
  links = 0;
  /** Open file descriptions. */
  opens = 0;
  /** Set once links and opens both reached 0: the live file is gone (its bytes no longer count). */
  dead = false;
  /** Directories: name -> ino, live. */
  readonly entries: Map<string, number> | null;
  /** Directories: live subdirectory count (st_nlink = 2 + subdirs). */
  subdirs = 0;
  /** Directories: the live parent's ino (root: itself). */
  parent: number;

  /** What a crash falls back to for this inode's data and metadata. */
  dur: Image;
  /** Directories: durable name -> ino. */
  readonly durEntries: Map<string, number> | null;
  /** Pending inode operations, oldest first (posix: data and metadata; ext4-ordered: data). */
  chain: InodeOp[] = [];
  /** posix, directories: pending entry operations per name, oldest first. */
  readonly names: Map<string, EntryOp[]> | null;
  /** Durable entries plus pending entry-op sides that name this inode: while > 0 a crash may
   *  bring it back, so its number may not be reused. */
  refs = 0;
  /** Directories: pending entry-op sides in this directory (a crash may need its table). */
  pendingSides = 0;

  constructor(
    readonly ino: number,
    image: Image,
  ) {
    this.node = new NodeData(image.mode, image.uid, image.gid);
    if (image.kind === 'symlink') this.node.symlink = image.target;
    if (image.kind === 'file' && image.data.length > 0) this.node.setBuffer(image.data);
    this.atimeMs = image.atimeMs;
    this.mtimeMs = image.mtimeMs;
    this.ctimeMs = image.ctimeMs;
    this.parent = ino;
    const isDir = image.kind === 'dir';
    this.entries = isDir ? new Map() : null;
    this.durEntries = isDir ? new Map() : null;
    this.names = isDir ? new Map() : null;
    this.dur = image;
  }

  get kind(): FileKind {
    return kindOf(this.node.mode);
  }

  get mode(): number {
    return this.node.mode;
  }

  get size(): number {
    if (this.kind === 'file') return this.node.getSize();
    if (this.kind === 'dir') return dirBytes;
    if (this.kind === 'symlink') return utf8Bytes(this.node.symlink);
    return 0;
  }

  get nlink(): number {
    if (this.entries === null) return this.links;
    return this.links === 0 ? 0 : 2 + this.subdirs;
  }

  /** The file's bytes (a copy). */
  data(): Uint8Array {
    if (this.kind !== 'file') return new Uint8Array(0);
    const n = this.node.getSize();
    return new Uint8Array(this.node.buf.subarray(0, n));
  }

  /** The live state as an image: what fsync writes. */
  image(): Image {
    return {
      kind: this.kind,
      mode: this.node.mode,
      uid: this.node.uid,
      gid: this.node.gid,
      // Shared with the live bytes until they change (NodeData.snapshot); images are never
      // written in place.
      data: this.kind === 'file' ? this.node.snapshot() : new Uint8Array(0),
      target: this.kind === 'symlink' ? this.node.symlink : '',
      atimeMs: this.atimeMs,
      mtimeMs: this.mtimeMs,
      ctimeMs: this.ctimeMs,
    };
  }

  stat(): Stat {
    return {
      dev: simDev,
      ino: this.ino,
      mode: this.node.mode,
      kind: this.kind,
      nlink: this.nlink,
      uid: this.node.uid,
      gid: this.node.gid,
      size: this.size,
      atimeMs: this.atimeMs,
      mtimeMs: this.mtimeMs,
      ctimeMs: this.ctimeMs,
    };
  }
}

export function kindOf(mode: number): FileKind {
  switch (mode & S.IFMT) {
    case S.IFREG: return 'file';
    case S.IFDIR: return 'dir';
    case S.IFIFO: return 'fifo';
    case S.IFLNK: return 'symlink';
    case S.IFSOCK: return 'socket';
    default: return 'other';
  }
}

export function inGroup(cred: Cred, gid: number): boolean {
  return cred.gid === gid || cred.groups.includes(gid);
}

/** May `cred` do `want` (a mask of 4 read, 2 write, 1 search/execute) to `inode`? Root may read and
 *  write anything, search any directory, and execute a file only if some x bit is set (Linux). */
export function permits(cred: Cred, inode: Inode, want: number): boolean {
  const mode = inode.node.mode;
  if (cred.uid === 0) return (want & 1) === 0 || inode.kind === 'dir' || (mode & 0o111) !== 0;
  let bits: number;
  if (cred.uid === inode.node.uid) bits = mode >> 6;
  else if (inGroup(cred, inode.node.gid)) bits = mode >> 3;
  else bits = mode;
  return (bits & want) === want;
}

export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
