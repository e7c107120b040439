// A group of todo entries committed together (spec/send.md 3), in this order:
//   0. fsync the todo directories of the group: a todo/ID that qmail-queue has linked but not yet
//      synced is made durable before anything is built from it (else a crash could take todo/ID
//      back and leave info and local without it: an S5 that nobody ever accepted, possibly empty);
//   1. preprocess each, all at once (its info/local/remote written and fsynced; preprocess.ts),
//      from files of pool/ where it has some (impl/shared/file-pool.ts);
//   2. fsync each directory the group touched, once (pool/ too, if a file came from it);
//                                                                  files and names durable: S4 still
//   3. `todo/[S/]ID` to qmail-clean for each, pipelined; qmail-clean
//      answers + only once intd and todo are durably gone;          S5: preprocessed
//   4. `D<L|R|B|X><id>` to qmail-send for each +.
// Nothing is announced before both its files and its names are durable, so a power loss at any
// point leaves either todo/ID (rebuilt from scratch by the next scan) or a complete S5 message
// that qmail-send's pqstart finds.

import { cleanReply } from '../../spec/send.ts';
import { messagePath } from '../../spec/queue.ts';
import { SysError } from '../sys/errors.ts';
import type { LogEvent } from '../../spec/log.ts';
import type { CleanClient } from '../shared/clean-client.ts';
import { preprocess, type Prepared, type TodoCtx } from './preprocess.ts';

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

export interface BatchOut {
  /** Announce a preprocessed message (suppressed by the caller while detached). */
  done(p: Prepared): void;
  /** qmail-clean went away. */
  cleanDied(): void;
}

export async function runBatch(ctx: TodoCtx, clean: CleanClient, ids: number[], out: BatchOut): Promise<void> {
  const todoDirs = new Set(ids.map((id) => parentOf(`${ctx.layout.dir}/${messagePath('todo', id, ctx.layout)}`)));
  const [unsynced] = await Promise.all([syncEach(ctx, todoDirs), ctx.pool?.refill()]);
  // Step 1 for every entry at once: each entry's files are its own, so their writes and fsyncs
  // overlap (the file system commits them together). Each entry's log lines are kept together and
  // written in the order of the scan, whatever order the entries finish in.
  const ready1 = ids.filter((id) => !unsynced.has(parentOf(`${ctx.layout.dir}/${messagePath('todo', id, ctx.layout)}`)));
  const results = await Promise.all(ready1.map(async (id) => {
    const lines: LogEvent[] = [];
    const p = await preprocess({ ...ctx, log: (e) => lines.push(e) }, id);
    return { p, lines };
  }));
  const prepared: Prepared[] = [];
  for (const { p, lines } of results) {
    for (const e of lines) ctx.log(e);
    if (p !== null) prepared.push(p);
  }
  const failed = await syncDirs(ctx, prepared);
  const ready = prepared.filter((p) => ![...p.dirs].some((d) => failed.has(d)));
  const replies = await Promise.all(ready.map((p) => clean.request(messagePath('todo', p.id, ctx.layout))));
  ready.forEach((p, i) => {
    const r = replies[i];
    if (r === null) return;
    if (r === cleanReply.ok) out.done(p);
    else ctx.log({ kind: 'warning', warning: 'cleanUp', file: messagePath('todo', p.id, ctx.layout) });
  });
  if (replies.some((r) => r === null)) out.cleanDied();
}

/** One fsync per directory the group touched; the ones that failed. */
function syncDirs(ctx: TodoCtx, prepared: Prepared[]): Promise<Set<string>> {
  const dirs = new Set<string>();
  for (const p of prepared) for (const d of p.dirs) dirs.add(d);
  return syncEach(ctx, dirs);
}

/** fsync each directory once, all at once (nothing waits on their order); the ones that failed
 *  (their messages wait for the next scan), their warnings logged in a fixed order. */
async function syncEach(ctx: TodoCtx, dirs: Set<string>): Promise<Set<string>> {
  const sorted = [...dirs].sort();
  const ok = await Promise.all(sorted.map(async (dir) => {
    try {
      await ctx.sys.fs.syncDir(dir);
      return true;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return false;
    }
  }));
  const failed = new Set<string>();
  sorted.forEach((dir, i) => {
    if (ok[i] === true) return;
    failed.add(dir);
    ctx.log({ kind: 'warning', warning: 'fsync', file: dir.slice(ctx.layout.dir.length + 1) });
  });
  return failed;
}
