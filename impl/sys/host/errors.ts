// Node errors -> SysError, in one place. Node reports errno names as `code` strings ('ENOENT');
// Linux aliases are folded here so daemons see one name per condition. Anything we do not know
// becomes EIO with the original kept in the message: never silently a different errno.

import { errnos, stacklessSysError, SysError, type Errno } from '../errors.ts';

const known: ReadonlySet<string> = new Set(errnos);

/** Linux spells some conditions twice; daemons branch on one name. */
const aliases: Readonly<Record<string, Errno>> = {
  EWOULDBLOCK: 'EAGAIN',
  EOPNOTSUPP: 'ENOTSUP',
};

interface NodeErrorLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/** Errors that are answers on the hot paths (a missing .qmail or queue file, a taken name), not
 *  faults: capturing a stack for each was a large part of their cost. */
const answers: ReadonlySet<Errno> = new Set<Errno>(['ENOENT', 'EEXIST']);

/** Maps a thrown value to a SysError. SysErrors pass through unchanged. */
export function sysErrorFrom(e: unknown, syscall: string, path?: string): SysError {
  if (e instanceof SysError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as NodeErrorLike;
  const code = typeof err.code === 'string' ? err.code : '';
  const mapped = aliases[code] ?? (known.has(code) ? (code as Errno) : null);
  if (mapped !== null) return answers.has(mapped) ? stacklessSysError(mapped, syscall, path) : new SysError(mapped, syscall, path);
  const out = new SysError('EIO', syscall, path);
  out.message += ` (unmapped: ${code === '' ? 'no code' : code}: ${String(err.message ?? e)})`;
  return out;
}

/** Runs fn and rethrows any failure as a SysError. */
export async function mapped<T>(syscall: string, path: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw sysErrorFrom(e, syscall, path);
  }
}

/** Synchronous twin of mapped(). */
export function mappedSync<T>(syscall: string, path: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw sysErrorFrom(e, syscall, path);
  }
}
