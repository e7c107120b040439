// After a run of qmail-send: is the queue empty, and is every log line in the grammar?
//   queue: nothing in mess, intd, todo, info, local, remote, bounce or pid (split or flat); pool/'s
//          and qpool/'s recycled files are not messages;
//   log:   every line parses (spec/log.ts), the last one ends with \n.

import type { SimFsApi } from '../fs-api.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { queueDirs, isSplit } from '../../spec/queue.ts';
import { logLines, parseLogLine, type LogEvent } from '../../spec/log.ts';

type Fs = Pick<SimFsApi, 'peekDir'> & Partial<Pick<SimFsApi, 'peekStat'>>;

/** Every file left in the queue's message directories, as paths; and in pool/ and qpool/, a hidden
 *  name (a give that never finished: qmail-send's and qmail-clean's start remove them) or a file
 *  with a second name (free and in use at once), which the pools' protocol never leaves
 *  (spec/queue.md 7, 8); in qpool/, also a file not named by its inode number. */
export function queueLeftovers(fs: Fs, q: QueueLayout): string[] {
  const out: string[] = [];
  for (const dir of ['pool', 'qpool']) {
    const pool = `${q.dir}/${dir}`;
    for (const name of fs.peekDir(pool) ?? []) {
      const st = fs.peekStat?.(`${pool}/${name}`);
      const nlink = st?.nlink ?? 1;
      if (name.startsWith('.')) out.push(`${pool}/${name}`);
      else if (nlink !== 1) out.push(`${pool}/${name} (${nlink} names)`);
      else if (dir === 'qpool' && st !== undefined && st !== null && String(st.ino) !== name) out.push(`${pool}/${name} (inode ${st.ino})`);
    }
  }
  for (const spec of queueDirs) {
    // pool/ and qpool/ hold recycled files with no message in them (spec/queue.md 7, 8).
    if (spec.name === '' || spec.name === 'lock' || spec.name === 'pool' || spec.name === 'qpool') continue;
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

/** When each queued copy was eliminated: the run of its `end msg`. A copy is named by its queue
 *  instance (instanceOf below): by default its qmail-queue pid, the `qp` of `info msg`, which names
 *  one message; a caller whose qp queued many (qmail-queued) names them itself. Logs are given in
 *  run order; a message id is mapped to the copy whose `info msg` came last, so reused ids (inode
 *  numbers) are told apart. A line a power loss cut from the log, or an `info msg` the caller cannot
 *  name, only leaves a copy unchecked. Also: the run in which each bounce copy (by its own qp, from
 *  `bounce msg ... qp P`) was queued. */
export interface Ends {
  /** Instance name (String(qp), or the caller's `qp#index`) -> run of its end msg. */
  endRun: Map<string, number>;
  bounceRun: Map<number, number>;
}

/** Where an `info msg` line is: the index of its log in copyEnds' list, and its offset in that log. */
export interface LogPlace {
  log: number;
  offset: number;
}

/** The instance an `info msg` line speaks of, or null when unknown. */
export type InstanceOf = (at: LogPlace, e: { id: number; qp: number; bytes: number }) => string | null;

export function copyEnds(logs: { run: number; text: string }[], instanceOf: InstanceOf = (_, e) => String(e.qp)): Ends {
  const current = new Map<number, string | null>();
  const ends: Ends = { endRun: new Map(), bounceRun: new Map() };
  logs.forEach(({ run, text }, log) => {
    for (let offset = 0; offset < text.length; ) {
      const nl = text.indexOf('\n', offset);
      const line = text.slice(offset, nl < 0 ? text.length : nl);
      const e = parseLogLine(line);
      if (!('error' in e)) {
        if (e.kind === 'info') current.set(e.id, instanceOf({ log, offset }, e));
        if (e.kind === 'bounce' && !ends.bounceRun.has(e.qp)) ends.bounceRun.set(e.qp, run);
        const name = e.kind === 'end' ? current.get(e.id) : undefined;
        if (name !== undefined && name !== null && !ends.endRun.has(name)) ends.endRun.set(name, run);
      }
      offset = nl < 0 ? text.length : nl + 1;
    }
  });
  return ends;
}
