// qmail-queued: qmail-queue for a long-lived client, many messages over one pipe pair.
//
// Usage:   qmail-queued UID    (started by a root qmail-smtpd --listen before it drops to qmaild)
// Runs as: the queue owner qmailq, started so by root: the queue stays writable by qmailq alone.
//          UID is who every message is queued for (the Received line's "invoked from network" for
//          qmaild, the intd u record), fixed at start exactly as bin/qmail-queue takes the real uid
//          of its caller. Anyone else running this program gets nothing: the queue refuses them.
// Input:   fd 0, requests (impl/lib/queued-protocol.ts): open, message pieces, envelope pieces,
//          end, abort; any number at once. Environment: QMAILHOME, QUEUEDIR, CONFSPLIT, BIGTODO
//          as qmail-queue takes them from a trusted (non-setuid) start.
// Output:  the queue files of qmail-queue (impl/queue/enqueue.ts); a trigger pull after each
//          message's todo link (messages finishing together share one, ./queue-fs.ts);
//          fd 1, one reply per request: qmail-queue's exit code for that message.
// Exit:    0 at EOF on fd 0, after every finished request is answered; 100 usage; qmail-queue's
//          61 (home or queue directory), 55 (configuration), 81 (the client broke the protocol).
// Crash safety: a reply 0 is sent only after enqueue returned 0 (message, envelope and both names
//          durable). A request not ended by its client (it died, this program died, the power
//          went) never reaches todo/, and its leftovers are qmail-queue's S2/S3 ones.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qq } from '../../spec/exit-codes.ts';
import { queueUmask } from '../../spec/queue.ts';
import type { SpecialUids } from '../lib/received.ts';
import { writeAll } from '../shared/fdio.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { QueueServer } from './server.ts';

const permUsage = 100;

export async function main(sys: Sys): Promise<number> {
  sys.proc.umask(queueUmask);
  const arg = sys.proc.self.argv[1] ?? '';
  if (!/^[0-9]{1,10}$/.test(arg) || sys.proc.self.argv.length !== 2) {
    await writeAll(sys, 2, ascii.encode('qmail-queued: usage: qmail-queued uid\n')).catch(() => undefined);
    return permUsage;
  }
  let home: string;
  try {
    home = qmailHome(sys);
  } catch {
    return qq.tempHomeDir;
  }
  const layout = await queueLayout(sys, home);
  if ('error' in layout) return qq.tempConfig;
  try {
    await sys.fs.stat(`${layout.dir}/todo`);
  } catch (e) {
    if (e instanceof SysError) return qq.tempHomeDir;
    throw e;
  }
  const server = new QueueServer(sys, { layout, clientUid: Number(arg), special: await specialUids(sys), inFd: 0, outFd: 1 });
  sys.log.event('info', 'queued.started', { clientUid: Number(arg) });
  return server.run();
}

const ascii = new TextEncoder();

async function specialUids(sys: Sys): Promise<SpecialUids> {
  const uidOf = async (name: string): Promise<number | null> => (await sys.users.getpwnam(name))?.uid ?? null;
  return { alias: await uidOf('alias'), qmaild: await uidOf('qmaild'), qmails: await uidOf('qmails') };
}
