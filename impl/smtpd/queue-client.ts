// How a qmail-smtpd session queues a message: one interface, two ways.
//   spawnQueueClient   qmail-queue (or $QMAILQUEUE, NULLQUEUE) started per message
//                      (impl/shared/qq-client.ts): tcpserver mode, a listener not started as root,
//                      and whenever QMAILQUEUE asks for its own program;
//   QueuedClient       requests to one long-lived qmail-queued (./queued-client.ts): the listener
//                      started as root, which started qmail-queued as qmailq.

import type { Sys } from '../sys/types.ts';
import type { Envelope } from '../lib/envelope.ts';
import type { ByteSource } from '../queue/enqueue.ts';
import { queueMessage, type QueueClientResult } from '../shared/qq-client.ts';

export interface QueueClient {
  /** Queues one message pulled from src as DATA arrives. null: no queue could be opened (qmail's
   *  qmail_open failing: "451 qqt failure"), and then src was never read. */
  queue(src: ByteSource, envelope: Envelope): Promise<QueueClientResult | null>;
}

export function spawnQueueClient(sys: Sys, home: string, env: Record<string, string>): QueueClient {
  return { queue: (src, envelope) => queueMessage(sys, src, envelope, { home, env }) };
}
