// qmail-qstat: summarize the queue.
//
// Usage:   qmail-qstat
// Runs as: root, or a member of group qmail (mess/ and todo/ are 0750 qmailq:qmail).
// Input:   the queue: $QUEUEDIR or $QMAILHOME/queue (impl/shared/queue-config.ts).
// Output:  stdout, two lines, as qmail's qmail-qstat script prints them:
//            messages in queue: <N>
//            messages in queue but not yet preprocessed: <M>
//          N counts the files under mess/*/ (each message has exactly one), M the files under
//          todo/ (and its split subdirectories under BIGTODO; both shapes are counted, so a queue
//          in the middle of a BIGTODO change still adds up).
// Exit:    0; 111 when the queue cannot be read ("qmail-qstat: fatal: ..." on stderr).
// Crash safety: read-only.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { errorStr } from '../lib/error-str.ts';
import { writeAll } from '../shared/fdio.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { countFiles } from './count.ts';

const exit = { ok: 0, fatal: 111 } as const;
const ascii = new TextEncoder();

export async function main(sys: Sys): Promise<number> {
  const layout = await queueLayout(sys, qmailHome(sys));
  if ('error' in layout) return fatal(sys, `unable to read configuration: ${layout.error}`);
  let messages: number;
  let todo: number;
  try {
    // mess/<S>/<ID>: files one level below the split subdirectories.
    messages = await countFiles(sys, `${layout.dir}/mess`, 2, 2);
    todo = await countFiles(sys, `${layout.dir}/todo`, 1, 2);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return fatal(sys, `unable to read ${e.path ?? 'the queue'}: ${errorStr(e.code)}`);
  }
  const text = `messages in queue: ${messages}\nmessages in queue but not yet preprocessed: ${todo}\n`;
  await writeAll(sys, 1, ascii.encode(text));
  return exit.ok;
}

async function fatal(sys: Sys, why: string): Promise<number> {
  await writeAll(sys, 2, ascii.encode(`qmail-qstat: fatal: ${why}\n`));
  return exit.fatal;
}
