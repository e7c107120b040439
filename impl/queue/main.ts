// qmail-queue: queue a mail message for delivery.
//
// Usage:   qmail-queue            (message on fd 0, envelope on fd 1)
// Runs as: the queue owner qmailq. Installed as bin/qmail-queue, a setuid-qmailq helper that clears
//          the environment and starts this program (docs/setuid.md); real uid = the submitter.
// Input:   fd 0, the message, read to EOF. fd 1, the envelope: F<sender>\0 (T<rcpt>\0)* \0.
// Output:  queue/mess/S/ID (Received line + message), queue/intd/ID and queue/todo/ID (u, p, F, T
//          records); one NUL byte into queue/lock/trigger.
// Exit:    0 queued; otherwise the seed's codes (spec/exit-codes.ts): 11 address too long,
//          52 timeout, 53 write error, 54 read error, 61 home or queue directory, 64 fsync,
//          65 intd, 66 todo link, 67 mess link, 69 directory fsync, 70 pid file, 79 envelope
//          format, 81 internal bug. The client turns the code into a D/Z message.
// Environment: QMAILHOME, QUEUEDIR, CONFSPLIT, BIGTODO — ignored when started setuid (see
//          impl/shared/queue-config.ts); then everything comes from the installation.
// Crash safety: exit 0 only after the message, the envelope and both names (mess, todo) are
//          durable (fsync of files and directories, impl/queue/enqueue.ts). A crash earlier leaves
//          S2/S3 leftovers that cleanup removes after OSSIFIED, never a half-visible message.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qq } from '../../spec/exit-codes.ts';
import { deathMs, pidAttemptsMax } from '../../spec/limits.ts';
import { queueUmask } from '../../spec/queue.ts';
import { PoolTaker, qpoolDirName } from '../shared/file-pool.ts';
import { receivedLine, type SpecialUids } from '../lib/received.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { enqueue, fdSource } from './enqueue.ts';

const ascii = new TextEncoder();

export async function main(sys: Sys): Promise<number> {
  sys.proc.umask(queueUmask);
  const startMs = sys.clock.nowMs();
  // DEATH: a qmail-queue that hangs on its input must not outlive OSSIFIED (spec/limits.ts).
  const cancelDeath = sys.clock.timer(deathMs, () => sys.proc.exit(qq.tempTimeout));
  try {
    return await queue(sys, startMs);
  } finally {
    cancelDeath();
  }
}

async function queue(sys: Sys, startMs: number): Promise<number> {
  const self = sys.proc.self;

  let home: string;
  try {
    home = qmailHome(sys);
  } catch {
    return qq.tempHomeDir;
  }
  // A control file that cannot be read (EIO) is qmail-queue's 55, as a bad one is: never a crash.
  let layout: Awaited<ReturnType<typeof queueLayout>>;
  try {
    layout = await queueLayout(sys, home);
  } catch (e) {
    if (e instanceof SysError) return qq.tempConfig;
    throw e;
  }
  if ('error' in layout) return qq.tempConfig;
  if (!(await chdirOk(sys, home)) || !(await chdirOk(sys, layout.dir))) return qq.tempHomeDir;

  const special = await specialUids(sys);
  const startSec = Math.floor(startMs / 1000);
  const result = await enqueue(sys, layout, {
    message: fdSource(sys, 0),
    envelope: fdSource(sys, 1),
    received: ascii.encode(receivedLine(self.pid, self.uid, special, startMs)),
    uid: self.uid,
    pid: self.pid,
    pidNames: pidNames(self.pid, startSec),
    // One readdir of qpool/ per run (a Node start costs far more); none when the queue lacks it.
    pool: PoolTaker.forQueue(sys, layout.dir, qpoolDirName),
  });
  if (result.code === qq.ok) sys.log.event('debug', 'queue.accepted', { id: result.id, uid: self.uid });
  return result.code;
}

async function chdirOk(sys: Sys, dir: string): Promise<boolean> {
  try {
    await sys.proc.chdir(dir);
    return true;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
}

function* pidNames(pid: number, startSec: number): Generator<string> {
  for (let seq = 1; seq <= pidAttemptsMax; seq++) yield `${pid}.${startSec}.${seq}`;
}

async function specialUids(sys: Sys): Promise<SpecialUids> {
  const uidOf = async (name: string): Promise<number | null> => (await sys.users.getpwnam(name))?.uid ?? null;
  return { alias: await uidOf('alias'), qmaild: await uidOf('qmaild'), qmails: await uidOf('qmails') };
}
