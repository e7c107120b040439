// The queue-state checker: reads a simulated queue directly (no permissions, no timestamps touched)
// and reports every message by state, with what is wrong with it. Pure over SimFsApi's peek calls.
//
// States (spec/queue.md, section 6 of the facts):
//   queued     todo/ID present; mess/S/ID present with inode ID; todo parses; a Received line
//   leftover   mess/S/ID without todo and info (S2/S3: a qmail-queue that died)
//   preprocessed  info present (qmail-send's business; not produced before the pipeline issue)
// Violations are strings naming the file and the broken rule.

import type { SimFsApi } from '../fs-api.ts';
import { messagePath, type QueueLayout } from '../../spec/queue.ts';
import { parseIntd, type Intd } from '../../impl/lib/intd.ts';
import { receivedLineRe } from '../../spec/received.ts';

export interface QueuedMessage {
  id: number;
  intd: Intd;
  /** The mess file's bytes after the Received line. */
  body: Uint8Array;
  receivedLine: string;
}

export interface QueueReport {
  queued: QueuedMessage[];
  leftovers: number[];
  preprocessed: number[];
  pidFiles: string[];
  /** intd/ID without mess (stale), todo/ID without mess (broken). */
  orphans: string[];
  /** Queued ids whose intd/ID is an older inode than todo/ID (harmless, see checkQueued). */
  staleIntd: number[];
  violations: string[];
  /** How many individual rules were checked (for the report). */
  checks: number;
}

type Fs = Pick<SimFsApi, 'peekFile' | 'peekStat' | 'peekDir'>;

export function checkQueue(fs: Fs, q: QueueLayout): QueueReport {
  const r: QueueReport = { queued: [], leftovers: [], preprocessed: [], pidFiles: [], orphans: [], staleIntd: [], violations: [], checks: 0 };
  const rel = (dir: string, id: number): string => `${q.dir}/${messagePath(dir, id, q)}`;
  const ids = (dir: string): number[] => listIds(fs, q, dir, r);
  const mess = new Set(ids('mess'));
  const todo = new Set(ids('todo'));
  const info = new Set(ids('info'));
  for (const id of ids('intd')) if (!mess.has(id)) r.orphans.push(rel('intd', id));
  for (const id of todo) {
    if (!mess.has(id)) {
      r.orphans.push(rel('todo', id));
      r.violations.push(`${rel('todo', id)}: todo without mess`);
    }
  }
  for (const id of [...mess].sort((a, b) => a - b)) {
    r.checks++;
    const st = fs.peekStat(rel('mess', id));
    if (st?.ino !== id) r.violations.push(`${rel('mess', id)}: inode ${st?.ino} is not the message number`);
    if (todo.has(id)) checkQueued(fs, q, id, r);
    else if (info.has(id)) r.preprocessed.push(id);
    else r.leftovers.push(id);
  }
  r.pidFiles = (fs.peekDir(`${q.dir}/pid`) ?? []).sort();
  return r;
}

function checkQueued(fs: Fs, q: QueueLayout, id: number, r: QueueReport): void {
  const path = (dir: string): string => `${q.dir}/${messagePath(dir, id, q)}`;
  const todoBytes = fs.peekFile(path('todo')) as Uint8Array;
  const intd = parseIntd(todoBytes);
  r.checks += 3;
  if ('error' in intd) {
    r.violations.push(`${path('todo')}: ${intd.error}`);
    return;
  }
  // intd/ID normally is todo/ID's other name. Under the posix profile a crash can bring back an
  // older, unsynced intd/ID of a dead run that had the same number; nothing reads intd once todo
  // exists (qmail-send reads todo and removes both), so it is counted, not a violation.
  const intdStat = fs.peekStat(path('intd'));
  if (intdStat !== null && intdStat.ino !== fs.peekStat(path('todo'))?.ino) r.staleIntd.push(id);
  const messBytes = fs.peekFile(path('mess')) as Uint8Array;
  const nl = messBytes.indexOf(0x0a);
  const receivedLine = new TextDecoder().decode(messBytes.subarray(0, nl + 1));
  if (nl < 0 || !receivedLineRe.test(receivedLine)) {
    r.violations.push(`${path('mess')}: no valid Received line`);
    return;
  }
  r.queued.push({ id, intd, body: messBytes.subarray(nl + 1), receivedLine });
}

/** Message numbers under a queue directory, split or flat as the layout says; names that are not
 *  all digits and files in the wrong split subdirectory are violations. */
function listIds(fs: Fs, q: QueueLayout, dir: string, r: QueueReport): number[] {
  const top = `${q.dir}/${dir}`;
  const splitDir = messagePath(dir, q.split + 1, q).split('/').length === 3;
  const out: number[] = [];
  const scan = (d: string, sub: number | null): void => {
    for (const name of fs.peekDir(d) ?? []) {
      r.checks++;
      if (!/^[0-9]+$/.test(name)) {
        r.violations.push(`${d}/${name}: not a message number`);
        continue;
      }
      const id = Number(name);
      if (sub !== null && id % q.split !== sub) r.violations.push(`${d}/${name}: in the wrong split subdirectory`);
      out.push(id);
    }
  };
  if (!splitDir) scan(top, null);
  else for (let s = 0; s < q.split; s++) scan(`${top}/${s}`, s);
  return out;
}
