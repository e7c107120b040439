// The host name in maildir file names: what gethostname() says (Linux: /proc/sys/kernel/hostname,
// read through Sys), else the installation's control/me, else `localhost` (the simulator has
// neither /proc nor, always, control/me).

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { readControlLine } from '../shared/fdio.ts';

export const kernelHostnameFile = '/proc/sys/kernel/hostname';

export async function hostName(sys: Sys, qmailHome: string): Promise<string> {
  for (const path of [kernelHostnameFile, `${qmailHome}/control/me`]) {
    try {
      const line = await readControlLine(sys, path);
      if (line !== null && line !== '') return line;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }
  return 'localhost';
}
