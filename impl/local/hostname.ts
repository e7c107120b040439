// The host name in maildir file names: what gethostname() says (Linux: /proc/sys/kernel/hostname,
// read through Sys), else the installation's control/me, else `localhost` (the simulator has
// neither /proc nor, always, control/me). Remembered per Sys for a second (hostNameCacheMs).

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { readControlLine } from '../shared/fdio.ts';

export const kernelHostnameFile = '/proc/sys/kernel/hostname';

/** A delivery worker makes many deliveries a second: the name is looked up again once it is this
 *  old, so a changed host name shows within this time, as it would in qmail's next delivery. */
export const hostNameCacheMs = 1000;

const cache = new WeakMap<Sys, { home: string; atMs: number; name: string }>();

export async function hostName(sys: Sys, qmailHome: string): Promise<string> {
  const nowMs = sys.clock.nowMs();
  const hit = cache.get(sys);
  if (hit !== undefined && hit.home === qmailHome && nowMs >= hit.atMs && nowMs - hit.atMs < hostNameCacheMs) return hit.name;
  const name = await lookUp(sys, qmailHome);
  cache.set(sys, { home: qmailHome, atMs: nowMs, name });
  return name;
}

async function lookUp(sys: Sys, qmailHome: string): Promise<string> {
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
