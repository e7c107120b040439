// HostUsers on fixture files: passwd/group parsing as glibc's files backend reads them.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostUsers, parseGroup, parsePasswd } from '../../impl/sys/host/users.ts';

const dir = mkdtempSync(join(tmpdir(), 'host-users-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const passwd = [
  '# a comment',
  'root:x:0:0:root:/root:/bin/bash',
  'qmaild:x:998:999::/var/qmail:/usr/sbin/nologin',
  'alias:x:997:999:Alias user:/var/qmail/alias:/usr/sbin/nologin',
  '',
  'broken:x:notanumber:1::/:/bin/sh',
  'short:x:5:5',
  '+nisuser::::::',
  'joe:x:1000:1000:Joe,,,:/home/joe:/bin/sh',
].join('\n');

const group = [
  'root:x:0:',
  'nofiles:x:999:',
  'users:x:100:joe,alias',
  'joe:x:1000:',
  'mail:x:8:joe',
  'dup:x:1000:joe',
  'bad:x:zz:joe',
].join('\n');

const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
writeFileSync(files.passwd, passwd);
writeFileSync(files.group, group);
const users = new HostUsers(files);

describe('parsers', () => {
  it('skip comments, blanks, NIS entries and malformed lines', () => {
    expect(parsePasswd(passwd).map((p) => p.name)).toEqual(['root', 'qmaild', 'alias', 'joe']);
    expect(parseGroup(group).map((g) => g.name)).toEqual(['root', 'nofiles', 'users', 'joe', 'mail', 'dup']);
  });

  it('keep every field', () => {
    expect(parsePasswd(passwd)[3]).toEqual({ name: 'joe', uid: 1000, gid: 1000, gecos: 'Joe,,,', home: '/home/joe', shell: '/bin/sh' });
    expect(parseGroup(group)[2]).toEqual({ name: 'users', gid: 100, members: ['joe', 'alias'] });
    expect(parseGroup(group)[1]?.members).toEqual([]);
  });
});

describe('HostUsers', () => {
  it('looks users up by name and uid', async () => {
    expect((await users.getpwnam('alias'))?.home).toBe('/var/qmail/alias');
    expect((await users.getpwuid(998))?.name).toBe('qmaild');
    expect(await users.getpwnam('nobody-here')).toBeNull();
    expect(await users.getpwuid(4242)).toBeNull();
  });

  it('looks groups up by name and gid', async () => {
    expect((await users.getgrnam('nofiles'))?.gid).toBe(999);
    expect((await users.getgrgid(8))?.name).toBe('mail');
    expect(await users.getgrnam('none')).toBeNull();
  });

  it('groupsOf is initgroups: the gid first, then memberships, each once', async () => {
    expect(await users.groupsOf('joe', 1000)).toEqual([1000, 100, 8]);
    expect(await users.groupsOf('alias', 999)).toEqual([999, 100]);
    expect(await users.groupsOf('qmaild', 999)).toEqual([999]);
  });

  it('a missing file is a SysError, not an empty database', async () => {
    const none = new HostUsers({ passwd: join(dir, 'nope'), group: join(dir, 'nope') });
    await expect(none.getpwnam('root')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads the real /etc files by default', async () => {
    expect((await new HostUsers().getpwuid(0))?.name).toBe('root');
  });
});
