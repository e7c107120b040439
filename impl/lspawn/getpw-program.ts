// QMAILGETPW: the address -> user lookup as a program, run per delivery as qmail-lspawn.c's
// nughde_get runs bin/qmail-getpw: as qmailp, group nofiles, cwd the qmail home, argv[1] the local
// part in its original case, six NUL-terminated fields on its fd 1.
//   exec failure -> QLX_EXECPW; killed -> QLX_SYS; exit n != 0 -> n (its qlx code passes through);
//   fewer than six fields -> QLX_USAGE.

import type { Child, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { getpwOutputBytesMax, qlx } from '../../spec/users.ts';
import type { GetpwResult } from '../getpw/getpw.ts';
import { userRecordOf } from '../lib/assign.ts';
import type { LspawnConfig } from './config.ts';
import { collect } from './output.ts';

export async function runGetpwProgram(sys: Sys, cfg: LspawnConfig, program: string, local: string): Promise<GetpwResult> {
  let child: Child;
  try {
    child = await sys.proc.spawn(program, ['qmail-getpw', local], {
      env: cfg.deliveryEnv,
      cwd: cfg.home,
      uid: cfg.getpwUid,
      gid: cfg.getpwGid,
      groups: [cfg.getpwGid],
      fds: [null, 'pipe', 2],
    });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('warn', 'lspawn.getpw_exec_failed', { program, code: e.code });
    return { qlx: qlx.execPw };
  }
  const out = await collect(sys, child.fds[1] as number, getpwOutputBytesMax);
  const status = await child.wait();
  if (status.code === null) return { qlx: qlx.sys };
  if (status.code !== 0) return { qlx: status.code };
  if (out.total > getpwOutputBytesMax) return { qlx: qlx.sys };
  const record = userRecordOf(out.kept, true);
  return record === null ? { qlx: qlx.usage } : { record };
}
