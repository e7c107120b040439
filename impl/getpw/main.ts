// qmail-getpw: give addresses to users (notqmail qmail-getpw.8; rules in ./getpw.ts).
//
// Usage:   qmail-getpw local
// Runs as: qmailp, group nofiles (qmail-lspawn's child starts it when users/cdb has no match and
//          QMAILGETPW or an external lookup is wanted; lspawn itself calls getpw() in process).
// Input:   the passwd database (sys.users) and stat() of candidate home directories.
// Output:  on success, six NUL-terminated fields on fd 1: user, uid, gid, homedir, dash, ext.
//          On trouble nothing at all.
// Exit:    0 found (possibly the catch-all alias); 100 no argument; 115 QLX_NFS, 116 QLX_NOALIAS,
//          118 QLX_SYS (spec/users.ts qlx).
// Crash safety: reads only.

import type { Sys } from '../sys/types.ts';
import { qlx } from '../../spec/users.ts';
import { userRecordBytes } from '../lib/assign.ts';
import { writeAll } from '../shared/fdio.ts';
import { getpw } from './getpw.ts';

export async function main(sys: Sys): Promise<number> {
  const local = sys.proc.self.argv[1];
  if (local === undefined) return qlx.usageGetpw;
  const r = await getpw(sys, local);
  if ('qlx' in r) return r.qlx;
  await writeAll(sys, 1, userRecordBytes(r.record));
  return qlx.ok;
}
