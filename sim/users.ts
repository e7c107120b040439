// The world's passwd and group tables (the sim's /etc/passwd and /etc/group). Synchronous: the
// per-process Sys wraps each lookup in a syscall event.

import type { Group, Passwd } from '../impl/sys/types.ts';
import { assert } from './assert.ts';

export interface UserSpec {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell?: string;
  gecos?: string;
}

export class SimUsers {
  private readonly byName = new Map<string, Passwd>();
  private readonly byUid = new Map<number, Passwd>();
  private readonly groupsByName = new Map<string, Group>();
  private readonly groupsByGid = new Map<number, Group>();

  addUser(u: UserSpec): Passwd {
    assert(!this.byName.has(u.name), `user ${u.name} is new`);
    assert(Number.isInteger(u.uid) && u.uid >= 0 && Number.isInteger(u.gid) && u.gid >= 0, 'uid/gid');
    const pw: Passwd = { name: u.name, uid: u.uid, gid: u.gid, gecos: u.gecos ?? '', home: u.home, shell: u.shell ?? '/bin/sh' };
    this.byName.set(u.name, pw);
    // Like getpwuid on a passwd file with duplicate uids: the first entry wins.
    if (!this.byUid.has(u.uid)) this.byUid.set(u.uid, pw);
    return pw;
  }

  addGroup(name: string, gid: number, members: string[] = []): Group {
    assert(!this.groupsByName.has(name), `group ${name} is new`);
    const g: Group = { name, gid, members: [...members] };
    this.groupsByName.set(name, g);
    if (!this.groupsByGid.has(gid)) this.groupsByGid.set(gid, g);
    return g;
  }

  /** Adds a user to a group's member list (supplementary groups). */
  addMember(group: string, user: string): void {
    const g = this.groupsByName.get(group);
    assert(g !== undefined, `group ${group} exists`);
    if (!g.members.includes(user)) g.members.push(user);
  }

  getpwnam(name: string): Passwd | null {
    return copy(this.byName.get(name));
  }

  getpwuid(uid: number): Passwd | null {
    return copy(this.byUid.get(uid));
  }

  getgrnam(name: string): Group | null {
    const g = this.groupsByName.get(name);
    return g === undefined ? null : { ...g, members: [...g.members] };
  }

  getgrgid(gid: number): Group | null {
    const g = this.groupsByGid.get(gid);
    return g === undefined ? null : { ...g, members: [...g.members] };
  }

  /** initgroups: gid first, then every group listing the user, in table order, without repeats. */
  groupsOf(name: string, gid: number): number[] {
    const out = [gid];
    for (const g of this.groupsByName.values()) {
      if (g.members.includes(name) && !out.includes(g.gid)) out.push(g.gid);
    }
    return out;
  }
}

function copy(pw: Passwd | undefined): Passwd | null {
  return pw === undefined ? null : { ...pw };
}
