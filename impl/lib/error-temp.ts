// qmail's error_temp(): whether an errno is a temporary condition (retry later) rather than a
// permanent one. notqmail error_temp.c; errnos it lists that Sys does not model (ENFILE, ESTALE,
// ENOLCK, ENOBUFS, ...) cannot reach us.

import type { Errno } from '../sys/errors.ts';

const temporary: ReadonlySet<Errno> = new Set<Errno>([
  'EINTR', 'ENOMEM', 'ETXTBSY', 'EIO', 'ETIMEDOUT', 'EAGAIN', 'EBUSY', 'EMFILE', 'EFBIG', 'ENOSPC',
  'ENETUNREACH', 'ECONNRESET', 'ECONNREFUSED', 'EHOSTUNREACH', 'EDQUOT',
]);

export function errorTemp(code: Errno): boolean {
  return temporary.has(code);
}
