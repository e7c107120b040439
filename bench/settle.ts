// Keeps one run's teardown out of the next run's figures.
//
// ext4 without a journal (this machine's root file system) makes every inode allocation skip, one
// by one, the free inodes of its block group that were deleted in the last ~35 s (ialloc.c
// find_inode_bit -> recently_deleted: dirty_expire_centisecs plus 5 s). A bench that removes its
// tree of thousands of Maildir and queue files and at once builds the next one gets its new tree in
// the same block groups, and every Maildir delivery of the next run pays for the previous run's
// rm -rf: measured, the delivery worker's system time went from 0.20 to 0.60 ms a message between
// a run after a quiet minute and the same run right after another. A real MTA's Maildirs do not
// sit beside a tree removed seconds ago; its own queue churn (qmail-clean's unlinks) still counts,
// since it happens during the run.
//
// So every bench that removes a tree marks the time (markTeardown), and a timed phase starts only
// once the last mark is older than the window (settle). The mark is a file, so that it holds
// across bench processes (npm run bench runs several).

import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** 35 s of ext4's window and a margin. */
export const recentlyDeletedWindowMs = 40_000;

const marker = join(tmpdir(), 'qmail-ts-bench-teardown');

export function markTeardown(): void {
  writeFileSync(marker, `${Date.now()}\n`);
}

/** Waits until the last teardown is older than the window; returns the ms waited. */
export async function settle(): Promise<number> {
  let last = 0;
  try {
    last = Number(readFileSync(marker, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
  const wait = last + recentlyDeletedWindowMs - Date.now();
  if (wait <= 0) return 0;
  await sleep(wait);
  return wait;
}
