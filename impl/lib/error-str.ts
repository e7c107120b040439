// qmail's error_str(): the fixed English text for an errno, as qmail programs print it after a
// colon ("warning: trouble with #457: file does not exist"). Byte-compatible output depends on it.
// Texts from notqmail error_str.c; an errno it lacks prints "unknown error", as there.

import type { Errno } from '../sys/errors.ts';

const texts: Readonly<Record<Errno, string>> = {
  EINTR: 'interrupted system call',
  ENOMEM: 'out of memory',
  ENOENT: 'file does not exist',
  ETXTBSY: 'text busy',
  EIO: 'input/output error',
  EEXIST: 'file already exists',
  ETIMEDOUT: 'timed out',
  EAGAIN: 'temporary failure',
  EPIPE: 'broken pipe',
  EPERM: 'permission denied',
  EACCES: 'access denied',
  ESRCH: 'no such process',
  ENXIO: 'device not configured',
  ENOEXEC: 'exec format error',
  EBADF: 'file descriptor not open',
  ECHILD: 'no child processes',
  EBUSY: 'device busy',
  EXDEV: 'cross-device link',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  EMFILE: 'process cannot open more files',
  EFBIG: 'file too big',
  ENOSPC: 'out of disk space',
  ESPIPE: 'unseekable descriptor',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  ENOTSOCK: 'not a socket',
  ENOTSUP: 'operation not supported',
  EADDRINUSE: 'address already used',
  EADDRNOTAVAIL: 'address not available',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ECONNREFUSED: 'connection refused',
  ELOOP: 'symbolic link loop',
  ENAMETOOLONG: 'file name too long',
  EHOSTUNREACH: 'host unreachable',
  ENOTEMPTY: 'directory not empty',
  EDQUOT: 'disk quota exceeded',
  EOVERFLOW: 'unknown error',
};

/** Pure: the qmail text for an errno name. */
export function errorStr(code: Errno): string {
  return texts[code];
}
