// HostUsers: /etc/passwd and /etc/group, read fresh on each call (they change under a running
// daemon when users are added). Malformed lines are skipped, as glibc's files backend does.

import { readFile } from 'node:fs/promises';
import type { Group, Passwd, Users } from '../types.ts';
import { mapped } from './errors.ts';

export interface UserFiles {
  passwd: string;
  group: string;
}

const systemFiles: UserFiles = { passwd: '/etc/passwd', group: '/etc/group' };

function id(field: string | undefined): number | null {
  return field !== undefined && /^\d+$/.test(field) ? Number(field) : null;
}

/** Fields of each useful line: no comments, no NIS '+'/'-' entries, no blanks. */
function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !/^[#+-]/.test(line))
    .map((line) => line.split(':'));
}

/** name:password:uid:gid:gecos:home:shell */
export function parsePasswd(text: string): Passwd[] {
  const out: Passwd[] = [];
  for (const f of records(text)) {
    const uid = id(f[2]);
    const gid = id(f[3]);
    if (f.length !== 7 || f[0] === '' || uid === null || gid === null) continue;
    out.push({ name: f[0]!, uid, gid, gecos: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return out;
}

/** name:password:gid:member,member */
export function parseGroup(text: string): Group[] {
  const out: Group[] = [];
  for (const f of records(text)) {
    const gid = id(f[2]);
    if (f.length !== 4 || f[0] === '' || gid === null) continue;
    out.push({ name: f[0]!, gid, members: f[3] === '' ? [] : f[3]!.split(',') });
  }
  return out;
}

/** initgroups(3): gid first, then every group listing the user as a member, each once. */
export function groupsOfIn(groups: Group[], name: string, gid: number): number[] {
  const out = [gid];
  for (const g of groups) if (g.members.includes(name) && !out.includes(g.gid)) out.push(g.gid);
  return out;
}

export class HostUsers implements Users {
  constructor(private readonly files: UserFiles = systemFiles) {}

  async getpwnam(name: string): Promise<Passwd | null> {
    return (await this.passwd()).find((p) => p.name === name) ?? null;
  }

  async getpwuid(uid: number): Promise<Passwd | null> {
    return (await this.passwd()).find((p) => p.uid === uid) ?? null;
  }

  async getgrnam(name: string): Promise<Group | null> {
    return (await this.group()).find((g) => g.name === name) ?? null;
  }

  async getgrgid(gid: number): Promise<Group | null> {
    return (await this.group()).find((g) => g.gid === gid) ?? null;
  }

  async groupsOf(name: string, gid: number): Promise<number[]> {
    return groupsOfIn(await this.group(), name, gid);
  }

  private async passwd(): Promise<Passwd[]> {
    const path = this.files.passwd;
    return parsePasswd(await mapped('open', path, () => readFile(path, 'utf8')));
  }

  private async group(): Promise<Group[]> {
    const path = this.files.group;
    return parseGroup(await mapped('open', path, () => readFile(path, 'utf8')));
  }
}
