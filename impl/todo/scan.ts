// One scan of todo/ (nq:qmail-send.c todo_do, im:todo-proc.c todo_scan): the message ids waiting to
// be preprocessed. Flat todo/ID, or with BIGTODO todo/S/ID, where an entry in the wrong
// subdirectory is reported with indimail's warn line and skipped. Names that are not all digits are
// ignored. A directory that cannot be read is an alert; the scan is tried again later.

import type { Sys } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { splitOf, type QueueLayout } from '../../spec/queue.ts';
import type { LogEvent } from '../../spec/log.ts';

export interface TodoScan {
  ids: number[];
  /** Lines for the log (split warnings, opendir alerts). */
  log: LogEvent[];
  /** A directory could not be read. */
  failed: boolean;
}

export async function scanTodo(sys: Sys, layout: QueueLayout, queueName: string): Promise<TodoScan> {
  const scan: TodoScan = { ids: [], log: [], failed: false };
  const subdirs = layout.bigtodo ? Array.from({ length: layout.split }, (_, s) => s) : [null];
  for (const s of subdirs) {
    const rel = s === null ? 'todo' : `todo/${s}`;
    let names: string[];
    try {
      names = await sys.fs.readdir(`${layout.dir}/${rel}`);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (isSysError(e, 'ENOENT') && s !== null) continue; // a split subdirectory queue-fix has not made
      scan.log.push({ kind: 'alert', alert: 'opendir', file: rel });
      scan.failed = true;
      continue;
    }
    for (const name of names) {
      if (!/^[0-9]+$/.test(name)) continue;
      const id = Number(name);
      if (!Number.isSafeInteger(id)) continue;
      if (s !== null && splitOf(id, layout.split) !== s) {
        scan.log.push({ kind: 'todoSubdir', queue: queueName, subdir: s, fnSplit: splitOf(id, layout.split), id, incorrect: true });
        continue;
      }
      scan.ids.push(id);
    }
  }
  return scan;
}
