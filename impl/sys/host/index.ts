// hostSys(): the Sys of a real Linux process. impl/sys/host is, with impl/bin, the only code that
// touches node:* or `process`; everything else receives this object.

import type { Sys } from '../types.ts';
import { HostClock } from './clock.ts';
import { FdTable } from './fd-table.ts';
import { HostFs, type HostFsOptions } from './fs.ts';
import { HostLog } from './log.ts';
import { HostNet } from './net.ts';
import { currentUmask, HostProc, hostSelf } from './proc.ts';
import { HostRandom } from './random.ts';
import { HostUsers } from './users.ts';
import { applyV8Flags } from './v8-flags.ts';

export interface HostSys extends Sys {
  log: HostLog;
}

export interface HostSysOptions {
  fs?: HostFsOptions;
  /** 'protocol': this program's fd 2 is a protocol pipe (qmail-send, todo-proc) or a report
   *  channel (qmail-local, qmail-queue's custom errors), so diagnostics go to the fd named by
   *  DIAGFD, or nowhere. Default 'stderr'. */
  diagnostics?: 'stderr' | 'protocol';
  /** libuv threadpool threads (runMain sets it before the pool starts; Node's default is 4). Every
   *  fsync and directory change waits in that pool: a daemon with many messages in flight needs
   *  more than 4 at once for the kernel to commit them together. */
  threadpool?: number;
  /** V8 flags this program sets for itself before its code runs hot (v8-flags.ts). */
  v8Flags?: readonly string[];
}

/** Where structured diagnostics go: fd 2, or for a 'protocol' program the DIAGFD fd (3..255). */
export function diagnosticsFd(opts: HostSysOptions, env: Record<string, string>): number | null {
  if (opts.diagnostics !== 'protocol') return 2;
  const v = env['DIAGFD'];
  return v !== undefined && /^[0-9]{1,3}$/.test(v) && Number(v) >= 3 && Number(v) <= 255 ? Number(v) : null;
}

export async function hostSys(opts: HostSysOptions = {}): Promise<HostSys> {
  if (opts.v8Flags !== undefined) applyV8Flags(opts.v8Flags);
  // One fd table: a pipe from spawn or an accepted socket is the same fd to fs, proc and net.
  const fds = new FdTable();
  const self = await hostSelf();
  const log = new HostLog({ level: self.env['LOGLEVEL'], name: self.argv[0] ?? 'node', fd: diagnosticsFd(opts, self.env) });
  return {
    fs: new HostFs(fds, currentUmask, opts.fs),
    proc: new HostProc(fds, self, () => log.flush()),
    clock: new HostClock(),
    net: new HostNet(fds),
    users: new HostUsers(),
    log,
    random: new HostRandom(),
  };
}
