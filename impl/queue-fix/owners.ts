// Who should own what: qmail's users (qmailq, qmails, qmailr, ...) and group qmail, looked up by
// name, or "self" (-u): every owner is the invoking user, for queues made by a non-root user for
// simulation and tests. A missing user is a temporary error (the admin has not created it yet).

import type { Sys } from '../sys/types.ts';
import { qmailGroups, type QmailUser } from '../../spec/queue.ts';

export interface Ident {
  uid: number;
  /** null: any group (message files keep the group their writer gave them). */
  gid: number | null;
  /** How the owner is shown: "qmailq:qmail", or numeric ids in self mode. */
  label: string;
}

export interface Owners {
  /** The owner of a queue object: the user, group qmail. */
  of(user: QmailUser): Ident;
  /** Whether this process may chown to `want` (root may; anyone may give a file to themselves
   *  and one of their groups). */
  canChown(want: Ident): boolean;
}

export type OwnersError = { missing: string };

export async function ownersByName(sys: Sys, users: readonly QmailUser[]): Promise<Owners | OwnersError> {
  const group = await sys.users.getgrnam(qmailGroups.qmail);
  if (group === null) return { missing: `group ${qmailGroups.qmail}` };
  const uids = new Map<QmailUser, number>();
  for (const name of users) {
    const pw = await sys.users.getpwnam(name);
    if (pw === null) return { missing: `user ${name}` };
    uids.set(name, pw.uid);
  }
  return {
    of(user) {
      const uid = uids.get(user);
      if (uid === undefined) throw new Error(`owners: ${user} was not looked up`);
      return { uid, gid: group.gid, label: `${user}:${group.name}` };
    },
    canChown: (want) => mayChown(sys, want),
  };
}

/** -u: the effective uid and gid of this process own everything. */
export function ownersSelf(sys: Sys): Owners {
  const { euid, egid } = sys.proc.self;
  return {
    of: () => ({ uid: euid, gid: egid, label: `${euid}:${egid}` }),
    canChown: (want) => mayChown(sys, want),
  };
}

function mayChown(sys: Sys, want: Ident): boolean {
  const self = sys.proc.self;
  if (self.euid === 0) return true;
  if (want.uid !== self.euid) return false;
  return want.gid === null || want.gid === self.egid || self.groups.includes(want.gid);
}

/** The same owner with any group: how message files are checked. */
export function anyGroup(id: Ident): Ident {
  const user = id.label.split(':')[0] ?? id.label;
  return { uid: id.uid, gid: null, label: user };
}
