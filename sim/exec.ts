// execve's checks, Linux-shaped: search permission on every directory of the path (SimFs.stat does
// that with the caller's credentials), a regular file with an x bit for the caller (root needs any
// x bit), a `#!sim <name>` first line (else ENOEXEC) naming a registered program (else ENOENT, as
// a missing interpreter does). A setuid or setgid file sets the effective ids to its owner.

import type { Program, SpawnOpts, Stat } from '../impl/sys/types.ts';
import { O, S } from '../impl/sys/types.ts';
import { sysError } from './syscall.ts';
import type { Cred, Ctx, SimFsApi } from './fs-api.ts';
import type { Creds } from './proc.ts';
import type { Programs } from './programs.ts';
import { parseShebang } from './programs.ts';
import { resolvePath } from './path.ts';

/** How much of a program file is read to find its `#!sim` line. */
const shebangBytesMax = 256;

export interface Loaded {
  main: Program;
  name: string;
  /** Absolute path of the file (lexically normalized). */
  exe: string;
  stat: Stat;
}

/** The program at `path`, checked with the credentials the child will have before the exec. */
export function loadProgram(fs: SimFsApi, programs: Programs, ctx: Ctx, path: string): Loaded {
  const st = fs.stat(ctx, path);
  if (st.kind !== 'file' || !mayExec(ctx.cred, st)) throw sysError('EACCES', 'execve', path);
  // Reading needs no r bit for exec: the kernel reads the file itself, as root would.
  const of = fs.open({ ...ctx, cred: { uid: 0, gid: 0, groups: [0] } }, path, O.RDONLY, 0);
  const head = new Uint8Array(shebangBytesMax);
  let n: number;
  try {
    n = fs.read(of, head, 0, head.length, 0);
  } finally {
    fs.close(of);
  }
  const name = parseShebang(head.subarray(0, n));
  if (name === null) throw sysError('ENOEXEC', 'execve', path);
  const main = programs.get(name);
  if (main === undefined) throw sysError('ENOENT', 'execve', path);
  return { main, name, exe: resolvePath(ctx.cwd, path), stat: st };
}

/** x permission by owner, then group, then other; root needs at least one x bit. */
export function mayExec(cred: Cred, st: Stat): boolean {
  if (cred.uid === 0) return (st.mode & 0o111) !== 0;
  return (st.mode & permClass(cred, st) & 0o111) !== 0;
}

/** Search permission on a directory; root always has it. */
export function maySearch(cred: Cred, st: Stat): boolean {
  return cred.uid === 0 || (st.mode & permClass(cred, st) & 0o111) !== 0;
}

function permClass(cred: Cred, st: Stat): number {
  if (cred.uid === st.uid) return 0o700;
  if (cred.gid === st.gid || cred.groups.includes(st.gid)) return 0o070;
  return 0o007;
}

/** The child's credentials before the exec: the parent's, or those asked for (root only). Changing
 *  nothing is allowed to anyone, as setuid(getuid()) is. */
export function credsForSpawn(parent: Creds, opts: Pick<SpawnOpts, 'uid' | 'gid' | 'groups'>): Creds {
  const asked = opts.uid !== undefined || opts.gid !== undefined || opts.groups !== undefined;
  if (!asked) return parent;
  // As on the host: groups need a gid, and changed credentials start from [gid] alone.
  if (opts.groups !== undefined && opts.gid === undefined) throw sysError('EINVAL', 'spawn');
  const uid = opts.uid ?? parent.euid;
  const gid = opts.gid ?? parent.egid;
  const groups = opts.groups ?? [gid];
  const same = uid === parent.euid && gid === parent.egid && sameSet(groups, parent.groups);
  if (parent.euid !== 0 && !same) throw sysError('EPERM', 'spawn');
  for (const id of [uid, gid, ...groups]) {
    if (!(Number.isInteger(id) && id >= 0)) throw sysError('EINVAL', 'spawn');
  }
  return { uid, gid, euid: uid, egid: gid, groups: [...groups] };
}

/** The credentials after exec: a setuid file's owner becomes the effective uid; real ids stay. */
export function credsAfterExec(c: Creds, st: Stat): Creds {
  const euid = (st.mode & S.ISUID) !== 0 ? st.uid : c.euid;
  const egid = (st.mode & S.ISGID) !== 0 ? st.gid : c.egid;
  return { ...c, euid, egid };
}

export function ctxOf(c: Creds, cwd: string, umask: number): Ctx {
  return { cred: { uid: c.euid, gid: c.egid, groups: c.groups }, cwd, umask };
}

/** The cwd the child starts in: must be a directory the child may search. */
export function checkCwd(fs: SimFsApi, ctx: Ctx, cwd: string): string {
  const st = fs.stat(ctx, cwd);
  if (st.kind !== 'dir') throw sysError('ENOTDIR', 'chdir', cwd);
  if (!maySearch(ctx.cred, st)) throw sysError('EACCES', 'chdir', cwd);
  return resolvePath(ctx.cwd, cwd);
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
