// The programs of an installation, by the name they are installed under. The simulator runs the
// very same mains the host binaries run.

import type { Program } from '../impl/sys/types.ts';
import { main as qmailQueue } from '../impl/queue/main.ts';
import { main as queueFix } from '../impl/queue-fix/main.ts';
import { main as qmailQread } from '../impl/qread/main.ts';
import { main as qmailQstat } from '../impl/qstat/main.ts';
import { main as qmailNullqueue } from '../impl/nullqueue/main.ts';

export const qmailPrograms: Readonly<Record<string, Program>> = {
  'qmail-queue': qmailQueue,
  'queue-fix': queueFix,
  'qmail-qread': qmailQread,
  'qmail-qstat': qmailQstat,
  'qmail-nullqueue': qmailNullqueue,
};
