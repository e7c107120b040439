// Sys.proc for one simulated process: identity, cwd and umask, spawn (execve's checks, setuid,
// fd wiring), signals and exit.

import type { Child, Fd, Proc, ProcSelf, Signal, SpawnOpts } from '../impl/sys/types.ts';
import { ProgramExit } from '../impl/sys/errors.ts';
import type { Desc } from './files.ts';
import type { Kernel } from './kernel.ts';
import type { SimProcess } from './proc.ts';
import { checkCwd, credsAfterExec, credsForSpawn, ctxOf, loadProgram, maySearch } from './exec.ts';
import { deliverSignal } from './lifecycle.ts';
import { resolvePath } from './path.ts';
import { Blocked, sysError } from './syscall.ts';

export function makeProc(k: Kernel, p: SimProcess): Proc {
  const c = p.creds;
  const self: ProcSelf = {
    pid: p.pid, ppid: p.ppid, uid: c.uid, gid: c.gid, euid: c.euid, egid: c.egid,
    groups: [...c.groups], argv: [...p.argv], env: { ...p.env }, exe: p.exe,
  };
  return {
    self,
    cwd: () => p.cwd,
    chdir: (path) => {
      const ctx = p.ctx();
      return k.syscall(p, 'chdir', 'meta', () => {
        const st = k.fs.stat(ctx, path);
        if (st.kind !== 'dir') throw sysError('ENOTDIR', 'chdir', path);
        if (!maySearch(ctx.cred, st)) throw sysError('EACCES', 'chdir', path);
        p.cwd = resolvePath(ctx.cwd, path);
      }, { path });
    },
    umask: (mask) => {
      const old = p.umask;
      p.umask = mask & 0o777;
      return old;
    },
    spawn: (path, argv, opts) => k.syscall(p, 'spawn', 'spawn', () => spawnChild(k, p, path, argv, opts), { path }),
    kill: (pid, sig) => k.syscall(p, 'kill', 'signal', () => sendSignal(k, p, pid, sig), { target: pid, signal: sig }),
    onSignal: (sig, handler) => onSignal(p, sig, handler),
    setCreds: (uid, gid, groups) =>
      k.syscall(p, 'setuid', 'meta', () => {
        setCreds(p, uid, gid, groups);
        Object.assign(self, { uid, gid, euid: uid, egid: gid, groups: [...groups] });
      }, { uid, gid }),
    exit: (code) => {
      if (!(Number.isInteger(code) && code >= 0 && code <= 255)) throw new Error(`exit(${code}): not 0..255`);
      if (p.alive) k.end(p, { code, signal: null });
      throw new ProgramExit(code);
    },
  };
}

/** Checks everything before creating anything, so a failed spawn leaves no pipe behind. */
function spawnChild(k: Kernel, parent: SimProcess, path: string, argv: string[], opts: SpawnOpts): Child {
  const specs = opts.fds;
  checkSameAs(specs);
  const inherited = specs.map((s) => (typeof s === 'number' ? parent.desc(s, 'spawn') : null));
  const creds = credsForSpawn(parent.creds, opts);
  // Like libuv's child: chdir first, then exec (a relative path is relative to the new cwd).
  const cwd = checkCwd(k.fs, ctxOf(creds, parent.cwd, parent.umask), opts.cwd ?? parent.cwd);
  const loaded = loadProgram(k.fs, k.programs, ctxOf(creds, cwd, parent.umask), path);
  const childFds: Array<Desc | null> = [];
  const parentEnds: Record<number, Fd> = {};
  specs.forEach((s, i) => {
    if (s !== 'pipe') {
      childFds[i] = inherited[i] ?? null;
      return;
    }
    const [mine, theirs] = k.files.socketPair('fifo', parent.creds.euid, parent.creds.egid, k.wallMs());
    parentEnds[i] = parent.install(mine, 'spawn');
    childFds[i] = theirs;
  });
  specs.forEach((s, i) => {
    if (s !== null && typeof s === 'object') childFds[i] = childFds[s.sameAs] ?? null;
  });
  // As on the host (Node's spawn): a missing fd 0, 1 or 2 is /dev/null, never a closed fd that a
  // later open would take.
  for (let i = 0; i < 3; i++) childFds[i] ??= k.files.devNull(k.wallMs());
  const child = k.createProcess({
    ppid: parent.pid, ip: parent.ip, creds: credsAfterExec(creds, loaded.stat), cwd, umask: parent.umask,
    argv, env: opts.env, loaded, fds: childFds,
  });
  const wait = () =>
    k.syscall(parent, 'wait', 'meta', () => child.status ?? new Blocked(child.exited), { pid: child.pid });
  return { pid: child.pid, fds: parentEnds, wait };
}

/** { sameAs: j } names another entry that is a parent fd or a pipe (a bug otherwise: EINVAL). */
function checkSameAs(specs: SpawnOpts['fds']): void {
  for (const s of specs) {
    if (s === null || typeof s !== 'object') continue;
    const target = specs[s.sameAs];
    if (!(Number.isInteger(s.sameAs) && (typeof target === 'number' || target === 'pipe'))) throw sysError('EINVAL', 'spawn');
  }
}

/** kill(2): root may signal anyone; others only processes with the same real or effective uid. */
function sendSignal(k: Kernel, from: SimProcess, pid: number, sig: Signal): void {
  if (!(Number.isInteger(pid) && pid > 0)) throw sysError('EINVAL', 'kill');
  const to = k.procs.get(pid);
  if (to === undefined) throw sysError('ESRCH', 'kill');
  const mine = [from.creds.uid, from.creds.euid];
  const allowed = from.creds.euid === 0 || mine.includes(to.creds.uid) || mine.includes(to.creds.euid);
  if (!allowed) throw sysError('EPERM', 'kill');
  // POSIX: a signal a process sends itself is delivered before kill() returns, so a process that
  // kills itself never runs on (the kernel then leaves this very syscall unsettled).
  if (to === from) deliverSignal(k, to, sig);
  else k.schedule(to, 'signal', () => deliverSignal(k, to, sig));
}

/** setgroups + setgid + setuid as root: real, effective (and saved) ids all become the new ones. */
function setCreds(p: SimProcess, uid: number, gid: number, groups: number[]): void {
  for (const id of [uid, gid, ...groups]) if (!(Number.isInteger(id) && id >= 0)) throw sysError('EINVAL', 'setuid');
  if (p.creds.euid !== 0) throw sysError('EPERM', 'setuid');
  p.creds = { uid, gid, euid: uid, egid: gid, groups: [...groups] };
}

function onSignal(p: SimProcess, sig: Signal, handler: () => void): () => void {
  if (sig === 'SIGKILL' || sig === 'SIGSTOP') throw sysError('EINVAL', 'sigaction');
  const list = p.handlers.get(sig) ?? [];
  list.push(handler);
  p.handlers.set(sig, list);
  return () => {
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
  };
}
