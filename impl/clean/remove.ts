// One group of qmail-clean commands, committed together: every unlink (each command's in order, the
// commands at once), then one fsync per directory touched, then the replies. A reply '+' is sent only once both names the
// command removes are durably gone (spec/send.md 4): otherwise a power loss could bring back a
// todo/ID whose deliveries have already happened, and the rebuild would deliver them again.
//
// Where the queue has qpool/ (spec/queue.md 8, impl/shared/file-pool.ts), a name is given to the
// pool instead of unlinked: renamed to a hidden name in qpool/, and published (free for
// qmail-queue) only after the group's directory fsyncs, that is once every old name of the file is
// durably gone. foop/ID unlinks mess/S/ID as qmail does, and gives intd/ID (.ID.i) if it is still
// there. mess is not recycled because a remote delivery streams it from an open fd: one that
// outlived its qmail-send (a spawner orphaned by a killed qmail-start) could otherwise read a later
// message's bytes out of the same inode; an unlinked file keeps its bytes for its readers. todo/ID's
// intd/ID and todo/ID are one inode: intd/ID is given (.ID.t) and todo/ID unlinked, so the hidden
// name is the file's only one (todo/ID is given instead when intd/ID is already gone). A command
// whose removal is not known durable ('!') has its hidden names unlinked: its file is freed, not
// recycled.

import type { Sys } from '../sys/types.ts';
import { mayExist } from '../shared/fdio.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { cleanReply, type CleanReply } from '../../spec/send.ts';
import { messagePath, type QueueLayout } from '../../spec/queue.ts';
import type { CleanCommand } from './command.ts';
import type { PoolGiver } from '../shared/file-pool.ts';

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

export async function runGroup(sys: Sys, layout: QueueLayout, cmds: CleanCommand[], pool?: PoolGiver): Promise<CleanReply[]> {
  // The commands' unlinks run at once (each command's own two in order, intd first); nothing is
  // answered before every directory touched is synced, so their order across commands is free.
  const give = pool?.isEnabled === true ? pool : undefined;
  const done = await Promise.all(cmds.map((cmd) => (cmd.kind === 'bad' ? null : removeNames(sys, namesOf(cmd, layout), cmd, give))));
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
  const final = replies.map((r, i) => (r === cleanReply.ok && (dirsOf[i] ?? []).some((d) => failedDirs.has(d)) ? cleanReply.failed : r));
  if (give !== undefined) {
    await Promise.all(done.flatMap((d, i) => (d?.hidden ?? []).map((h) => (final[i] === cleanReply.ok ? give.publish(h) : give.discard(h)))));
  }
  return final;
}

interface Removed {
  ok: boolean;
  /** The directories to sync. */
  dirs: string[];
  /** Names given to qpool/, to publish once the directories are synced. */
  hidden: string[];
}

/** A command's names, in order, until one fails. */
async function removeNames(sys: Sys, paths: string[], cmd: CleanCommand & { kind: 'message' | 'todo' }, pool: PoolGiver | undefined): Promise<Removed> {
  const r: Removed = { ok: true, dirs: [], hidden: [] };
  // todo/ID's two names are one inode: once intd/ID is given, todo/ID is only unlinked.
  let given = false;
  for (const [i, path] of paths.entries()) {
    // Synced even after ENOENT: an unlink by an earlier, unsynced attempt may still be pending.
    r.dirs.push(dirOf(path));
    // foop's intd/ID is usually gone (todo-proc's todo/ID command removed it): an lstat on the
    // event loop costs less than an unlink's threadpool round trip that fails ENOENT. intd/ cannot
    // gain this name meanwhile (qmail-queue makes intd/ID only after linking mess/S/ID, which exists
    // until this command's second name goes); any answer but ENOENT leaves it to unlink(2).
    if (cmd.kind === 'message' && i === 0 && !(await mayExist(sys, path, true))) continue;
    const tag = cmd.kind === 'message' ? (i === 0 ? 'i' : 'm') : 't';
    // mess is not given (see the header): only intd/todo files are recycled.
    const keep = pool === undefined || given || tag === 'm';
    const how = keep ? await unlinkOk(sys, path) : await giveOk(sys, pool, path, `.${cmd.id}.${tag}`);
    if (how === false) {
      r.dirs.pop();
      r.ok = false;
      return r;
    }
    if (how === 'pooled') {
      r.hidden.push(`.${cmd.id}.${tag}`);
      given = cmd.kind === 'todo';
    }
  }
  return r;
}

/** Step 1 of a give (hidden in qpool/); unlinked as qmail does where the pool will not take it. */
async function giveOk(sys: Sys, pool: PoolGiver, path: string, hidden: string): Promise<'pooled' | boolean> {
  try {
    const r = await pool.retire(path, hidden);
    if (r === 'pooled') return 'pooled';
    if (r === 'gone') return true;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
  return unlinkOk(sys, path);
}
