// One delivery by one qmail-local process, exactly as qmail-lspawn.c's spawn() runs it: for
// QMAILLOCAL (any qmail-local, notqmail's C one included) and for messages too big for a worker.
//   argv   bin/qmail-local -- user homedir local dash ext domain sender defaultdelivery
//   fds    0 = the message file (opened by lspawn as root), 1 and 2 = one pipe back to lspawn
//   cwd    the qmail home; credentials: the user's uid, gid and groups
// The exit status and the output become the report (spec/spawn.ts localReport).

import type { Child, Fd, Sys } from '../sys/types.ts';
import { SysError, type Errno } from '../sys/errors.ts';
import type { LocalArgs } from '../local/types.ts';
import { localArgv0, truncReportBytes, type LocalEnd } from '../../spec/spawn.ts';
import { qlx } from '../../spec/users.ts';
import { errorTemp } from '../lib/error-temp.ts';
import { collect } from './output.ts';
import type { ResolvedUser } from './resolve.ts';

export interface LocalRun {
  end: LocalEnd;
  output: Uint8Array;
}

export function localArgv(a: Omit<LocalArgs, 'dryRun'>): string[] {
  return [localArgv0, '--', a.user, a.homedir, a.local, a.dash, a.ext, a.domain, a.sender, a.defaultDelivery];
}

/** Runs program for one delivery; messFd stays the caller's (it closes it). */
export async function runLocalProcess(
  sys: Sys,
  program: string,
  cwd: string,
  user: ResolvedUser,
  args: Omit<LocalArgs, 'dryRun'>,
  env: Record<string, string>,
  messFd: Fd,
): Promise<LocalRun> {
  let child: Child;
  try {
    child = await sys.proc.spawn(program, localArgv(args), {
      env,
      cwd,
      uid: user.uid,
      gid: user.gid,
      groups: user.groups,
      fds: [messFd, 'pipe', { sameAs: 1 }],
    });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('warn', 'lspawn.local_exec_failed', { program, code: e.code });
    return { end: { code: execFailure(e.code) }, output: new Uint8Array(0) };
  }
  const out = await collect(sys, child.fds[1] as Fd, truncReportBytes + 1);
  const status = await child.wait();
  return { end: status.code === null ? { crashed: true } : { code: status.code }, output: out.kept };
}

/** What qmail's child exits with when setting credentials or exec fails (qmail-lspawn.c). */
export function execFailure(code: Errno): number {
  if (code === 'EINVAL' || code === 'EPERM') return qlx.usage;
  return errorTemp(code) ? qlx.execSoft : qlx.execHard;
}
