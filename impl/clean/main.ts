// qmail-clean: remove queue files on qmail-send's (or todo-proc's) behalf.
//
// Usage:   qmail-clean [QUEUEDIR] [who]      (arguments are only for ps; indimail passes them)
// Runs as: qmailq, the only user that may unlink in intd/, todo/ and mess/ (spec/queue.md 1).
// Input:   fd 0, commands `foop/<ID>\0` (remove intd/ID, then mess/S/ID) and `todo/[S/]<ID>\0`
//          (remove intd/ID, then todo/[S/]ID).
// Output:  fd 1, one byte per command, in order: `+` done, `!` an unlink failed (not ENOENT) or its
//          directory could not be synced, `x` a malformed command (too short or long, unknown
//          prefix, no digits). Before the first command and every 31st, pid/ files whose atime is
//          OSSIFIED or more in the past are removed; so are intd/ files as old without a mess file
//          (ours: a posix crash can leave them), before the first command and then at most every
//          sleepCleanupSec.
// Exit:    0 at end of input; 100 when a reply cannot be written; 111 when the queue directory
//          cannot be entered.
// Environment: QMAILHOME, QUEUEDIR, CONFSPLIT, BIGTODO (impl/shared/queue-config.ts).
// qpool/:  where the queue has it, removed mess and intd files are given to it for qmail-queue to
//          reuse (impl/clean/remove.ts, spec/queue.md 8); hidden names a killed run left there are
//          removed at start.
// Crash safety: the commands already buffered are run as one group: all unlinks, one fsync per
//          directory touched, then every reply. `+` therefore means "durably gone" under the posix
//          profile; a crash before it leaves the names, and the client asks again.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { cleanCommandBytesMax, cleanSweepEvery, sleepCleanupSec } from '../../spec/send.ts';
import { ossifiedMs } from '../../spec/limits.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { NulRecords } from '../lib/nul-records.ts';
import { writeAll } from '../shared/fdio.ts';
import { removeStaleIntd, sweepPid } from '../shared/leftovers.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { PoolGiver, qpoolDirName } from '../shared/file-pool.ts';
import { parseCleanCommand } from './command.ts';
import { runGroup } from './remove.ts';

const exitWriteError = 100;
const exitNoQueue = 111;
const readBytes = 65_536;
/** Between two sweeps of intd/ (qmail-send scans mess/ for leftovers as often). */
const intdSweepEveryMs = sleepCleanupSec * 1000;

export async function main(sys: Sys): Promise<number> {
  let layout: QueueLayout;
  try {
    const home = qmailHome(sys);
    const l = await queueLayout(sys, home);
    if ('error' in l) return exitNoQueue;
    layout = l;
    await sys.proc.chdir(layout.dir);
  } catch (e) {
    if (e instanceof SysError) return exitNoQueue;
    throw e;
  }
  return serve(sys, layout);
}

async function serve(sys: Sys, layout: QueueLayout): Promise<number> {
  // Records are kept up to the bound, so a longer command still measures too long (then 'x').
  const records = new NulRecords(cleanCommandBytesMax);
  const pool = await PoolGiver.open(sys, layout.dir, { dirName: qpoolDirName });
  const buf = new Uint8Array(readBytes);
  let count = 0;
  let intdSweptMs: number | null = null;
  for (;;) {
    const n = await sys.fs.read(0, buf, 0, buf.length, null);
    if (n === 0) return 0; // a command cut off by EOF is dropped, as qmail's getln does
    const lines = records.push(buf.subarray(0, n)).map(latin1);
    if (lines.length === 0) continue;
    if (sweepDue(count, lines.length)) {
      const now = sys.clock.nowMs();
      const intd = intdSweptMs === null || now - intdSweptMs >= intdSweepEveryMs;
      if (intd) intdSweptMs = now;
      await sweep(sys, layout, intd);
    }
    count += lines.length;
    const replies = await runGroup(sys, layout, lines.map(parseCleanCommand), pool);
    try {
      await writeAll(sys, 1, latin1Bytes(replies.join('')));
    } catch (e) {
      if (e instanceof SysError) return exitWriteError;
      throw e;
    }
  }
}

/** qmail sweeps before command 0, 31, 62, ...: is one of them in [count, count + n)? */
function sweepDue(count: number, n: number): boolean {
  const next = Math.ceil(count / cleanSweepEvery) * cleanSweepEvery;
  return next < count + n;
}

/** qmail's pid/ sweep, and ours of intd/ID left without mess/S/ID (a crash under posix can make
 *  intd's name durable through another process's fsync of intd/ before qmail-queue's mess link is;
 *  only qmailq may look in intd/, so qmail-send's cleanup cannot find them). Both by age. pid/
 *  holds only the qmail-queues running now, but intd/ holds every queued message: its sweep stats
 *  each, so it runs before the first command and then at most every intdSweepEveryMs, as
 *  qmail-send's own cleanup of mess/ does (sleepCleanupSec), not every 31 commands. */
async function sweep(sys: Sys, layout: QueueLayout, intd: boolean): Promise<void> {
  for (const f of intd ? [sweepPid, removeStaleIntd] : [sweepPid]) {
    try {
      await f(sys, layout, sys.clock.nowMs(), ossifiedMs);
    } catch (e) {
      if (!(e instanceof SysError)) throw e; // qmail ignores a sweep that cannot read pid/
    }
  }
}
