// After a run of qmail-send: is the queue empty, and is every log line in the grammar?
//   queue: nothing in mess, intd, todo, info, local, remote, bounce or pid (split or flat);
//   log:   every line parses (spec/log.ts), the last one ends with \n.

import type { SimFsApi } from '../fs-api.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { queueDirs, isSplit } from '../../spec/queue.ts';
import { logLines, parseLogLine, type LogEvent } from '../../spec/log.ts';

type Fs = Pick<SimFsApi, 'peekDir'>;

/** Every file left in the queue's message directories, as paths. */
export function queueLeftovers(fs: Fs, q: QueueLayout): string[] {
  const out: string[] = [];
  for (const spec of queueDirs) {
    if (spec.name === '' || spec.name === 'lock') continue;
    const top = `${q.dir}/${spec.name}`;
    const dirs = isSplit(spec, q) ? Array.from({ length: q.split }, (_, s) => `${top}/${s}`) : [top];
    for (const d of dirs) for (const name of fs.peekDir(d) ?? []) out.push(`${d}/${name}`);
  }
  return out.sort();
}

export interface LogCheck {
  events: LogEvent[];
  violations: string[];
}

export function checkLog(text: string): LogCheck {
  const { lines, partial } = logLines(text);
  const events: LogEvent[] = [];
  const violations: string[] = [];
  if (partial !== '') violations.push(`log: last line has no newline: ${JSON.stringify(partial.slice(0, 80))}`);
  for (const line of lines) {
    const e = parseLogLine(line);
    if ('error' in e) violations.push(`log: ${e.error}`);
    else events.push(e);
  }
  return { events, violations };
}
