// fixQueue: the whole check-and-repair of one queue, in dependency order: directories (parents
// first), the lock files, the message files (owner, mode, place), then the leftover report. Used
// by queue-fix and, in-process, by qmail-setup.

import type { Sys } from '../sys/types.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import type { FixContext } from './context.ts';
import { fixQueueDirs } from './directories.ts';
import { fixLockFiles } from './lock-files.ts';
import { fixMessageFiles } from './message-files.ts';
import { reportLeftovers } from './leftovers.ts';
import { Mover } from './moves.ts';
import type { Owners } from './owners.ts';
import type { Report } from './report.ts';

export interface FixQueueOpts {
  dryRun: boolean;
  owners: Owners;
  report: Report;
  /** How the queue directory is shown in report lines (default: its last path component). */
  shownAs?: string;
  /** FixContext.spread. */
  spread?: (path: string) => Promise<void>;
}

export async function fixQueue(sys: Sys, layout: QueueLayout, opts: FixQueueOpts): Promise<void> {
  if (!layout.dir.startsWith('/')) throw new Error(`fixQueue: queue directory must be absolute: ${layout.dir}`);
  if (!(layout.split >= 1)) throw new Error(`fixQueue: split must be positive: ${layout.split}`);
  const ctx: FixContext = {
    sys,
    root: layout.dir,
    shownAs: `${opts.shownAs ?? lastComponent(layout.dir)}/`,
    dryRun: opts.dryRun,
    report: opts.report,
    ...(opts.spread === undefined ? {} : { spread: opts.spread }),
  };
  const blocked = await fixQueueDirs(ctx, opts.owners, layout);
  if (blocked.includes('')) return;
  if (!blocked.includes('lock')) await fixLockFiles(ctx, opts.owners);
  const mover = new Mover(ctx);
  try {
    const index = await fixMessageFiles(ctx, opts.owners, layout, mover, blocked);
    await reportLeftovers(ctx, index);
  } finally {
    await mover.release();
  }
}

function lastComponent(dir: string): string {
  const parts = dir.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? '/';
}
