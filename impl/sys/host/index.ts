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

export interface HostSys extends Sys {
  log: HostLog;
}

export interface HostSysOptions {
  fs?: HostFsOptions;
}

export async function hostSys(opts: HostSysOptions = {}): Promise<HostSys> {
  // One fd table: a pipe from spawn or an accepted socket is the same fd to fs, proc and net.
  const fds = new FdTable();
  const self = await hostSelf();
  const log = new HostLog({ level: self.env['LOGLEVEL'], name: self.argv[0] ?? 'node' });
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
