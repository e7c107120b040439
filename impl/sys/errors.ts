// SysError: every failure of a Sys call, with its errno name. Daemons branch on `code`, never on
// a message. ProgramExit: thrown by proc.exit() to unwind the stack of the exiting program.

export type Errno =
  | 'ENOENT' | 'EEXIST' | 'EACCES' | 'EPERM' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EBADF'
  | 'EINVAL' | 'ENOSPC' | 'EIO' | 'EXDEV' | 'EMLINK' | 'ENXIO' | 'EAGAIN' | 'EPIPE'
  | 'ENAMETOOLONG' | 'ELOOP' | 'EROFS' | 'ECHILD' | 'ESRCH' | 'ECONNREFUSED' | 'ECONNRESET'
  | 'ETIMEDOUT' | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINTR' | 'EMFILE' | 'ENOMEM' | 'EOVERFLOW'
  | 'EBUSY' | 'ENOTSOCK' | 'EHOSTUNREACH' | 'ENETUNREACH' | 'ENOTSUP' | 'ENOEXEC' | 'EDQUOT'
  | 'ETXTBSY' | 'EFBIG' | 'ESPIPE';

export const errnos: readonly Errno[] = [
  'ENOENT', 'EEXIST', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', 'EBADF',
  'EINVAL', 'ENOSPC', 'EIO', 'EXDEV', 'EMLINK', 'ENXIO', 'EAGAIN', 'EPIPE',
  'ENAMETOOLONG', 'ELOOP', 'EROFS', 'ECHILD', 'ESRCH', 'ECONNREFUSED', 'ECONNRESET',
  'ETIMEDOUT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'EINTR', 'EMFILE', 'ENOMEM', 'EOVERFLOW',
  'EBUSY', 'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTSUP', 'ENOEXEC', 'EDQUOT',
  'ETXTBSY', 'EFBIG', 'ESPIPE',
];

export class SysError extends Error {
  constructor(
    readonly code: Errno,
    readonly syscall: string,
    readonly path?: string,
  ) {
    super(path === undefined ? `${syscall}: ${code}` : `${syscall} ${path}: ${code}`);
    this.name = 'SysError';
  }
}

/** A SysError without a stack, for errors that are answers rather than faults (a missing file, a
 *  taken name): capturing a stack cost more than the failed open or stat it reports. */
export function stacklessSysError(code: Errno, syscall: string, path?: string): SysError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new SysError(code, syscall, path);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export function isSysError(e: unknown, code?: Errno): e is SysError {
  return e instanceof SysError && (code === undefined || e.code === code);
}

/** Thrown by proc.exit(code) so that the exiting program's stack unwinds; caught only by the runner
 *  (impl/bin on the host, the process table in the sim). Never catch it anywhere else: a catch block
 *  that handles SysError must rethrow everything else. */
export class ProgramExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ProgramExit';
  }
}
