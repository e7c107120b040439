// The uids, gids and groups of the daemons (spec/start.ts daemonCreds, the seed's table), looked up
// once at start. USE_SETGROUPS: unset, no daemon gets supplementary groups (exactly [gid], qmail's
// prot_gid); `1...` (indimail tests the first character only): every daemon of the table that may
// have them; `qmailr:qmaill`: the daemons running as a listed user. Their groups are the daemon's
// gid first, then every group listing the user (initgroups), each once.
//
// Ours: the logger keeps nofiles first (indimail puts qmail first and nofiles last, which would let
// a logger that "should not have access to any files" into the queue's group).

import type { Sys } from '../sys/types.ts';
import { daemonCreds, type DaemonRole } from '../../spec/start.ts';

export interface Creds {
  /** undefined: unchanged (root, for qmail-lspawn). */
  uid?: number;
  gid: number;
  groups: number[];
}

export interface Ids {
  uids: ReadonlyMap<string, number>;
  gids: ReadonlyMap<string, number>;
}

/** Every user and group the roles name; the first one missing is named in the error. */
export async function lookupIds(sys: Sys, roles: readonly DaemonRole[]): Promise<Ids | { missing: string }> {
  const uids = new Map<string, number>();
  const gids = new Map<string, number>();
  for (const role of roles) {
    const c = daemonCreds[role];
    if (c.user !== null && !uids.has(c.user)) {
      const pw = await sys.users.getpwnam(c.user);
      if (pw === null) return { missing: `user ${c.user}` };
      uids.set(c.user, pw.uid);
    }
    if (!gids.has(c.group)) {
      const gr = await sys.users.getgrnam(c.group);
      if (gr === null) return { missing: `group ${c.group}` };
      gids.set(c.group, gr.gid);
    }
  }
  return { uids, gids };
}

/** Does USE_SETGROUPS ask for user's supplementary groups? (indimail's check_user). Pure. */
export function setgroupsFor(useSetgroups: string | undefined, user: string): boolean {
  if (useSetgroups === undefined) return false;
  if (useSetgroups.startsWith('1')) return true;
  return useSetgroups.split(':').includes(user);
}

export interface DaemonCredsResult {
  creds: Creds;
  /** indimail's warning when USE_SETGROUPS names a user without supplementary groups. */
  warning: string | null;
}

export async function credsOf(sys: Sys, ids: Ids, role: DaemonRole, useSetgroups: string | undefined): Promise<DaemonCredsResult> {
  const c = daemonCreds[role];
  const gid = ids.gids.get(c.group) as number;
  const uid = c.user === null ? undefined : (ids.uids.get(c.user) as number);
  const base = uid === undefined ? { gid, groups: [gid] } : { uid, gid, groups: [gid] };
  if (c.setgroupsUser === null || !setgroupsFor(useSetgroups, c.setgroupsUser)) return { creds: base, warning: null };
  const groups = [gid, ...(await sys.users.groupsOf(c.setgroupsUser, gid)).filter((g) => g !== gid)];
  const warning = groups.length > 1 ? null : `no supplementary groups defined for ${c.setgroupsUser}`;
  return { creds: { ...base, groups }, warning };
}
