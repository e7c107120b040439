// Runs a program's main() in this test process on the real host Sys, with its own argv, env,
// credentials and users as the program sees them, its fds 0 and 1 fed from bytes when asked, and
// its fds 1 and 2 and log events captured. Everything else (files, clock) is the real host.
//
// The overrides only change what the program is told (proc.self, users), never what the kernel
// enforces: a "non-root" self lets a test reach the code paths of an ordinary user while the
// process keeps its real rights.

import { hostSys } from '../../impl/sys/host/index.ts';
import type { Fd, Group, Passwd, ProcSelf, Program, Sys, Users } from '../../impl/sys/types.ts';

export interface RunOpts {
  argv: string[];
  env?: Record<string, string>;
  self?: Partial<Omit<ProcSelf, 'argv' | 'env'>>;
  /** Replaces sys.users (a test world's passwd and group). */
  users?: Users;
  /** Bytes read from fd 0 and fd 1 (for qmail-queue-like programs). */
  input?: { 0?: Uint8Array; 1?: Uint8Array };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
  events: { level: string; name: string; fields?: Record<string, unknown> }[];
}

export async function runProgram(main: Program, opts: RunOpts): Promise<RunResult> {
  const cwd = process.cwd();
  const umask = process.umask();
  const { sys, out, events } = await captureSys(opts);
  try {
    const code = await main(sys);
    const stdoutBytes = concat(out[1]);
    const dec = new TextDecoder();
    return { code, stdout: dec.decode(stdoutBytes), stderr: dec.decode(concat(out[2])), stdoutBytes, events };
  } finally {
    // The program runs in this process: what it changes for itself must not leak into the test.
    process.chdir(cwd);
    process.umask(umask);
  }
}

/** A host Sys whose self, users, fds 0-2 and log are the test's. */
export async function captureSys(opts: RunOpts): Promise<{ sys: Sys; out: Record<1 | 2, Uint8Array[]>; events: RunResult['events'] }> {
  const base = await hostSys();
  const self: ProcSelf = { ...base.proc.self, ...opts.self, argv: opts.argv, env: opts.env ?? {} };
  const out: Record<1 | 2, Uint8Array[]> = { 1: [], 2: [] };
  const events: RunResult['events'] = [];
  const input = { 0: opts.input?.[0], 1: opts.input?.[1] };
  const offsets = { 0: 0, 1: 0 };
  const fs = delegate(base.fs, {
    write: async (fd: Fd, buf: Uint8Array, offset = 0, length = buf.length - offset, position?: number | null) => {
      if (fd !== 1 && fd !== 2) return base.fs.write(fd, buf, offset, length, position);
      out[fd].push(buf.slice(offset, offset + length));
      return length;
    },
    read: async (fd: Fd, buf: Uint8Array, offset = 0, length = buf.length - offset, position?: number | null) => {
      const src = fd === 0 || fd === 1 ? input[fd] : undefined;
      if (src === undefined || (fd !== 0 && fd !== 1)) return base.fs.read(fd, buf, offset, length, position);
      const n = Math.min(length, src.length - offsets[fd]);
      buf.set(src.subarray(offsets[fd], offsets[fd] + n), offset);
      offsets[fd] += n;
      return n;
    },
  });
  const proc = delegate(base.proc, { self });
  const log = { event: (level: string, name: string, fields?: Record<string, unknown>) => void events.push({ level, name, fields }) };
  return { sys: { ...base, fs, proc, log, users: opts.users ?? base.users }, out, events };
}

/** An object that answers with `over` first and the base object's (bound) members otherwise. */
function delegate<T extends object>(base: T, over: Record<string, unknown>): T {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in over) return over[prop];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A passwd and group world for sys.users. */
export function fakeUsers(users: Record<string, number>, groups: Record<string, number>): Users {
  const pw = (name: string, uid: number): Passwd => ({ name, uid, gid: uid, gecos: '', home: '/', shell: '/bin/false' });
  const gr = (name: string, gid: number): Group => ({ name, gid, members: [] });
  return {
    getpwnam: async (name) => (users[name] === undefined ? null : pw(name, users[name])),
    getpwuid: async (uid) => {
      const e = Object.entries(users).find(([, u]) => u === uid);
      return e === undefined ? null : pw(e[0], e[1]);
    },
    getgrnam: async (name) => (groups[name] === undefined ? null : gr(name, groups[name])),
    getgrgid: async (gid) => {
      const e = Object.entries(groups).find(([, g]) => g === gid);
      return e === undefined ? null : gr(e[0], e[1]);
    },
    groupsOf: async (_name, gid) => [gid],
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
