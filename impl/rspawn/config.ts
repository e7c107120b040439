// What qmail-rspawn learns once at start: the installation, queue/mess (its cwd, as spawn.c's), the
// owner every message file must have, and QMAILREMOTE (a program to run per delivery instead of the
// in-process qmail-remote), and the in-process qmail-remote's controls, kept between deliveries.

import type { Sys } from '../sys/types.ts';
import { qmailUsers } from '../../spec/queue.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { RemoteControls } from '../remote/config.ts';

export interface RspawnConfig {
  home: string;
  messDir: string;
  /** lock/tcpto of the queue qmail-remote's connect-timeout table lives in. */
  tcptoPath: string;
  qmailqUid: number;
  /** QMAILREMOTE, set and non-empty: run it per delivery (through PATH when it has no `/`). */
  qmailRemote: string | null;
  env: Record<string, string>;
  /** The in-process qmail-remote's controls (impl/remote/config.ts): re-read when control/ changed. */
  remoteControls: RemoteControls;
}

export async function loadRspawnConfig(sys: Sys): Promise<RspawnConfig | { error: string }> {
  let home: string;
  try {
    home = qmailHome(sys);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  const layout = await queueLayout(sys, home);
  if ('error' in layout) return { error: `${layout.error}: ${layout.detail}` };
  const qmailq = await sys.users.getpwnam(qmailUsers.queue);
  if (qmailq === null) return { error: `no user ${qmailUsers.queue}` };
  const env = sys.proc.self.env;
  const qmailRemote = env['QMAILREMOTE'] === undefined || env['QMAILREMOTE'] === '' ? null : env['QMAILREMOTE'];
  const tcptoPath = `${layout.dir}/lock/tcpto`;
  return { home, messDir: `${layout.dir}/mess`, tcptoPath, qmailqUid: qmailq.uid, qmailRemote, env: { ...env }, remoteControls: new RemoteControls(home, tcptoPath) };
}
