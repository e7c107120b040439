// Removing what crashes leave behind (spec/queue.md 6.2), as qmail-send's cleanup_do and
// qmail-clean's pid sweep do:
//
//   S2/S3 (mess, maybe intd, no todo, no info) whose mess atime is older than OSSIFIED: the
//     qmail-queue that made it is dead (it kills itself after DEATH < OSSIFIED), so the message
//     never reached S4. Remove intd/ID, fsync intd, then mess/S/ID, fsync mess/S: the order of
//     qmail-clean's foop, so a crash in between leaves only an S2 that the next sweep removes.
//   intd/ID with no mess/S/ID and an mtime older than OSSIFIED: a stale envelope (a removal cut
//     short after mess went). The age keeps us clear of a live qmail-queue that reuses the inode
//     number: it writes its intd within DEATH.
//   pid/* with an atime OSSIFIED or more in the past: a qmail-queue died before linking mess.
//
// Rights: the checks read info/ (qmails) and todo/, the removals need qmailq (mess, intd, pid). So
// this runs as root, in a one-user queue (queue-fix -u), or split as qmail does: findOssified on
// the qmails side, removeMessage and sweepPid on the qmailq side (qmail-clean).

import type { Sys } from '../sys/types.ts';
import { mayExist, statOrNull, unlinkIfThere } from './fdio.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { messagePath, splitOf, type QueueLayout } from '../../spec/queue.ts';

export interface CleanupResult {
  /** Message ids whose mess (and intd) were removed. */
  removed: number[];
  /** Names removed from pid/. */
  pidFiles: string[];
  /** Ids whose stale intd was removed (no mess). */
  staleIntd: number[];
}

export async function cleanupLeftovers(sys: Sys, layout: QueueLayout, nowMs: number, ossifiedMs: number): Promise<CleanupResult> {
  if (!(ossifiedMs > 0)) throw new Error(`cleanupLeftovers: ossifiedMs must be positive: ${ossifiedMs}`);
  const removed: number[] = [];
  for (const id of await findOssified(sys, layout, nowMs, ossifiedMs)) {
    await removeMessage(sys, layout, id);
    sys.log.event('info', 'queue.ossified_cleanup', { what: 'mess', id });
    removed.push(id);
  }
  const staleIntd = await removeStaleIntd(sys, layout, nowMs, ossifiedMs);
  const pidFiles = await sweepPid(sys, layout, nowMs, ossifiedMs);
  return { removed, pidFiles, staleIntd };
}

/** cleanup_do's test, read-only: ids in mess/0..split-1 with no todo, no info and an atime older
 *  than OSSIFIED. A file in the wrong split subdirectory is skipped, as qmail does (it looks the
 *  message up by its computed name); queue-fix moves it. */
export async function findOssified(sys: Sys, layout: QueueLayout, nowMs: number, ossifiedMs: number): Promise<number[]> {
  const found: number[] = [];
  for (let s = 0; s < layout.split; s++) {
    for (const name of await entries(sys, `${layout.dir}/mess/${s}`)) {
      if (!/^[0-9]+$/.test(name)) continue;
      const id = Number(name);
      if (splitOf(id, layout.split) !== s) continue;
      if (await isOssified(sys, layout, id, nowMs, ossifiedMs)) found.push(id);
    }
  }
  return found;
}

async function isOssified(sys: Sys, layout: QueueLayout, id: number, nowMs: number, ossifiedMs: number): Promise<boolean> {
  let st;
  try {
    st = await sys.fs.stat(`${layout.dir}/${messagePath('mess', id, layout)}`);
  } catch (e) {
    if (e instanceof SysError) return false; // gone, or unreadable: try again next sweep
    throw e;
  }
  if (nowMs <= st.atimeMs + ossifiedMs) return false;
  if (await mayExist(sys, `${layout.dir}/${messagePath('info', id, layout)}`)) return false;
  return !(await mayExist(sys, `${layout.dir}/${messagePath('todo', id, layout)}`));
}

/** qmail-clean's foop/ID: intd first, then mess, each removal made durable before the next. */
export async function removeMessage(sys: Sys, layout: QueueLayout, id: number): Promise<void> {
  await unlinkSynced(sys, layout.dir, messagePath('intd', id, layout)); // S3 → S2
  await unlinkSynced(sys, layout.dir, messagePath('mess', id, layout)); // S2 → S1: gone
}

export async function removeStaleIntd(sys: Sys, layout: QueueLayout, nowMs: number, ossifiedMs: number): Promise<number[]> {
  const gone: number[] = [];
  const dirs = layout.bigtodo ? Array.from({ length: layout.split }, (_, s) => `intd/${s}`) : ['intd'];
  for (const dir of dirs) {
    for (const name of await entries(sys, `${layout.dir}/${dir}`)) {
      if (!/^[0-9]+$/.test(name)) continue;
      const id = Number(name);
      if (`${dir}/${name}` !== messagePath('intd', id, layout)) continue;
      const st = await statOrNull(sys, `${layout.dir}/${dir}/${name}`);
      if (st === null || nowMs <= st.mtimeMs + ossifiedMs) continue;
      if (await mayExist(sys, `${layout.dir}/${messagePath('mess', id, layout)}`)) continue;
      await unlinkSynced(sys, layout.dir, `${dir}/${name}`);
      sys.log.event('info', 'queue.ossified_cleanup', { what: 'intd', id });
      gone.push(id);
    }
  }
  return gone;
}

/** qmail-clean's housekeeping: pid files whose atime is OSSIFIED or more in the past. */
export async function sweepPid(sys: Sys, layout: QueueLayout, nowMs: number, ossifiedMs: number): Promise<string[]> {
  const gone: string[] = [];
  for (const name of await entries(sys, `${layout.dir}/pid`)) {
    if (youngByName(name, nowMs, ossifiedMs)) continue;
    const st = await statOrNull(sys, `${layout.dir}/pid/${name}`);
    if (st === null || st.kind !== 'file' || nowMs - st.atimeMs < ossifiedMs) continue;
    if (!(await unlinkIfThere(sys, `${layout.dir}/pid/${name}`))) continue;
    sys.log.event('info', 'queue.ossified_cleanup', { what: 'pid', name });
    gone.push(name);
  }
  // A pid file is garbage either way; the fsync only keeps a crash from bringing it back.
  if (gone.length > 0) await sys.fs.syncDir(`${layout.dir}/pid`);
  return gone;
}

/** Our qmail-queue names its pid file <pid>.<start second>.<seq> (impl/queue/main.ts) before
 *  creating it, so the file's atime is at least that second: a name younger than OSSIFIED needs no
 *  stat to be kept. This matters where pid/ is large: nothing syncs pid/, so a power loss brings
 *  back many names qmail-queue had unlinked, and each sweep (every 31st command) would stat them
 *  all for 36 hours. Other names (qmail's pid/<pid>), and names from the future (the clock stepped
 *  back), are stat'd as before. */
function youngByName(name: string, nowMs: number, ossifiedMs: number): boolean {
  const m = /^[0-9]+\.([0-9]{1,12})\.[0-9]+$/.exec(name);
  if (m === null) return false;
  const bornMs = Number(m[1]) * 1000;
  return bornMs <= nowMs && nowMs - bornMs < ossifiedMs;
}

/** Unlinks dir/rel and fsyncs its directory; a name already gone is fine (ENOENT). */
async function unlinkSynced(sys: Sys, dir: string, rel: string): Promise<void> {
  const path = `${dir}/${rel}`;
  if (await unlinkIfThere(sys, path)) await sys.fs.syncDir(path.slice(0, path.lastIndexOf('/')));
}



async function entries(sys: Sys, dir: string): Promise<string[]> {
  try {
    return await sys.fs.readdir(dir);
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return [];
    throw e;
  }
}
