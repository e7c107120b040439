// HostProc: this process and its children. Signals and exit go straight to Node's process object;
// spawn is in spawn.ts.

import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { SysError } from '../errors.ts';
import type { Child, Proc, ProcSelf, Signal, SpawnOpts } from '../types.ts';
import { mappedSync } from './errors.ts';
import type { FdTable } from './fd-table.ts';
import { spawnChild } from './spawn.ts';

/** Who we are, read once at start. argv[0] is the script's name as invoked (Node puts itself at
 *  process.argv[0]); exe is the script's real path, which a setuid program trusts over argv. */
export async function hostSelf(): Promise<ProcSelf> {
  const script = process.argv[1];
  // fromEntries defines own properties, so even a variable named __proto__ stays an entry.
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return {
    pid: process.pid,
    ppid: process.ppid,
    uid: posixId(process.getuid),
    gid: posixId(process.getgid),
    euid: posixId(process.geteuid),
    egid: posixId(process.getegid),
    groups: process.getgroups?.() ?? [],
    argv: [script === undefined ? process.argv0 : basename(script), ...process.argv.slice(2)],
    env,
    exe: script === undefined ? process.execPath : await realpath(script),
  };
}

function posixId(get: (() => number) | undefined): number {
  if (get === undefined) throw new Error('HostProc: not a POSIX host (no process.getuid)');
  return get();
}

/** The umask, read without changing it (Node's reading form is deprecated only in documentation;
 *  a set-and-restore would race with threadpool file creation). */
export function currentUmask(): number {
  return process.umask();
}

/** Signals a process cannot catch; asking to is a bug. */
const uncatchable: ReadonlySet<Signal> = new Set<Signal>(['SIGKILL', 'SIGSTOP']);

export class HostProc implements Proc {
  constructor(
    private readonly fds: FdTable,
    readonly self: ProcSelf,
    /** Called before exit so that no diagnostic is lost. */
    private readonly beforeExit: () => void,
  ) {}

  cwd(): string {
    return process.cwd();
  }

  async chdir(path: string): Promise<void> {
    mappedSync('chdir', path, () => process.chdir(path));
  }

  umask(mask: number): number {
    return process.umask(mask);
  }

  spawn(path: string, argv: string[], opts: SpawnOpts): Promise<Child> {
    return spawnChild(this.fds, path, argv, opts);
  }

  async kill(pid: number, signal: Signal): Promise<void> {
    mappedSync('kill', undefined, () => process.kill(pid, signal));
  }

  onSignal(signal: Signal, handler: () => void): () => void {
    if (uncatchable.has(signal)) throw new SysError('EINVAL', 'sigaction');
    const listener = (): void => handler();
    process.on(signal, listener);
    return () => {
      process.off(signal, listener);
    };
  }

  async setCreds(uid: number, gid: number, groups: number[]): Promise<void> {
    for (const id of [uid, gid, ...groups]) if (!(Number.isInteger(id) && id >= 0)) throw new SysError('EINVAL', 'setuid');
    if (process.geteuid?.() !== 0) throw new SysError('EPERM', 'setuid');
    // Groups first, uid last: after setuid nothing else may be changed. glibc applies each to every
    // thread (libuv's pool included).
    mappedSync('setgroups', undefined, () => process.setgroups?.(groups));
    mappedSync('setgid', undefined, () => process.setgid?.(gid));
    mappedSync('setuid', undefined, () => process.setuid?.(uid));
    const self = this.self;
    self.uid = posixId(process.getuid);
    self.euid = posixId(process.geteuid);
    self.gid = posixId(process.getgid);
    self.egid = posixId(process.getegid);
    self.groups = process.getgroups?.() ?? [];
    if (self.uid !== uid || self.euid !== uid || self.gid !== gid) throw new Error(`setCreds: still uid ${self.uid}/${self.euid} gid ${self.gid}`);
  }

  exit(code: number): never {
    this.beforeExit();
    process.exit(code);
  }
}
