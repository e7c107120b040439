// qmail-getpw's rules, as a library: which local user controls an address's local part
// (../shared/spec/local.md 1.4; notqmail qmail-getpw.c). qmail-lspawn calls this in process for
// the addresses users/cdb does not assign; the qmail-getpw program prints its result.
//
// For each break char '-' in local, from the end backwards (the end of local counting as one),
// the text before it, if shorter than 32 bytes, lowercased (ASCII), names a candidate account: the
// first one with uid != 0 whose home exists and is owned by that uid wins. So the longest user
// prefix wins, and accounts with uppercase letters never match. No candidate: the catch-all user
// `alias` with dash '-' and ext = the whole local (no checks on alias).
//
// Failures: stat(home) with a temporary errno (impl/lib/error-temp.ts) -> QLX_NFS; any other stat
// failure just rejects the candidate. getpwnam failing (the passwd file unreadable) -> QLX_SYS:
// qmail does this only for ETXTBSY and otherwise treats the error as "no such user", which
// would send a user's mail to alias; we defer instead. No alias user -> QLX_NOALIAS.
//
// Credentials matter: qmail runs qmail-getpw as qmailp, so a home below a directory qmailp cannot
// search fails stat() with EACCES and the candidate is rejected. A caller running this in process
// as root (qmail-lspawn) sees such homes; run it as qmailp (the program) for qmail's answer there.

import type { Passwd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { UserRecord } from '../local/types.ts';
import { aliasUser, autoBreak, getpwUserBytes, qlx } from '../../spec/users.ts';
import { lowerAscii } from '../lib/assign.ts';
import { errorTemp } from '../lib/error-temp.ts';

export type GetpwResult = { record: UserRecord } | { qlx: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const breakByte = autoBreak.charCodeAt(0);

/** The user record for local (an address's local part, original case, no NUL). */
export async function getpw(sys: Sys, local: string): Promise<GetpwResult> {
  const bytes = encoder.encode(local);
  if (bytes.includes(0)) throw new Error('getpw: local part contains NUL');
  for (let p = bytes.length; p >= 0; p--) {
    if (p >= getpwUserBytes || (p !== bytes.length && bytes[p] !== breakByte)) continue;
    const name = decoder.decode(lowerAscii(bytes.subarray(0, p)));
    const pw = await getpwnam(sys, name);
    if (typeof pw === 'number') return { qlx: pw };
    if (pw === null || pw.uid === 0) continue;
    const owned = await homeOwned(sys, pw);
    if (typeof owned === 'number') return { qlx: owned };
    if (!owned) continue;
    const atEnd = p === bytes.length;
    return { record: recordOf(pw, atEnd ? '' : '-', atEnd ? '' : decoder.decode(bytes.subarray(p + 1))) };
  }
  const alias = await getpwnam(sys, aliasUser);
  if (typeof alias === 'number') return { qlx: alias };
  if (alias === null) return { qlx: qlx.noAlias };
  return { record: recordOf(alias, '-', local) };
}

function recordOf(pw: Passwd, dash: string, ext: string): UserRecord {
  return { user: pw.name, uid: String(pw.uid), gid: String(pw.gid), homedir: pw.home, dash, ext };
}

/** getpwnam, or the qlx code for a failed lookup. */
async function getpwnam(sys: Sys, name: string): Promise<Passwd | null | number> {
  try {
    return await sys.users.getpwnam(name);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('warn', 'getpw.getpwnam_failed', { name, code: e.code });
    return qlx.sys;
  }
}

/** Whether pw's home exists and belongs to pw's uid; QLX_NFS for a temporary stat failure. */
async function homeOwned(sys: Sys, pw: Passwd): Promise<boolean | number> {
  try {
    return (await sys.fs.stat(pw.home)).uid === pw.uid;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    if (!errorTemp(e.code)) return false;
    sys.log.event('warn', 'getpw.home_stat_temporary', { user: pw.name, home: pw.home, code: e.code });
    return qlx.nfs;
  }
}
