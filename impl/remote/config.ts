// qmail-remote's controls (qmail-remote.c getcontrols), read at every run as qmail does:
// timeoutremote, timeoutconnect, helohost (default control/me; neither → the controls report),
// smtproutes. Any read error but "missing" is the controls report too.

import type { Stat, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { remoteReports, timeoutConnectSec, timeoutRemoteSec } from '../../spec/remote.ts';
import { Controls } from '../shared/controls.ts';
import { parseRoutes } from './smtproutes.ts';

export interface RemoteConfig {
  helohost: string;
  timeoutConnectMs: number;
  timeoutRemoteMs: number;
  routes: ReadonlyMap<string, string>;
  /** queue/lock/tcpto (impl/remote/tcpto.ts); null: no table (every address is tried). */
  tcptoPath: string | null;
}

/** tcptoPath: qmail's is queue/lock/tcpto below the home; qmail-rspawn passes its queue's. */
export async function loadRemoteConfig(sys: Sys, home: string, tcptoPath: string | null = `${home}/queue/lock/tcpto`): Promise<RemoteConfig | { report: string }> {
  const c = new Controls(sys, home);
  try {
    const timeoutRemote = await c.readint('timeoutremote', timeoutRemoteSec);
    const timeoutConnect = await c.readint('timeoutconnect', timeoutConnectSec);
    const helohost = (await c.readline('helohost')) ?? (await c.me());
    if (helohost === null) return { report: remoteReports.controls };
    const routes = parseRoutes((await c.readfile('smtproutes', false)) ?? []);
    return { helohost, timeoutConnectMs: timeoutConnect * 1000, timeoutRemoteMs: timeoutRemote * 1000, routes, tcptoPath };
  } catch (e) {
    if (e instanceof SysError) return { report: remoteReports.controls };
    throw e;
  }
}

/** The control files loadRemoteConfig reads. */
export const remoteControlNames = ['timeoutremote', 'timeoutconnect', 'helohost', 'me', 'smtproutes'] as const;

/** What a cached load is checked against: control/ itself and each control file. */
interface Seen {
  dir: Stat;
  /** Per name in remoteControlNames: the file's stat, or null when it was missing. */
  files: (Stat | null)[];
}

interface Cached {
  seen: Seen;
  cfg: RemoteConfig;
}

/** A change within this long before a stat may not show in mtime and ctime yet (coarse timestamps on
 *  some file systems; a rewrite in the same tick with the same size): such a load is not reused. */
const settledMs = 2000;

/**
 * qmail-rspawn's qmail-remote calls run in one process, so it keeps the controls between deliveries
 * instead of reading five files each time; each delivery still sees a change made before it starts,
 * as a fresh qmail-remote would. Every load stats control/ (a file created, removed or renamed there
 * changes its mtime) and each control file that existed (a rewrite in place changes its mtime,
 * ctime or size); only when all match, and none changed just before they were taken, is the last
 * load reused. The stats are taken before the files are read, so a change racing a read shows as a
 * mismatch next time. Any stat error but ENOENT on a file: the controls are read as qmail-remote does.
 */
export class RemoteControls {
  private cached: Cached | null = null;

  constructor(
    private readonly home: string,
    private readonly tcptoPath: string | null,
  ) {}

  async load(sys: Sys): Promise<RemoteConfig | { report: string }> {
    const c = this.cached;
    const t0 = sys.clock.nowMs();
    const dir = await statOrNull(sys, `${this.home}/control`);
    if (c !== null && dir !== null && sameStat(dir, c.seen.dir) && (await this.filesUnchanged(sys, c.seen.files))) return c.cfg;
    const seen = dir === null ? null : await this.statFiles(sys, dir);
    const cfg = await loadRemoteConfig(sys, this.home, this.tcptoPath);
    // A report (no helohost, or a read error such as EIO) is not kept: the next delivery reads again.
    this.cached = seen !== null && !('report' in cfg) && settled(t0, seen) ? { seen, cfg } : null;
    return cfg;
  }

  private async filesUnchanged(sys: Sys, files: readonly (Stat | null)[]): Promise<boolean> {
    for (let i = 0; i < remoteControlNames.length; i++) {
      const was = files[i];
      // A missing file appearing changes control/'s mtime, checked already.
      if (was === null || was === undefined) continue;
      const now = await statOrNull(sys, this.path(i));
      if (now === null || !sameStat(now, was)) return false;
    }
    return true;
  }

  private async statFiles(sys: Sys, dir: Stat): Promise<Seen | null> {
    const files: (Stat | null)[] = [];
    for (let i = 0; i < remoteControlNames.length; i++) {
      try {
        files.push(await sys.fs.stat(this.path(i)));
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        if (e.code !== 'ENOENT') return null;
        files.push(null);
      }
    }
    return { dir, files };
  }

  private path(i: number): string {
    return `${this.home}/control/${remoteControlNames[i] as string}`;
  }
}

async function statOrNull(sys: Sys, path: string): Promise<Stat | null> {
  try {
    return await sys.fs.stat(path);
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
}

function sameStat(a: Stat, b: Stat): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.mode === b.mode;
}

/** Every change at least settledMs before t0, taken before the stats (a clock set back since the
 *  change counts as not settled). */
function settled(t0: number, seen: Seen): boolean {
  const ok = (s: Stat | null): boolean => s === null || (t0 - s.mtimeMs >= settledMs && t0 - s.ctimeMs >= settledMs);
  return ok(seen.dir) && seen.files.every(ok);
}
