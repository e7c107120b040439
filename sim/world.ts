// The world's side of the kernel: what a test or the simulator does from outside all processes:
// setting up files durably (installation happens before the run, so a power loss never undoes it),
// starting programs with in-memory stdin and captured output, and waiting for them.

import type { ExitStatus, Fd } from '../impl/sys/types.ts';
import { O } from '../impl/sys/types.ts';
import { isSysError } from '../impl/sys/errors.ts';
import type { Ctx } from './fs-api.ts';
import type { Desc } from './files.ts';
import type { Kernel } from './kernel.ts';
import type { Creds } from './proc.ts';
import { assert } from './assert.ts';
import { checkCwd, credsAfterExec, ctxOf, loadProgram } from './exec.ts';
import { dirName, normalizePath } from './path.ts';
import { Channel } from './pipe.ts';
import { simShebang } from './programs.ts';

export interface FileOwner {
  uid: number;
  gid: number;
  /** Permission bits, setuid/setgid/sticky included. */
  mode: number;
}

/** What a world-spawned process gets at one fd: bytes to read (then EOF), output captured into a
 *  buffer, or nothing (closed; /dev/null for fds 0-2). */
export type WorldFd = Uint8Array | 'capture' | null;

export interface WorldSpawnOpts {
  uid?: number;
  gid?: number;
  groups?: number[];
  env?: Record<string, string>;
  cwd?: string;
  umask?: number;
  ip?: string;
  /** Shorthand for fds[0]. */
  stdin?: Uint8Array | string;
  /** Default: [stdin or empty input, 'capture', 'capture']. */
  fds?: WorldFd[];
}

export interface WorldExit extends ExitStatus {
  /** Captured fd 1 and fd 2, decoded as UTF-8 ('' when not captured). */
  stdout: string;
  stderr: string;
}

export interface SpawnHandle {
  readonly pid: number;
  /** Resolves when the process dies (by exit, signal, crash or power loss); needs k.run(). */
  wait(): Promise<WorldExit>;
  /** Bytes captured so far at fd (empty when not captured). */
  output(fd: Fd): Uint8Array;
  /** The status if the process has died, else null. */
  status(): ExitStatus | null;
}

const root: Creds = { uid: 0, gid: 0, euid: 0, egid: 0, groups: [0] };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function worldSpawn(k: Kernel, path: string, argv: string[], opts: WorldSpawnOpts): SpawnHandle {
  const gid = opts.gid ?? 0;
  const uid = opts.uid ?? 0;
  const creds: Creds = { uid, gid, euid: uid, egid: gid, groups: opts.groups ?? [gid] };
  const umask = opts.umask ?? 0o022;
  const cwd = checkCwd(k.fs, ctxOf(creds, '/', umask), opts.cwd ?? '/');
  const loaded = loadProgram(k.fs, k.programs, ctxOf(creds, cwd, umask), path);
  const stdin = typeof opts.stdin === 'string' ? encoder.encode(opts.stdin) : opts.stdin;
  const specs = opts.fds ?? [stdin ?? new Uint8Array(0), 'capture', 'capture'];
  const captured = new Map<Fd, Uint8Array[]>();
  const fds = specs.map((s, fd) => worldFd(k, creds, s, fd, captured));
  for (let i = 0; i < 3; i++) fds[i] ??= k.files.devNull(k.wallMs()); // as sys.proc.spawn does
  const p = k.createProcess({
    ppid: 0, ip: opts.ip ?? k.ip, creds: credsAfterExec(creds, loaded.stat), cwd, umask,
    argv, env: opts.env ?? {}, loaded, fds,
  });
  const output = (fd: Fd): Uint8Array => concatBytes(captured.get(fd) ?? []);
  const exit = (s: ExitStatus): WorldExit => ({ ...s, stdout: decoder.decode(output(1)), stderr: decoder.decode(output(2)) });
  return {
    pid: p.pid,
    output,
    status: () => p.status,
    wait: () =>
      new Promise<WorldExit>((resolve) => {
        if (p.status !== null) resolve(exit(p.status));
        else p.outsideWaiters.push((s) => resolve(exit(s)));
      }),
  };
}

function worldFd(k: Kernel, c: Creds, s: WorldFd, fd: Fd, captured: Map<Fd, Uint8Array[]>): Desc | null {
  if (s === null) return null;
  if (s === 'capture') {
    const sink: Uint8Array[] = [];
    captured.set(fd, sink);
    return k.files.end('fifo', null, new Channel(k.files.pipeBytes, sink), c.uid, c.gid, k.wallMs());
  }
  // Input with no writer: the reader gets these bytes, then EOF.
  const chan = new Channel(k.files.pipeBytes);
  chan.preload(s);
  return k.files.end('fifo', chan, null, c.uid, c.gid, k.wallMs());
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of parts) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

function rootCtx(): Ctx {
  return ctxOf(root, '/', 0);
}

export function worldInstall(k: Kernel, path: string, program: string, owner: FileOwner): void {
  worldWriteFile(k, path, `${simShebang}${program}\n`, owner);
}

export function worldWriteFile(k: Kernel, path: string, bytes: Uint8Array | string, owner: FileOwner): void {
  const abs = normalizePath(path);
  assert(abs !== '/', 'a file path');
  worldMkdirs(k, dirName(abs), { uid: 0, gid: 0, mode: 0o755 });
  const data = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
  const ctx = rootCtx();
  const of = k.fs.open(ctx, abs, O.WRONLY | O.CREAT | O.TRUNC, owner.mode & 0o777);
  try {
    let off = 0;
    while (off < data.length) off += k.fs.write(of, data, off, data.length - off, null);
    // chown before chmod: chown clears setuid bits, as on Linux.
    k.fs.chown(ctx, abs, owner.uid, owner.gid);
    k.fs.chmod(ctx, abs, owner.mode);
    k.fs.fsync(of);
  } finally {
    k.fs.close(of);
  }
  syncDir(k, dirName(abs));
}

/** Creates each missing directory of `path` with `owner` and makes it durable; existing ones are
 *  left as they are. */
export function worldMkdirs(k: Kernel, path: string, owner: FileOwner): void {
  const ctx = rootCtx();
  let at = '';
  for (const part of normalizePath(path).split('/').filter((s) => s !== '')) {
    const parent = at === '' ? '/' : at;
    at = `${at}/${part}`;
    if (exists(k, ctx, at)) continue;
    k.fs.mkdir(ctx, at, owner.mode & 0o777);
    k.fs.chown(ctx, at, owner.uid, owner.gid);
    k.fs.chmod(ctx, at, owner.mode);
    syncDir(k, at);
    syncDir(k, parent);
  }
}

function exists(k: Kernel, ctx: Ctx, path: string): boolean {
  try {
    k.fs.lstat(ctx, path);
    return true;
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return false;
    throw e;
  }
}

function syncDir(k: Kernel, path: string): void {
  const of = k.fs.open(rootCtx(), path, O.RDONLY | O.DIRECTORY, 0);
  try {
    k.fs.fsync(of);
  } finally {
    k.fs.close(of);
  }
}
