// qmail-smtpd --listen started as root: after binding its port it starts qmail-queued as qmailq
// (the one process that writes the queue for it) and then becomes qmaild for good, so that no
// session ever runs with more than qmaild's rights, as under tcpserver -u -g. QMAILQUEUE or
// NULLQUEUE in the environment name a program that must run per message (qmail-queue-clients(7)):
// then the listener still drops to qmaild and starts that program per message, as qmaild.
// Started as anyone else, the listener keeps its credentials and starts qmail-queue per message.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { Queueing } from './listen.ts';
import { spawnQueueClient } from './queue-client.ts';
import { startQueued } from './queued-client.ts';

/** The queueing to use, or why it cannot be set up (the listener then exits 111). */
export async function setUpQueueing(sys: Sys, home: string, env: Record<string, string>): Promise<Queueing | { error: string }> {
  if (sys.proc.self.euid !== 0) return { client: spawnQueueClient(sys, home, env), died: null };
  const qmaild = await sys.users.getpwnam('qmaild');
  const qmailq = await sys.users.getpwnam('qmailq');
  if (qmaild === null || qmailq === null) return { error: `no user ${qmaild === null ? 'qmaild' : 'qmailq'}` };
  let q: Queueing;
  if (customQueue(env)) q = { client: spawnQueueClient(sys, home, env), died: null };
  else {
    try {
      const client = await startQueued(sys, home, env, { uid: qmailq.uid, gid: qmailq.gid }, qmaild.uid);
      q = { client, died: client.died };
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return { error: `cannot start qmail-queued: ${e.code}` };
    }
  }
  try {
    await sys.proc.setCreds(qmaild.uid, qmaild.gid, [qmaild.gid]);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return { error: `cannot become qmaild: ${e.code}` };
  }
  sys.log.event('info', 'smtpd.privileges_dropped', { uid: qmaild.uid, gid: qmaild.gid });
  return q;
}

function customQueue(env: Record<string, string>): boolean {
  return (env['QMAILQUEUE'] ?? '') !== '' || (env['NULLQUEUE'] ?? '') !== '';
}
