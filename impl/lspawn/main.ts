// qmail-lspawn: schedule local deliveries.
//
// Usage:   qmail-lspawn defaultdelivery
// Runs as: root (started by qmail-start). Deliveries never run as root: each runs as the user that
//          controls the address (uid, gid; supplementary groups with SETUSER_PRIVILEGES for users
//          found by qmail-getpw's rules), in a long-lived delivery worker of that user
//          (bin/qmail-local-worker, spec/spawn.md) or, with QMAILLOCAL or for a message larger than
//          workerMessageBytesMax, in a qmail-local process of its own exactly as qmail runs it.
// Input:   fd 0, the spawn protocol from qmail-send: slot byte, messid\0, sender\0, recipient\0
//          (spec/spawn.ts, ../shared/spec/queue.md 4.1). queue/mess/<messid> (owner qmailq),
//          users/cdb, the passwd file.
// Output:  fd 1: first one byte, the concurrency (spawnConcurrency); then per delivery, in any
//          order: slot byte, report (K/Z/D + text, spec/spawn.ts), NUL.
// Environment: QMAILHOME, QUEUEDIR; QMAILLOCAL, QMAILGETPW, SETUSER_PRIVILEGES, AUTHSELF,
//          ROUTE_NULL_USER (the seed's qmail-lspawn(8)); every delivery gets ours plus MESSID,
//          without QMAILREMOTE.
// Signals: SIGTERM: read no more commands, finish and report the deliveries in flight, exit 0.
// Exit:    0 after EOF on fd 0 once every delivery is reported; 100 without defaultdelivery; 111 when
//          the installation or the queue cannot be found at start.
// Crash safety: lspawn keeps no state. A report is sent only after qmail-local (or the worker) has
//          finished, and a worker finishes a delivery only after its maildir link and the fsyncs;
//          a delivery cut off by a crash is reported by nobody, so qmail-send retries it.

import type { Program, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { loadConfig } from './config.ts';
import { Spawner } from './spawner.ts';
import type { PoolOptions } from './pool.ts';

export const lspawnExit = { ok: 0, usage: 100, temp: 111 } as const;

export async function main(sys: Sys): Promise<number> {
  return lspawn(sys, {});
}

/** qmail-lspawn with other pool bounds (tests: a small pool under a large burst). */
export function lspawnWithPool(pool: Partial<PoolOptions>): Program {
  return (sys) => lspawn(sys, pool);
}

async function lspawn(sys: Sys, pool: Partial<PoolOptions>): Promise<number> {
  const defaultDelivery = sys.proc.self.argv[1];
  if (defaultDelivery === undefined) return lspawnExit.usage;
  const cfg = await loadConfig(sys, defaultDelivery);
  if ('error' in cfg) {
    sys.log.event('error', 'lspawn.config', { error: cfg.error });
    return lspawnExit.temp;
  }
  // As qmail: messids are relative to queue/mess.
  try {
    await sys.proc.chdir(cfg.messDir);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('error', 'lspawn.chdir', { dir: cfg.messDir, code: e.code });
    return lspawnExit.temp;
  }
  return new Spawner(sys, cfg, pool).run();
}
