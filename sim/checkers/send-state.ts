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

/** When each queued copy (by its qmail-queue pid, the `qp` of `info msg`) was eliminated: the run
 *  of its `end msg`. Logs are given in run order; a message id is mapped to the copy whose
 *  `info msg` came last, so reused ids (inode numbers) are told apart. A line a power loss cut
 *  from the log only leaves a copy unchecked. Also: the run in which each bounce copy (by its own
 *  qp, from `bounce msg ... qp P`) was queued. */
export interface Ends {
  endRun: Map<number, number>;
  bounceRun: Map<number, number>;
}

export function copyEnds(logs: { run: number; text: string }[]): Ends {
  const current = new Map<number, number>();
  const ends: Ends = { endRun: new Map(), bounceRun: new Map() };
  for (const { run, text } of logs) {
    for (const line of text.split('\n')) {
      const e = parseLogLine(line);
      if ('error' in e) continue;
      if (e.kind === 'info') current.set(e.id, e.qp);
      if (e.kind === 'bounce' && !ends.bounceRun.has(e.qp)) ends.bounceRun.set(e.qp, run);
      const qp = e.kind === 'end' ? current.get(e.id) : undefined;
      if (qp !== undefined && !ends.endRun.has(qp)) ends.endRun.set(qp, run);
    }
  }
  return ends;
}
