// One group of qmail-clean commands, committed together: every unlink (each command's in order, the
// commands at once), then one fsync per directory touched, then the replies. A reply '+' is sent only once both names the
// command removes are durably gone (spec/send.md 4): otherwise a power loss could bring back a
// todo/ID whose deliveries have already happened, and the rebuild would deliver them again.

import type { Sys } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { cleanReply, type CleanReply } from '../../spec/send.ts';
import { messagePath, type QueueLayout } from '../../spec/queue.ts';
import type { CleanCommand } from './command.ts';

/** The names a command removes, in qmail-clean's order (intd first). */
export function namesOf(cmd: CleanCommand & { kind: 'message' | 'todo' }, layout: QueueLayout): [string, string] {
  const second = cmd.kind === 'message' ? 'mess' : 'todo';
  return [`${layout.dir}/${messagePath('intd', cmd.id, layout)}`, `${layout.dir}/${messagePath(second, cmd.id, layout)}`];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/** Unlinks; "no such file" is fine (already gone), anything else fails the command. */
async function unlinkOk(sys: Sys, path: string): Promise<boolean> {
  try {
    await sys.fs.unlink(path);
    return true;
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return true;
    if (e instanceof SysError) return false;
    throw e;
  }
}

export async function runGroup(sys: Sys, layout: QueueLayout, cmds: CleanCommand[]): Promise<CleanReply[]> {
  // The commands' unlinks run at once (each command's own two in order, intd first); nothing is
  // answered before every directory touched is synced, so their order across commands is free.
  const done = await Promise.all(cmds.map((cmd) => (cmd.kind === 'bad' ? null : removeNames(sys, namesOf(cmd, layout), cmd.kind === 'message'))));
  const replies: CleanReply[] = done.map((d) => (d === null ? cleanReply.bad : d.ok ? cleanReply.ok : cleanReply.failed));
  const dirsOf: string[][] = done.map((d) => d?.dirs ?? []);
  const touched = new Set<string>(dirsOf.flat());
  const failedDirs = new Set<string>();
  await Promise.all([...touched].sort().map(async (dir) => {
    try {
      await sys.fs.syncDir(dir);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      failedDirs.add(dir);
    }
  }));
  return replies.map((r, i) => (r === cleanReply.ok && (dirsOf[i] ?? []).some((d) => failedDirs.has(d)) ? cleanReply.failed : r));
}

/** Is there a name to unlink (foop's intd/ID)? An lstat on the event loop costs less than an
 *  unlink's threadpool round trip that fails ENOENT, which is foop's usual case for intd/ID
 *  (todo-proc's todo/ID command removed it). intd/ cannot gain this name meanwhile: qmail-queue
 *  makes intd/ID only after linking mess/S/ID, which exists until this command's second unlink.
 *  Any other answer than ENOENT leaves the decision to unlink(2). The directory is synced all the
 *  same (an earlier attempt's unlink may not be durable yet). */
async function mayExist(sys: Sys, path: string): Promise<boolean> {
  try {
    await sys.fs.lstat(path);
    return true;
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return false;
    if (e instanceof SysError) return true;
    throw e;
  }
}

/** A command's names, in order, until one fails; the directories to sync. */
async function removeNames(sys: Sys, paths: string[], lookFirst: boolean): Promise<{ ok: boolean; dirs: string[] }> {
  const dirs: string[] = [];
  for (const [i, path] of paths.entries()) {
    if (lookFirst && i === 0 && !(await mayExist(sys, path))) {
      dirs.push(dirOf(path));
      continue;
    }
    if (!(await unlinkOk(sys, path))) return { ok: false, dirs };
    // Synced even after ENOENT: an unlink by an earlier, unsynced attempt may still be pending.
    dirs.push(dirOf(path));
  }
  return { ok: true, dirs };
}
