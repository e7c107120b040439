// SimFs: the simulated file system. NodeData (fs/node-data.ts) holds each inode's bytes, mode and
// owner; this class adds what the simulator needs: stable inode numbers reused like a real
// kernel's, per-call credentials with Linux's permission rules, virtual timestamps, FIFOs, ENOSPC
// and fault injection, and a durability overlay with a crash model (spec/faults.md).
//
// Every method is synchronous and either completes or throws SysError with no effect. The order of
// checks inside each call follows Linux's, so the errno for a call that is wrong in two ways is the
// one Linux gives.

import type { Chooser, CrashProfile, Ctx, FaultHook, FsOp, OpenFile, SimFsApi } from './fs-api.ts';
import { O, S, type FileKind, type Stat } from '../impl/sys/types.ts';
import { isSysError, type Errno } from '../impl/sys/errors.ts';
import { crash } from './fs/crash.ts';
import { Durability } from './fs/durable.ts';
import type { Image } from './fs/image.ts';
import { checkInvariants } from './fs/invariants.ts';
import { Inode, inGroup, modeOf, permits, rootIno, utf8Bytes } from './fs/inode.ts';
import { isDot, pathBytesMax, resolve, type Resolved } from './fs/path.ts';
import { Table } from './fs/table.ts';
import { sysError } from './syscall.ts';

export interface SimFsOptions {
  profile: CrashProfile;
  /** Readdir order and which freed inode number is reused. */
  choose: Chooser;
  /** Virtual wall-clock time, for timestamps. */
  nowMs: () => number;
  /** Where a write may tear on power loss. 512 by default. */
  sectorBytes?: number;
}

/** Largest file we let a program make: far above anything qmail writes, and bounds memory. */
export const fileBytesMax = 2 ** 31;

/** An open file description. */
class Description implements OpenFile {
  pos = 0;
  closed = false;
  readonly ino: number;
  readonly kind: FileKind;

  constructor(
    readonly inode: Inode,
    readonly flags: number,
    /** Crash count when opened: a crash invalidates every description. */
    readonly epoch: number,
  ) {
    this.ino = inode.ino;
    this.kind = inode.kind;
  }
}

export class SimFs implements SimFsApi {
  readonly profile: CrashProfile;
  private readonly nowMs: () => number;
  private readonly sectorBytes: number;
  private readonly choose: Chooser;
  private readonly table: Table;
  private readonly dura: Durability;
  private hook: FaultHook | null = null;
  private capacity = Infinity;
  private epoch = 0;

  constructor(opts: SimFsOptions) {
    this.profile = opts.profile;
    this.nowMs = opts.nowMs;
    this.choose = opts.choose;
    this.sectorBytes = opts.sectorBytes ?? 512;
    if (!(Number.isSafeInteger(this.sectorBytes) && this.sectorBytes > 0)) throw new Error('fs: bad sectorBytes');
    this.table = new Table(opts.choose);
    this.dura = new Durability(opts.profile, this.table);
    const root = new Inode(rootIno, this.newImage('dir', 0o755, 0, 0, ''));
    root.links = 1;
    this.table.add(root);
  }

  // ---- descriptors -------------------------------------------------------------------------

  open(ctx: Ctx, path: string, flags: number, mode: number): OpenFile {
    this.fault('open', path);
    if ((flags & O.ACCMODE) === O.ACCMODE) throw sysError('EINVAL', 'open', path);
    const excl = (flags & O.CREAT) !== 0 && (flags & O.EXCL) !== 0;
    // O_CREAT|O_EXCL never follows a final symlink: it fails with EEXIST on the link itself.
    const r = this.resolve(ctx, 'open', path, !excl && (flags & O.NOFOLLOW) === 0);
    let inode = r.inode;
    if (inode === null) {
      if ((flags & O.CREAT) === 0) throw sysError('ENOENT', 'open', path);
      if (r.slash) throw sysError('EISDIR', 'open', path);
      inode = this.create(ctx, r, 'open', path, 'file', mode & ~ctx.umask, '');
    } else {
      if (excl) throw sysError('EEXIST', 'open', path);
      this.openExisting(ctx, inode, flags, path);
    }
    inode.opens++;
    return new Description(inode, flags, this.epoch);
  }

  read(of: OpenFile, buf: Uint8Array, offset: number, length: number, position: number | null): number {
    const d = this.desc(of, 'read');
    this.fault('read', null);
    if ((d.flags & O.ACCMODE) === O.WRONLY) throw sysError('EBADF', 'read');
    if (d.kind === 'dir') throw sysError('EISDIR', 'read');
    if (d.kind !== 'file') throw sysError('EINVAL', 'read');
    checkRange(buf, offset, length, position, 'read');
    const at = position ?? d.pos;
    const n = at >= d.inode.size ? 0 : d.inode.node.read(buf, offset, length, at);
    if (position === null) d.pos += n;
    // Strict atime: qmail-send's OSSIFIED rule reads the atime of mess files.
    if (length > 0) d.inode.atimeMs = this.nowMs();
    return n;
  }

  write(of: OpenFile, buf: Uint8Array, offset: number, length: number, position: number | null): number {
    const d = this.desc(of, 'write');
    this.fault('write', null);
    if ((d.flags & O.ACCMODE) === O.RDONLY) throw sysError('EBADF', 'write');
    if (d.kind !== 'file') throw sysError('EINVAL', 'write');
    checkRange(buf, offset, length, position, 'write');
    const inode = d.inode;
    // Linux appends under O_APPEND even for pwrite.
    const at = (d.flags & O.APPEND) !== 0 ? inode.size : (position ?? d.pos);
    if (length === 0) return 0;
    if (at + length > fileBytesMax) throw sysError('EFBIG', 'write');
    const grow = Math.max(0, at + length - inode.size);
    if (this.table.used + grow > this.capacity) throw sysError('ENOSPC', 'write');
    const bytes = buf.subarray(offset, offset + length);
    inode.node.write(bytes, 0, length, at);
    this.table.used += grow;
    this.touchData(inode);
    this.dura.write(inode, at, bytes, inode.mtimeMs);
    if (position === null) d.pos = at + length;
    return length;
  }

  fsync(of: OpenFile): void {
    const d = this.desc(of, 'fsync');
    this.fault('fsync', null);
    if (d.kind === 'fifo') throw sysError('EINVAL', 'fsync');
    this.dura.fsync(d.inode);
  }

  fstat(of: OpenFile): Stat {
    const d = this.desc(of, 'fstat');
    this.fault('fstat', null);
    return d.inode.stat();
  }

  ftruncate(of: OpenFile, length: number): void {
    const d = this.desc(of, 'ftruncate');
    this.fault('ftruncate', null);
    if (d.kind !== 'file' || (d.flags & O.ACCMODE) === O.RDONLY) throw sysError('EINVAL', 'ftruncate');
    if (!(Number.isSafeInteger(length) && length >= 0)) throw sysError('EINVAL', 'ftruncate');
    if (length > fileBytesMax) throw sysError('EFBIG', 'ftruncate');
    this.truncate(d.inode, length);
  }

  close(of: OpenFile): void {
    const d = this.desc(of, 'close');
    this.fault('close', null);
    d.closed = true;
    d.inode.opens--;
    if (d.inode.opens < 0) throw new Error(`fs: inode ${d.ino} opens negative`);
    this.table.settle(d.inode);
  }

  // ---- paths -------------------------------------------------------------------------------

  stat(ctx: Ctx, path: string): Stat {
    this.fault('stat', path);
    return this.existing(this.resolve(ctx, 'stat', path, true), 'stat', path).stat();
  }

  lstat(ctx: Ctx, path: string): Stat {
    this.fault('lstat', path);
    return this.existing(this.resolve(ctx, 'lstat', path, false), 'lstat', path).stat();
  }

  link(ctx: Ctx, existing: string, newPath: string): void {
    this.fault('link', existing);
    // link(2) does not follow a final symlink: it links the symlink itself.
    const inode = this.existing(this.resolve(ctx, 'link', existing, false), 'link', existing);
    const dst = this.resolve(ctx, 'link', newPath, false);
    if (dst.inode !== null) throw sysError('EEXIST', 'link', newPath);
    if (dst.slash) throw sysError('ENOENT', 'link', newPath);
    this.mayCreate(ctx, dst.dir, 'link', newPath);
    if (inode.kind === 'dir') throw sysError('EPERM', 'link', existing);
    const now = this.nowMs();
    this.addEntry(dst.dir, dst.name, inode, now);
    inode.ctimeMs = now;
    this.dura.entry([{ dir: dst.dir.ino, name: dst.name, ino: inode.ino }], now);
  }

  rename(ctx: Ctx, oldPath: string, newPath: string): void {
    this.fault('rename', oldPath);
    const src = this.resolve(ctx, 'rename', oldPath, false);
    const dst = this.resolve(ctx, 'rename', newPath, false);
    if (isDot(src.name) || isDot(dst.name)) throw sysError('EBUSY', 'rename', oldPath);
    const s = this.existing(src, 'rename', oldPath);
    if (s.kind !== 'dir' && (src.slash || dst.slash)) throw sysError('ENOTDIR', 'rename', newPath);
    const t = dst.inode;
    if (s.kind === 'dir' && this.isAncestor(s, dst.dir)) throw sysError('EINVAL', 'rename', newPath);
    if (t !== null && t.kind === 'dir' && this.isAncestor(t, src.dir)) throw sysError('ENOTEMPTY', 'rename', newPath);
    // Two names of one inode: rename does nothing (POSIX).
    if (s === t) return;
    this.mayDelete(ctx, src.dir, s, s.kind === 'dir', 'rename', oldPath);
    if (t !== null) this.mayDelete(ctx, dst.dir, t, s.kind === 'dir', 'rename', newPath);
    else this.mayCreate(ctx, dst.dir, 'rename', newPath);
    // Moving a directory rewrites its '..', which needs write permission on it.
    if (s.kind === 'dir' && src.dir !== dst.dir && !permits(ctx.cred, s, 2)) throw sysError('EACCES', 'rename', oldPath);
    if (t !== null && t.entries !== null && t.entries.size > 0) throw sysError('ENOTEMPTY', 'rename', newPath);
    this.moveEntry(src, dst, s, t);
  }

  unlink(ctx: Ctx, path: string): void {
    this.fault('unlink', path);
    const r = this.resolve(ctx, 'unlink', path, false);
    if (isDot(r.name)) throw sysError('EISDIR', 'unlink', path);
    const inode = this.existing(r, 'unlink', path);
    this.mayDelete(ctx, r.dir, inode, false, 'unlink', path);
    this.removeName(r.dir, r.name, inode);
  }

  mkdir(ctx: Ctx, path: string, mode: number): void {
    this.fault('mkdir', path);
    const r = this.resolve(ctx, 'mkdir', path, false);
    if (r.inode !== null) throw sysError('EEXIST', 'mkdir', path);
    this.create(ctx, r, 'mkdir', path, 'dir', mode & 0o1777 & ~ctx.umask, '');
  }

  rmdir(ctx: Ctx, path: string): void {
    this.fault('rmdir', path);
    const r = this.resolve(ctx, 'rmdir', path, false);
    if (r.name === '.') throw sysError('EINVAL', 'rmdir', path);
    if (r.name === '..') throw sysError('ENOTEMPTY', 'rmdir', path);
    if (r.name === '/') throw sysError('EBUSY', 'rmdir', path);
    const inode = this.existing(r, 'rmdir', path);
    this.mayDelete(ctx, r.dir, inode, true, 'rmdir', path);
    if (inode.entries !== null && inode.entries.size > 0) throw sysError('ENOTEMPTY', 'rmdir', path);
    this.removeName(r.dir, r.name, inode);
  }

  readdir(ctx: Ctx, path: string): string[] {
    this.fault('readdir', path);
    const inode = this.existing(this.resolve(ctx, 'readdir', path, true), 'readdir', path);
    if (inode.entries === null) throw sysError('ENOTDIR', 'readdir', path);
    if (!permits(ctx.cred, inode, 4)) throw sysError('EACCES', 'readdir', path);
    inode.atimeMs = this.nowMs();
    return this.shuffle([...inode.entries.keys()]);
  }

  chmod(ctx: Ctx, path: string, mode: number): void {
    this.fault('chmod', path);
    const inode = this.existing(this.resolve(ctx, 'chmod', path, true), 'chmod', path);
    this.mayChangeMeta(ctx, inode, 'chmod', path);
    let perm = mode & 0o7777;
    // Linux: a non-root caller outside the file's group cannot leave it setgid.
    if (ctx.cred.uid !== 0 && !inGroup(ctx.cred, inode.node.gid)) perm &= ~S.ISGID;
    inode.node.mode = (inode.mode & S.IFMT) | perm;
    inode.ctimeMs = this.nowMs();
    this.dura.meta(inode);
  }

  chown(ctx: Ctx, path: string, uid: number, gid: number): void {
    this.fault('chown', path);
    const inode = this.existing(this.resolve(ctx, 'chown', path, true), 'chown', path);
    const newUid = isUnchanged(uid) ? inode.node.uid : uid;
    const newGid = isUnchanged(gid) ? inode.node.gid : gid;
    if (ctx.cred.uid !== 0) {
      // Linux: an owner may only give the file to one of its own groups, never to another user.
      const ok = ctx.cred.uid === inode.node.uid && newUid === inode.node.uid &&
        (newGid === inode.node.gid || inGroup(ctx.cred, newGid));
      if (!ok) throw sysError('EPERM', 'chown', path);
    }
    inode.node.uid = newUid;
    inode.node.gid = newGid;
    // Linux (even for root): chown of a non-directory drops setuid, and setgid if group-executable.
    if (inode.kind !== 'dir') {
      let mode = inode.mode & ~S.ISUID;
      if ((mode & (S.ISGID | 0o010)) === (S.ISGID | 0o010)) mode &= ~S.ISGID;
      inode.node.mode = mode;
    }
    inode.ctimeMs = this.nowMs();
    this.dura.meta(inode);
  }

  utimes(ctx: Ctx, path: string, atimeMs: number, mtimeMs: number): void {
    this.fault('utimes', path);
    const inode = this.existing(this.resolve(ctx, 'utimes', path, true), 'utimes', path);
    // Explicit times need ownership (Linux: EPERM), unlike "now", which write permission allows.
    this.mayChangeMeta(ctx, inode, 'utimes', path);
    inode.atimeMs = atimeMs;
    inode.mtimeMs = mtimeMs;
    inode.ctimeMs = this.nowMs();
    this.dura.meta(inode);
  }

  mkfifo(ctx: Ctx, path: string, mode: number): void {
    this.fault('mkfifo', path);
    const r = this.resolve(ctx, 'mkfifo', path, false);
    if (r.inode !== null) throw sysError('EEXIST', 'mkfifo', path);
    if (r.slash) throw sysError('ENOENT', 'mkfifo', path);
    this.create(ctx, r, 'mkfifo', path, 'fifo', mode & 0o7777 & ~ctx.umask, '');
  }

  symlink(ctx: Ctx, target: string, path: string): void {
    this.fault('symlink', path);
    if (target === '') throw sysError('ENOENT', 'symlink', path);
    if (utf8Bytes(target) >= pathBytesMax) throw sysError('ENAMETOOLONG', 'symlink', path);
    const r = this.resolve(ctx, 'symlink', path, false);
    if (r.inode !== null) throw sysError('EEXIST', 'symlink', path);
    if (r.slash) throw sysError('ENOENT', 'symlink', path);
    this.create(ctx, r, 'symlink', path, 'symlink', 0o777, target);
  }

  readlink(ctx: Ctx, path: string): string {
    this.fault('readlink', path);
    const inode = this.existing(this.resolve(ctx, 'readlink', path, false), 'readlink', path);
    if (inode.kind !== 'symlink') throw sysError('EINVAL', 'readlink', path);
    return inode.node.symlink;
  }

  // ---- crash, faults, checkers -------------------------------------------------------------

  crash(choose: Chooser): number {
    this.epoch++;
    if (this.profile === 'sync') {
      // Everything was durable; only the descriptions vanish, and with them unlinked open files.
      for (const inode of [...this.table.all()]) {
        inode.opens = 0;
        if (this.table.find(inode.ino) === inode) this.table.settle(inode);
      }
      return 0;
    }
    const { survivors, choices } = crash(this.table, this.profile, this.dura.journal, choose, this.sectorBytes);
    this.table.replace(survivors);
    this.dura.reset();
    return choices;
  }

  pendingOps(): number {
    return this.dura.pending();
  }

  setFaultHook(hook: FaultHook | null): void {
    this.hook = hook;
  }

  setCapacity(bytes: number): void {
    if (!(bytes >= 0)) throw new Error(`fs: bad capacity ${bytes}`);
    this.capacity = bytes;
  }

  peekFile(path: string): Uint8Array | null {
    const inode = this.peek(path, true);
    return inode !== null && inode.kind === 'file' ? inode.data() : null;
  }

  peekStat(path: string): Stat | null {
    return this.peek(path, false)?.stat() ?? null;
  }

  peekDir(path: string): string[] | null {
    const inode = this.peek(path, true);
    return inode?.entries ? [...inode.entries.keys()].sort() : null;
  }

  /** Bytes of live file data (what setCapacity bounds). */
  usedBytes(): number {
    return this.table.used;
  }

  /** Checker: throws if live state, durable state and pending operations disagree. Slow; for tests. */
  checkInvariants(): void {
    checkInvariants(this.table, this.dura);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private fault(op: FsOp, path: string | null): void {
    const code = this.hook?.(op, path) ?? null;
    if (code !== null) throw sysError(code, op, path ?? undefined);
  }

  private resolve(ctx: Ctx, syscall: string, path: string, follow: boolean): Resolved {
    return resolve({ table: this.table, cred: ctx.cred, syscall, path }, ctx.cwd, follow);
  }

  private peek(path: string, follow: boolean): Inode | null {
    try {
      return resolve({ table: this.table, cred: null, syscall: 'peek', path }, '/', follow).inode;
    } catch (e) {
      if (isSysError(e)) return null;
      throw e;
    }
  }

  private existing(r: Resolved, syscall: string, path: string): Inode {
    if (r.inode === null) throw sysError('ENOENT', syscall, path);
    return r.inode;
  }

  private desc(of: OpenFile, syscall: string): Description {
    if (!(of instanceof Description) || of.closed || of.epoch !== this.epoch) throw sysError('EBADF', syscall);
    return of;
  }

  private openExisting(ctx: Ctx, inode: Inode, flags: number, path: string): void {
    const acc = flags & O.ACCMODE;
    if (inode.kind === 'symlink') failWith('ELOOP', 'open', path);
    if ((flags & O.DIRECTORY) !== 0 && inode.kind !== 'dir') failWith('ENOTDIR', 'open', path);
    if (inode.kind === 'dir' && ((flags & O.CREAT) !== 0 || acc !== O.RDONLY || (flags & O.TRUNC) !== 0)) failWith('EISDIR', 'open', path);
    const want = (acc !== O.WRONLY ? 4 : 0) | (acc !== O.RDONLY || (flags & O.TRUNC) !== 0 ? 2 : 0);
    if (!permits(ctx.cred, inode, want)) failWith('EACCES', 'open', path);
    if ((flags & O.TRUNC) !== 0 && inode.kind === 'file') this.truncate(inode, 0);
  }

  private truncate(inode: Inode, length: number): void {
    const old = inode.size;
    inode.node.truncate(length);
    this.table.used += length - old;
    this.touchData(inode);
    // An O_TRUNC of an empty file changes no byte; recording it would only widen the crash space.
    if (old !== 0 || length !== 0) this.dura.trunc(inode, length, inode.mtimeMs);
  }

  private touchData(inode: Inode): void {
    const now = this.nowMs();
    inode.mtimeMs = now;
    inode.ctimeMs = now;
  }

  /** A new inode under `r.dir`: owner and group from the caller, or the group of a setgid dir. */
  private create(ctx: Ctx, r: Resolved, syscall: string, path: string, kind: FileKind, perm: number, target: string): Inode {
    const dir = r.dir;
    this.mayCreate(ctx, dir, syscall, path);
    const sgid = (dir.mode & S.ISGID) !== 0;
    const gid = sgid ? dir.node.gid : ctx.cred.gid;
    if (kind === 'dir' && sgid) perm |= S.ISGID;
    if (kind !== 'dir' && (perm & S.ISGID) !== 0 && ctx.cred.uid !== 0 && !inGroup(ctx.cred, gid)) perm &= ~S.ISGID;
    const inode = new Inode(this.table.alloc(), this.newImage(kind, perm, ctx.cred.uid, gid, target));
    this.table.add(inode);
    const now = inode.ctimeMs;
    this.addEntry(dir, r.name, inode, now);
    this.dura.entry([{ dir: dir.ino, name: r.name, ino: inode.ino }], now);
    return inode;
  }

  private newImage(kind: FileKind, perm: number, uid: number, gid: number, target: string): Image {
    const now = this.nowMs();
    return {
      kind, mode: modeOf(kind, perm), uid, gid, data: new Uint8Array(0), target,
      atimeMs: now, mtimeMs: now, ctimeMs: now,
    };
  }

  private mayCreate(ctx: Ctx, dir: Inode, syscall: string, path: string): void {
    // A removed directory (still someone's cwd) takes no new entries.
    if (dir.links === 0) throw sysError('ENOENT', syscall, path);
    if (!permits(ctx.cred, dir, 3)) throw sysError('EACCES', syscall, path);
  }

  /** Linux's may_delete: write+search on the directory, the sticky rule, and the victim's type. */
  private mayDelete(ctx: Ctx, dir: Inode, victim: Inode, isDir: boolean, syscall: string, path: string): void {
    if (!permits(ctx.cred, dir, 3)) failWith('EACCES', syscall, path);
    const uid = ctx.cred.uid;
    if ((dir.mode & S.ISVTX) !== 0 && uid !== 0 && uid !== victim.node.uid && uid !== dir.node.uid) failWith('EPERM', syscall, path);
    if (isDir && victim.kind !== 'dir') failWith('ENOTDIR', syscall, path);
    if (isDir && victim.ino === rootIno) failWith('EBUSY', syscall, path);
    if (!isDir && victim.kind === 'dir') failWith('EISDIR', syscall, path);
  }

  private mayChangeMeta(ctx: Ctx, inode: Inode, syscall: string, path: string): void {
    if (ctx.cred.uid !== 0 && ctx.cred.uid !== inode.node.uid) throw sysError('EPERM', syscall, path);
  }

  private isAncestor(a: Inode, d: Inode): boolean {
    for (let cur = d; ; cur = this.table.get(cur.parent)) {
      if (cur === a) return true;
      // A removed directory's parent may be gone too; nothing is below a removed directory.
      if (cur.ino === rootIno || cur.links === 0) return false;
    }
  }

  /** Live side of a new name. */
  private addEntry(dir: Inode, name: string, inode: Inode, now: number): void {
    if (dir.entries === null || dir.entries.has(name)) throw new Error(`fs: addEntry ${dir.ino}/${name}`);
    dir.entries.set(name, inode.ino);
    if (inode.kind === 'dir' || inode.kind === 'symlink') this.table.dirNamesGen++;
    inode.links++;
    if (inode.entries !== null) {
      inode.parent = dir.ino;
      dir.subdirs++;
    }
    dir.mtimeMs = now;
    dir.ctimeMs = now;
  }

  /** Live side of a removed name; the caller settles the inode. */
  private dropEntry(dir: Inode, name: string, inode: Inode, now: number): void {
    if (dir.entries?.get(name) !== inode.ino) throw new Error(`fs: dropEntry ${dir.ino}/${name}`);
    dir.entries.delete(name);
    if (inode.kind === 'dir' || inode.kind === 'symlink') this.table.dirNamesGen++;
    inode.links--;
    if (inode.entries !== null) dir.subdirs--;
    inode.ctimeMs = now;
    dir.mtimeMs = now;
    dir.ctimeMs = now;
  }

  /** unlink and rmdir. */
  private removeName(dir: Inode, name: string, inode: Inode): void {
    const now = this.nowMs();
    this.dropEntry(dir, name, inode, now);
    this.dura.entry([{ dir: dir.ino, name, ino: null }], now);
    this.table.settle(inode);
  }

  /** rename after its checks: one atomic entry operation with two sides. */
  private moveEntry(src: Resolved, dst: Resolved, s: Inode, t: Inode | null): void {
    const now = this.nowMs();
    if (t !== null) this.dropEntry(dst.dir, dst.name, t, now);
    this.dropEntry(src.dir, src.name, s, now);
    this.addEntry(dst.dir, dst.name, s, now);
    this.dura.entry([
      { dir: src.dir.ino, name: src.name, ino: null },
      { dir: dst.dir.ino, name: dst.name, ino: s.ino },
    ], now);
    if (t !== null) this.table.settle(t);
  }

  /** Fisher-Yates driven by the chooser: every order is possible, and replays exactly. */
  private shuffle(names: string[]): string[] {
    for (let i = names.length - 1; i > 0; i--) {
      const j = this.choose(i + 1);
      const t = names[i] as string;
      names[i] = names[j] as string;
      names[j] = t;
    }
    return names;
  }
}

function failWith(code: Errno, syscall: string, path: string): never {
  throw sysError(code, syscall, path);
}

function isUnchanged(id: number): boolean {
  return id === -1 || id === 0xffffffff;
}

function checkRange(buf: Uint8Array, offset: number, length: number, position: number | null, syscall: string): void {
  const ok = Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 &&
    offset + length <= buf.length && (position === null || (Number.isSafeInteger(position) && position >= 0));
  if (!ok) throw sysError('EINVAL', syscall);
}
