// qmail-rspawn: schedule remote deliveries.
//
// Usage:   qmail-rspawn
// Runs as: qmailr, group qmail (started by qmail-start): it reads queue/mess files (0644 qmailq in
//          0750 qmailq:qmail directories) through group qmail.
// Input:   fd 0, the spawn protocol from qmail-send: slot byte, messid\0, sender\0, recipient\0
//          (spec/spawn.ts, ../shared/spec/queue.md 4.1); queue/mess/<messid>; qmail-remote's controls.
// Output:  fd 1: first one byte, the concurrency (spawnConcurrency); then per delivery, in any order:
//          slot byte, report (K/Z/D + text, spec/remote.ts rspawnReport), NUL.
// Environment: QMAILHOME, QUEUEDIR; QMAILREMOTE: run that program per delivery (notqmail's
//          qmail-remote works under it); unset, qmail-remote runs in this process, one call per
//          delivery, with the message read by position from the queue file; its controls are kept
//          between deliveries and read again whenever control/ or a control file changed (a stat of
//          each per delivery: impl/remote/config.ts RemoteControls), so a change shows at the next one.
// Signals: SIGTERM: read no more commands, finish and report the deliveries in flight, exit 0.
// Exit:    0 after EOF on fd 0 once every delivery is reported; 111 when the installation or the
//          queue cannot be found at start.
// Crash safety: no state. A report is sent only when qmail-remote has its answer; a delivery cut off
//          by a crash is reported by nobody, so qmail-send retries it (a duplicate is possible when
//          the remote end had already accepted it, as with qmail).

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { loadRspawnConfig } from './config.ts';
import { runSpawner } from './spawner.ts';

export const rspawnExit = { ok: 0, temp: 111 } as const;

export async function main(sys: Sys): Promise<number> {
  const cfg = await loadRspawnConfig(sys);
  if ('error' in cfg) {
    sys.log.event('error', 'rspawn.config', { error: cfg.error });
    return rspawnExit.temp;
  }
  try {
    await sys.proc.chdir(cfg.messDir);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('error', 'rspawn.chdir', { dir: cfg.messDir, code: e.code });
    return rspawnExit.temp;
  }
  return runSpawner(sys, cfg);
}
