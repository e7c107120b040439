// --create-users: qmail's groups and users (notqmail INSTALL.ids), made with groupadd and useradd
// when they do not exist yet. Users get no home directory of their own (useradd -M) and a shell
// that refuses logins.

import type { Sys } from '../sys/types.ts';
import { isSysError } from '../sys/errors.ts';
import type { Report } from '../queue-fix/report.ts';
import { qmailGroups, qmailUsers } from '../../spec/queue.ts';
import { describeStatus, findProgram, runCommand } from './commands.ts';
import { temporary } from './failure.ts';

interface UserSpec {
  name: string;
  group: string;
  home: string;
}

function userSpecs(home: string): UserSpec[] {
  const { nofiles, qmail } = qmailGroups;
  return [
    { name: qmailUsers.alias, group: nofiles, home: `${home}/alias` },
    { name: qmailUsers.daemon, group: nofiles, home },
    { name: qmailUsers.log, group: nofiles, home },
    { name: qmailUsers.passwd, group: nofiles, home },
    { name: qmailUsers.queue, group: qmail, home },
    { name: qmailUsers.remote, group: qmail, home },
    { name: qmailUsers.send, group: qmail, home },
  ];
}

export async function createUsers(sys: Sys, home: string, report: Report): Promise<void> {
  for (const group of [qmailGroups.qmail, qmailGroups.nofiles]) {
    if ((await sys.users.getgrnam(group)) !== null) continue;
    await run(sys, 'groupadd', ['-r', group]);
    await report.line('fixed', `groupadd -r ${group}`);
  }
  const shell = await noLoginShell(sys);
  for (const u of userSpecs(home)) {
    if ((await sys.users.getpwnam(u.name)) !== null) continue;
    const args = ['-r', '-M', '-g', u.group, '-d', u.home, '-s', shell, u.name];
    await run(sys, 'useradd', args);
    await report.line('fixed', `useradd ${args.join(' ')}`);
  }
  // HostUsers reads /etc/passwd and /etc/group on every call, so the new entries are seen now.
  for (const u of userSpecs(home)) {
    if ((await sys.users.getpwnam(u.name)) === null) throw temporary(`user ${u.name} still unknown after useradd`);
  }
}

async function run(sys: Sys, program: string, args: string[]): Promise<void> {
  const path = await findProgram(sys, program);
  if (path === null) throw temporary(`cannot find ${program}: install it, or create qmail's users by hand (INSTALL.ids)`);
  const status = await runCommand(sys, path, [program, ...args]);
  if (status.code !== 0) throw temporary(`${program} ${args.join(' ')} failed (${describeStatus(status)})`);
}

async function noLoginShell(sys: Sys): Promise<string> {
  for (const shell of ['/usr/sbin/nologin', '/sbin/nologin', '/bin/false']) {
    try {
      if ((await sys.fs.stat(shell)).kind === 'file') return shell;
    } catch (e) {
      if (!isSysError(e)) throw e; // not this one
    }
  }
  return '/bin/false';
}
