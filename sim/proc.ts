// One simulated process: credentials (real and effective), cwd, umask, argv/env, its fd table of
// refcounted descriptions, signal handlers, and who waits for its death. The kernel (sim/kernel.ts)
// creates and ends processes; sim/sys.ts turns one into a Sys.

import type { ExitStatus, Fd, Signal, Sys } from '../impl/sys/types.ts';
import { sysError } from './syscall.ts';
import type { Ctx } from './fs-api.ts';
import type { Desc } from './files.ts';
import type { Prng } from './prng.ts';
import { assert } from './assert.ts';
import { WaitQueue } from './wait-queue.ts';

/** RLIMIT_NOFILE's usual soft limit. */
export const fdsMax = 1024;

export interface Creds {
  readonly uid: number;
  readonly gid: number;
  readonly euid: number;
  readonly egid: number;
  readonly groups: readonly number[];
}

export interface ProcInit {
  pid: number;
  ppid: number;
  ip: string;
  creds: Creds;
  cwd: string;
  umask: number;
  argv: string[];
  env: Record<string, string>;
  exe: string;
  random: Prng;
}

export class SimProcess {
  readonly pid: number;
  readonly ppid: number;
  /** The address its sockets have: the host it runs on. */
  readonly ip: string;
  /** Replaced whole (never mutated) by setCreds: a root process dropping privileges. */
  creds: Creds;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly exe: string;
  readonly random: Prng;
  cwd: string;
  umask: number;
  alive = true;
  status: ExitStatus | null = null;
  readonly fds = new Map<Fd, Desc>();
  readonly handlers = new Map<Signal, Array<() => void>>();
  /** Syscalls blocked in Child.wait() on this one. */
  readonly exited = new WaitQueue();
  /** Waiters from outside the world (the test or the harness); called once with the status. */
  readonly outsideWaiters: Array<(s: ExitStatus) => void> = [];
  /** Releases resources not in the fd table: listeners, descriptions held by blocked opens. */
  readonly cleanups = new Set<() => void>();
  sys: Sys | null = null;

  constructor(init: ProcInit) {
    assert(init.cwd.startsWith('/'), 'cwd is absolute');
    this.pid = init.pid;
    this.ppid = init.ppid;
    this.ip = init.ip;
    this.creds = init.creds;
    this.cwd = init.cwd;
    this.umask = init.umask;
    this.argv = init.argv;
    this.env = init.env;
    this.exe = init.exe;
    this.random = init.random;
  }

  /** What SimFs checks: effective credentials, cwd, umask. The same object until one of them
   *  changes (SimFs only reads it): a path syscall takes one at every call. */
  ctx(): Ctx {
    const c = this.creds;
    const last = this.lastCtx;
    if (last !== null && this.lastCtxCreds === c && last.cwd === this.cwd && last.umask === this.umask) return last;
    const ctx: Ctx = { cred: { uid: c.euid, gid: c.egid, groups: c.groups }, cwd: this.cwd, umask: this.umask };
    this.lastCtx = ctx;
    this.lastCtxCreds = c;
    return ctx;
  }

  private lastCtx: Ctx | null = null;
  private lastCtxCreds: Creds | null = null;

  desc(fd: Fd, syscall: string): Desc {
    const d = this.fds.get(fd);
    if (d === undefined) throw sysError('EBADF', syscall);
    return d;
  }

  /** Installs d at the lowest free fd (at least `min`) and takes a reference. */
  install(d: Desc, syscall: string, min = 0): Fd {
    let fd = min;
    while (this.fds.has(fd)) fd++;
    if (fd >= fdsMax) throw sysError('EMFILE', syscall);
    this.fds.set(fd, d);
    d.refs++;
    return fd;
  }

  /** Installs d at exactly fd (spawn's fd map). */
  installAt(fd: Fd, d: Desc): void {
    assert(!this.fds.has(fd) && fd >= 0 && fd < fdsMax, 'installAt on a free fd');
    this.fds.set(fd, d);
    d.refs++;
  }

  /** Removes every fd, lowest first; the caller releases each description. */
  takeAllFds(): Desc[] {
    const fds = [...this.fds.keys()].sort((a, b) => a - b);
    const out = fds.map((fd) => this.fds.get(fd) as Desc);
    this.fds.clear();
    return out;
  }
}
