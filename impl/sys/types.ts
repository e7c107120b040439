// Sys: the only door from a program to the world (file system, processes, clock, network, users,
// diagnostics, randomness). One Sys per process, passed as the first parameter to every function
// that does IO. Two implementations: impl/sys/host (real Linux) and sim/ (deterministic world).
//
// Shapes follow POSIX so that qmail's algorithms port line by line: fds are small integers, paths
// are resolved against the process's cwd, errors carry errno names (SysError in ./errors.ts).

export type Fd = number;

/** open(2) flags, Linux values. HostFs passes them straight to the kernel. */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  ACCMODE: 3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
} as const;

/** st_mode type bits. */
export const S = {
  IFMT: 0o170000,
  IFREG: 0o100000,
  IFDIR: 0o040000,
  IFIFO: 0o010000,
  IFLNK: 0o120000,
  IFSOCK: 0o140000,
  ISUID: 0o4000,
  ISGID: 0o2000,
  ISVTX: 0o1000,
} as const;

export type FileKind = 'file' | 'dir' | 'fifo' | 'symlink' | 'socket' | 'other';

export interface Stat {
  dev: number;
  /** Inode number; message numbers are inode numbers (spec/queue.md 1.3). Always a safe integer. */
  ino: number;
  /** Full st_mode: type bits and permission bits. */
  mode: number;
  kind: FileKind;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface Fs {
  open(path: string, flags: number, mode?: number): Promise<Fd>;
  close(fd: Fd): Promise<void>;
  /** Reads up to `length` bytes into buf at `offset`; `position` null reads at the fd's offset. 0 = EOF.
   *  On a pipe, FIFO or socket a blocking fd waits for data; a non-blocking one fails with EAGAIN. */
  read(fd: Fd, buf: Uint8Array, offset?: number, length?: number, position?: number | null): Promise<number>;
  /** Writes up to `length` bytes; returns how many were written (short writes are possible). */
  write(fd: Fd, buf: Uint8Array, offset?: number, length?: number, position?: number | null): Promise<number>;
  fsync(fd: Fd): Promise<void>;
  fstat(fd: Fd): Promise<Stat>;
  ftruncate(fd: Fd, length: number): Promise<void>;
  /** flock(2) LOCK_EX; with wait=false fails with EAGAIN (EWOULDBLOCK) when another open file holds it. */
  lock(fd: Fd, wait: boolean): Promise<void>;
  unlock(fd: Fd): Promise<void>;

  stat(path: string): Promise<Stat>;
  lstat(path: string): Promise<Stat>;
  link(existing: string, newPath: string): Promise<void>;
  rename(oldPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, mode: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** Entry names without '.' and '..', in no promised order (the sim shuffles it). */
  readdir(path: string): Promise<string[]>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  utimes(path: string, atimeMs: number, mtimeMs: number): Promise<void>;
  mkfifo(path: string, mode: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;

  /** Makes the directory's entries durable: open(dir, O_RDONLY), fsync, close. */
  syncDir(path: string): Promise<void>;
  /** qmail's triggerpull: open the FIFO O_WRONLY|O_NONBLOCK, write one NUL, close. Never blocks,
   *  never fails: no reader (ENXIO), no FIFO (ENOENT) and a full FIFO (EAGAIN) are all ignored. */
  trigger(path: string): Promise<void>;
}

/** SIGABRT is what a crashed program (an uncaught exception: a bug) dies of, in both worlds. */
export type Signal = 'SIGTERM' | 'SIGKILL' | 'SIGHUP' | 'SIGALRM' | 'SIGINT' | 'SIGCHLD' | 'SIGPIPE' | 'SIGUSR1' | 'SIGUSR2' | 'SIGSTOP' | 'SIGCONT' | 'SIGABRT';

/** Signals that only end a process (a crash, a resource limit): a child's death may report them,
 *  though programs neither send nor catch them. */
export type DeathSignal =
  | 'SIGQUIT' | 'SIGILL' | 'SIGTRAP' | 'SIGABRT' | 'SIGBUS' | 'SIGFPE' | 'SIGSEGV' | 'SIGXCPU' | 'SIGXFSZ'
  | 'SIGSYS' | 'SIGVTALRM' | 'SIGPROF' | 'SIGIO' | 'SIGPWR' | 'SIGSTKFLT';

export interface ExitStatus {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal: Signal | DeathSignal | null;
}

/** For spawn: what the child's fd i is. A number is one of the parent's fds (duplicated into the child);
 *  'pipe' makes a new pipe whose other end the parent gets back in Child.fds[i]; null leaves it closed;
 *  { sameAs: j } is the very open file of the child's fd j (dup2(j, i)), e.g. qmail's fd 2 = fd 1 on
 *  one report pipe. Entry j must be a number or 'pipe', not another sameAs. */
export type FdSpec = Fd | 'pipe' | null | { sameAs: Fd };

export interface SpawnOpts {
  env: Record<string, string>;
  cwd?: string;
  /** Credentials for the child; only a root parent may change them. groups defaults to [gid]. */
  uid?: number;
  gid?: number;
  groups?: number[];
  fds: FdSpec[];
}

export interface Child {
  pid: number;
  /** The parent's ends of the pipes asked for with 'pipe', by child fd number. */
  fds: Record<number, Fd>;
  wait(): Promise<ExitStatus>;
}

export interface ProcSelf {
  pid: number;
  ppid: number;
  /** Real uid and gid: who ran us (the kernel's word, never the caller's). */
  uid: number;
  gid: number;
  /** Effective uid and gid: what the kernel checks (differ under a setuid helper). */
  euid: number;
  egid: number;
  groups: number[];
  argv: string[];
  env: Record<string, string>;
  /** Absolute path of the program file the kernel executed (/proc/self/exe for a script: on the host
   *  the bundle's path, in the sim the installed file). Trusted, unlike argv[0]: a setuid program
   *  finds its installation from it. */
  exe: string;
}

export interface Proc {
  readonly self: ProcSelf;
  cwd(): string;
  chdir(path: string): Promise<void>;
  /** Sets the umask, returns the previous one. */
  umask(mask: number): number;
  spawn(path: string, argv: string[], opts: SpawnOpts): Promise<Child>;
  kill(pid: number, signal: Signal): Promise<void>;
  /** Runs handler when the signal arrives; returns a function that removes it. Without a handler
   *  SIGTERM/SIGHUP/SIGALRM/SIGINT end the process, as the kernel's default does. */
  onSignal(signal: Signal, handler: () => void): () => void;
  /** Drops this process to other credentials for good: setgroups(groups), setgid(gid), setuid(uid)
   *  (real, effective and saved ids alike), then self shows them. Only root may (EPERM otherwise);
   *  a daemon binds its port as root and then becomes its own user, as tcpserver -u -g does. */
  setCreds(uid: number, gid: number, groups: number[]): Promise<void>;
  /** Ends this process now with the code (never returns). Open fds are closed; in the sim its
   *  pending Sys promises never settle. */
  exit(code: number): never;
}

export interface Clock {
  /** Wall-clock time in ms since the epoch (virtual in the sim; may step). */
  nowMs(): number;
  /** Monotonic time in ms, for timeouts. */
  monotonicMs(): number;
  sleep(ms: number): Promise<void>;
  /** Calls cb once after ms; the returned function cancels it. */
  timer(ms: number, cb: () => void): () => void;
}

export interface Random {
  /** A uniformly distributed 32-bit unsigned integer. */
  u32(): number;
  bytes(n: number): Uint8Array;
}

export interface Passwd {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface Group {
  name: string;
  gid: number;
  members: string[];
}

export interface Users {
  getpwnam(name: string): Promise<Passwd | null>;
  getpwuid(uid: number): Promise<Passwd | null>;
  getgrnam(name: string): Promise<Group | null>;
  getgrgid(gid: number): Promise<Group | null>;
  /** Supplementary groups of a user (initgroups), including gid. */
  groupsOf(name: string, gid: number): Promise<number[]>;
}

export interface Address {
  host: string;
  port: number;
}

/** A connected stream socket, as an fd of this process (read/write/close through Fs). */
export interface Accepted {
  fd: Fd;
  remote: Address;
  local: Address;
}

export interface Listener {
  local: Address;
  accept(): Promise<Accepted>;
  close(): Promise<void>;
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface Net {
  listen(local: Address): Promise<Listener>;
  /** Connects; fails with ECONNREFUSED, ETIMEDOUT (after timeoutMs), EHOSTUNREACH. */
  connect(remote: Address, timeoutMs: number): Promise<Accepted>;
  /** DNS: ENOTFOUND-like answers are [] ; temporary failures throw SysError EAGAIN. */
  resolveMx(name: string): Promise<MxRecord[]>;
  resolveA(name: string): Promise<string[]>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured diagnostics (pino JSON on the host, the trace in the sim). Event names are stable
 *  (`queue.accepted`, `send.ossified_cleanup`) so tests can assert that a path was reached.
 *  qmail's activity log is NOT this: it is written byte for byte to its own fd. */
export interface Log {
  event(level: LogLevel, name: string, fields?: Record<string, unknown>): void;
}

export interface Sys {
  fs: Fs;
  proc: Proc;
  clock: Clock;
  net: Net;
  users: Users;
  log: Log;
  random: Random;
}

/** A program: qmail's interface (argv, env and fds on sys.proc.self), exit code out. */
export type Program = (sys: Sys) => Promise<number>;
