// Which user a recipient's local part belongs to (../shared/spec/local.md 1.2-1.5, the seed's
// qmail-lspawn(8)): an empty local part is a trash address; then users/cdb; then qmail-getpw's rules,
// in process (impl/getpw/getpw.ts) unless QMAILGETPW names a program to run. Then the credentials
// the delivery runs with: uid and gid from the record (never 0 for the uid), and the user's
// supplementary groups only for a getpw-resolved user under SETUSER_PRIVILEGES.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { UserRecord } from '../local/types.ts';
import { qlx } from '../../spec/users.ts';
import { authselfDeferReport } from '../../spec/spawn.ts';
import { usersCdbLookup, type UsersCdbCache } from '../shared/users-cdb.ts';
import { getpw } from '../getpw/getpw.ts';
import type { LspawnConfig } from './config.ts';
import { runGetpwProgram } from './getpw-program.ts';

export interface ResolvedUser {
  record: UserRecord;
  uid: number;
  gid: number;
  groups: number[];
}

export type Resolution = { trash: true } | { report: string } | { qlx: number } | { user: ResolvedUser };

/** Largest uid/gid setuid(2) takes: (uid_t)-1 means "unchanged", so one below. */
const idMax = 0xffff_fffe;

export async function resolveLocal(sys: Sys, cfg: LspawnConfig, cache: UsersCdbCache, local: string): Promise<Resolution> {
  if (local === '') {
    // <>: trash, unless AUTHSELF with ROUTE_NULL_USER asks for a virtual-domain routing we lack.
    return cfg.authself && cfg.routeNullUser !== null ? { report: authselfDeferReport } : { trash: true };
  }
  // AUTHSELF: indimail asks its database whether the domain is virtual before anything else.
  if (cfg.authself) return { report: authselfDeferReport };
  const cdb = await usersCdbLookup(sys, cfg.home, local, cache);
  if ('qlx' in cdb) return { qlx: cdb.qlx };
  if ('record' in cdb) return credentials(sys, cfg, cdb.record, false);
  const pw = cfg.qmailGetpw === null ? await getpw(sys, local) : await runGetpwProgram(sys, cfg, cfg.qmailGetpw, local);
  if ('qlx' in pw) return { qlx: pw.qlx };
  return credentials(sys, cfg, pw.record, true);
}

async function credentials(sys: Sys, cfg: LspawnConfig, record: UserRecord, viaGetpw: boolean): Promise<Resolution> {
  const uid = scanUlong(record.uid);
  const gid = scanUlong(record.gid);
  // prot_gid/prot_uid failing is QLX_USAGE in qmail-lspawn.c.
  if (uid > idMax || gid > idMax) return { qlx: qlx.usage };
  if (uid === 0) return { qlx: qlx.root };
  let groups = [gid];
  if (viaGetpw && cfg.setuserPrivileges) {
    try {
      groups = await sys.users.groupsOf(record.user, gid);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      sys.log.event('warn', 'lspawn.groups_failed', { user: record.user, code: e.code });
      return { qlx: qlx.sys };
    }
  }
  return { user: { record, uid, gid, groups } };
}

/** qmail's scan_ulong: the leading decimal digits (none: 0). */
export function scanUlong(s: string): number {
  const m = /^[0-9]*/.exec(s);
  const digits = m === null ? '' : m[0];
  if (digits === '') return 0;
  // Anything longer than 15 digits is past every id; keep the number safe.
  return digits.length > 15 ? Number.MAX_SAFE_INTEGER : Number(digits);
}
