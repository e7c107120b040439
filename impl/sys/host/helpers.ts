// System calls Node lacks, done by short-lived helper programs: flock(2) via flock(1) on an
// inherited fd (the lock belongs to the open file description, so it stays with our fd after the
// helper exits), and mkfifo(3) via mkfifo(1), which only installation needs.

import { SysError, type Errno } from '../errors.ts';
import { sysErrorFrom } from './errors.ts';

/** flock(1)'s exit status when -n finds the lock taken (its default, 1, also means other failures). */
const flockConflictExit = 75;

interface HelperResult {
  code: number | null;
  stderr: string;
}

/** Runs a helper with fd 3 = fd (or none), stderr captured, in the C locale so messages are stable. */
async function runHelper(program: string, args: string[], fd: number | null, syscall: string): Promise<HelperResult> {
  // Loaded on first use (see spawn.ts nodeSpawn).
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe'];
    if (fd !== null) stdio.push(fd);
    let child;
    try {
      child = spawn(program, args, { stdio, env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C' } });
    } catch (e) {
      reject(sysErrorFrom(e, syscall));
      return;
    }
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(sysErrorFrom(e, syscall)));
    child.on('close', (code) => resolve({ code, stderr: stderr.trim() }));
  });
}

/** flock(fd, LOCK_EX [| LOCK_NB]); waiting happens in the helper, not on our event loop. */
export async function flockExclusive(fd: number, wait: boolean): Promise<void> {
  const args = wait ? ['-x', '3'] : ['-x', '-n', '-E', String(flockConflictExit), '3'];
  const r = await runHelper('flock', args, fd, 'flock');
  if (r.code === 0) return;
  if (r.code === flockConflictExit) throw new SysError('EAGAIN', 'flock');
  throw helperFailure('flock', undefined, r);
}

export async function flockRelease(fd: number): Promise<void> {
  const r = await runHelper('flock', ['-u', '3'], fd, 'flock');
  if (r.code !== 0) throw helperFailure('flock', undefined, r);
}

/** mkfifo(path, mode) with mode already masked by the umask (mkfifo -m ignores the umask). */
export async function mkfifoExact(path: string, mode: number): Promise<void> {
  const r = await runHelper('mkfifo', ['-m', (mode & 0o777).toString(8), '--', path], null, 'mkfifo');
  if (r.code !== 0) throw helperFailure('mkfifo', path, r);
}

/** strerror texts (C locale) -> errno names, for helpers that only report a message. */
const strerrors: readonly [string, Errno][] = [
  ['File exists', 'EEXIST'],
  ['No such file or directory', 'ENOENT'],
  ['Permission denied', 'EACCES'],
  ['Operation not permitted', 'EPERM'],
  ['Not a directory', 'ENOTDIR'],
  ['Read-only file system', 'EROFS'],
  ['No space left on device', 'ENOSPC'],
  ['Disk quota exceeded', 'EDQUOT'],
  ['File name too long', 'ENAMETOOLONG'],
  ['Too many levels of symbolic links', 'ELOOP'],
  ['Bad file descriptor', 'EBADF'],
];

function helperFailure(syscall: string, path: string | undefined, r: HelperResult): SysError {
  const hit = strerrors.find(([text]) => r.stderr.includes(text));
  const err = new SysError(hit?.[1] ?? 'EIO', syscall, path);
  if (hit === undefined) err.message += ` (helper exit ${r.code}: ${r.stderr})`;
  return err;
}
