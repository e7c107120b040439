// qmail-remote's controls (qmail-remote.c getcontrols), read at every run as qmail does:
// timeoutremote, timeoutconnect, helohost (default control/me; neither → the controls report),
// smtproutes. Any read error but "missing" is the controls report too.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { remoteReports, timeoutConnectSec, timeoutRemoteSec } from '../../spec/remote.ts';
import { Controls } from '../shared/controls.ts';
import { controlSnapshotHolds, takeControlSnapshot, type ControlSnapshot } from '../shared/control-snapshot.ts';
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

/**
 * qmail-rspawn's qmail-remote calls run in one process, so it keeps the controls between deliveries
 * instead of reading five files each time; each delivery still sees a change made before it starts,
 * as a fresh qmail-remote would (impl/shared/control-snapshot.ts). A load that gave the controls
 * report (no helohost, a read error) is not kept.
 */
export class RemoteControls {
  private cached: { snap: ControlSnapshot; cfg: RemoteConfig } | null = null;

  constructor(
    private readonly home: string,
    private readonly tcptoPath: string | null,
  ) {}

  async load(sys: Sys): Promise<RemoteConfig | { report: string }> {
    const dir = `${this.home}/control`;
    const c = this.cached;
    if (c !== null && (await controlSnapshotHolds(sys, dir, c.snap))) return c.cfg;
    const startMs = sys.clock.nowMs();
    const snap = await takeControlSnapshot(sys, dir, remoteControlNames, startMs).catch((e: unknown) => {
      if (e instanceof SysError) return null; // the reads below report it as qmail-remote would
      throw e;
    });
    const cfg = await loadRemoteConfig(sys, this.home, this.tcptoPath);
    this.cached = snap !== null && !('report' in cfg) ? { snap, cfg } : null;
    return cfg;
  }
}
