// The contract between the simulated kernel (sim/kernel.ts, sim/proc.ts) and the simulated file
// system (sim/fs.ts). SimFs is synchronous and knows nothing of processes, fds or scheduling: the
// kernel owns fd tables, blocking, FIFO buffers and pipes, and calls SimFs with the caller's
// credentials, cwd and umask. Every method throws SysError (impl/sys/errors.ts) with the errno a
// Linux kernel would give.

import type { FileKind, Stat } from '../impl/sys/types.ts';

/** Effective credentials of the calling process. uid 0 bypasses permission checks like Linux root
 *  (except that exec needs at least one x bit, which is the kernel's business). */
export interface Cred {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** Where a relative path starts, and what a new file's mode is masked with. */
export interface Ctx {
  cred: Cred;
  cwd: string;
  umask: number;
}

export type CrashProfile = 'posix' | 'ext4-ordered' | 'sync';

/** Picks one of n alternatives (0..n-1). A seeded PRNG picks at random; the explorer enumerates. */
export type Chooser = (n: number) => number;

/** An open file description (what open(2) creates; shared by dup and across fork). Opaque to the
 *  kernel except for the fields below. */
export interface OpenFile {
  readonly ino: number;
  readonly kind: FileKind;
  /** O_* access and status flags as given to open (O.ACCMODE bits, O.APPEND, O.NONBLOCK). */
  readonly flags: number;
  /** Current offset for reads and writes at position null. */
  pos: number;
}

export type FsOp =
  | 'open' | 'read' | 'write' | 'fsync' | 'fstat' | 'ftruncate' | 'close' | 'stat' | 'lstat' | 'link'
  | 'rename' | 'unlink' | 'mkdir' | 'rmdir' | 'readdir' | 'chmod' | 'chown' | 'utimes' | 'mkfifo'
  | 'symlink' | 'readlink';

/** Fault hook: called before each operation; returning an errno name makes the operation fail with
 *  it, with no effect. Used for EIO/ENOSPC injection (sim/faults.ts). */
export type FaultHook = (op: FsOp, path: string | null) => import('../impl/sys/errors.ts').Errno | null;

export interface SimFsApi {
  readonly profile: CrashProfile;

  open(ctx: Ctx, path: string, flags: number, mode: number): OpenFile;
  /** Regular files only (the kernel handles FIFOs). position null: at of.pos, advancing it. */
  read(of: OpenFile, buf: Uint8Array, offset: number, length: number, position: number | null): number;
  write(of: OpenFile, buf: Uint8Array, offset: number, length: number, position: number | null): number;
  /** Makes the file's data and metadata durable; on a directory, its entries. */
  fsync(of: OpenFile): void;
  fstat(of: OpenFile): Stat;
  ftruncate(of: OpenFile, length: number): void;
  /** Drops the description; an inode with no links and no descriptions is freed (its number reused). */
  close(of: OpenFile): void;

  stat(ctx: Ctx, path: string): Stat;
  lstat(ctx: Ctx, path: string): Stat;
  link(ctx: Ctx, existing: string, newPath: string): void;
  rename(ctx: Ctx, oldPath: string, newPath: string): void;
  unlink(ctx: Ctx, path: string): void;
  mkdir(ctx: Ctx, path: string, mode: number): void;
  rmdir(ctx: Ctx, path: string): void;
  /** Names in an order drawn from the file system's chooser (real kernels promise no order). */
  readdir(ctx: Ctx, path: string): string[];
  chmod(ctx: Ctx, path: string, mode: number): void;
  chown(ctx: Ctx, path: string, uid: number, gid: number): void;
  utimes(ctx: Ctx, path: string, atimeMs: number, mtimeMs: number): void;
  mkfifo(ctx: Ctx, path: string, mode: number): void;
  symlink(ctx: Ctx, target: string, path: string): void;
  readlink(ctx: Ctx, path: string): string;

  /** Power loss: rebuilds the visible tree from what the profile lets survive, with `choose`
   *  deciding each open question (which prefix of a file's unsynced operations survives, where a
   *  write tears). Every OpenFile is invalid afterwards. Returns how many choices were made. */
  crash(choose: Chooser): number;
  /** Operations not yet durable (0 under 'sync'): the size of the crash-state space's inputs. */
  pendingOps(): number;

  setFaultHook(hook: FaultHook | null): void;
  /** Capacity in bytes of file data; writes past it fail with ENOSPC. Infinity by default. */
  setCapacity(bytes: number): void;

  /** Checker access, no permission checks, no timestamps touched. */
  peekFile(path: string): Uint8Array | null;
  peekStat(path: string): Stat | null;
  peekDir(path: string): string[] | null;
}
