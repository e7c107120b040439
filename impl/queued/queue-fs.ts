// qmail-queued's view of the queue's file system: the same Sys, with the calls that many messages
// in flight at once can share made once for all of them, and qpool/'s directory read at most once
// per poolReadGapMs while it has nothing to give.
//
//   syncDir   group commit (impl/shared/dir-sync.ts): returns only after an fsync of the directory
//             that started after the call, so each message's links are durable when it returns.
//   trigger   the same rule for the pull on lock/trigger: every caller's todo/ link was made before
//             a pull that started after its call, so qmail-send (or todo-proc) is woken after it
//             can see the message; callers arriving during a pull share the next one (qmail-send
//             reads todo/ whole on each wake-up, so one pull per batch wakes it for all).
//   qpool/    read at most once per poolReadGapMs, not by every message that finds the names of the
//             last read used up (with qmail-start down qpool/ stays empty, and each message paid two
//             readdirs for nothing; draining, each read found the one or two files given since the
//             last). A file given meanwhile waits at most that long to be taken.

import type { Clock, Sys } from '../sys/types.ts';
import { DirSyncer, withFsOverrides } from '../shared/dir-sync.ts';
import { PoolTaker } from '../shared/file-pool.ts';

/** How long an empty qpool/ is believed empty (ms). */
export const poolReadGapMs = 50;

/** sys with group-committed syncDir and trigger; everything else is sys.fs's own. */
export function queuedFs(sys: Sys): Sys {
  const dirs = new DirSyncer(sys.fs);
  // DirSyncer's rule is "a call that started after yours": exactly what a trigger pull needs.
  const pulls = new DirSyncer({ syncDir: (path) => sys.fs.trigger(path) });
  return withFsOverrides(sys, {
    syncDir: (path: string): Promise<void> => dirs.sync(path),
    trigger: (path: string): Promise<void> => pulls.sync(path),
  });
}

/** qpool/'s taker for a long-lived process: qpool/ is read at most once per gapMs, when the names
 *  of the last read are used up (files given meanwhile are there for the next read). */
export class SpacedPoolTaker extends PoolTaker {
  private nextReadMs = Number.NEGATIVE_INFINITY;

  constructor(
    sys: Sys,
    dir: string,
    private readonly clock: Clock,
    private readonly gapMs = poolReadGapMs,
  ) {
    super(sys, dir);
  }

  override async refill(): Promise<void> {
    if (this.held > 0) return;
    const now = this.clock.monotonicMs();
    if (now < this.nextReadMs) return;
    // Set before the read: messages arriving while it runs create their files as qmail does.
    this.nextReadMs = now + this.gapMs;
    await super.refill();
  }
}
