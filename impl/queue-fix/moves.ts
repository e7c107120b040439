// Moving a message file to where the layout says it belongs (qmail-upq, after a split or BIGTODO
// change): link to the new name, fsync its directory, unlink the old name, fsync that directory.
// A crash in between leaves two names for one inode, which the next run sees and finishes.
//
// Moving under a running qmail-send would pull files out from under it, so the first move takes
// qmail-send's own lock, lock/sendmutex (spec/queue.md 3.1), and holds it to the end of the run:
// while queue-fix moves files, qmail-send cannot start, and if it is running nothing is moved.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { abs, parentOf, shown, type FixContext } from './context.ts';

type LockState = { state: 'untried' } | { state: 'held'; fd: Fd } | { state: 'refused'; why: string };

export class Mover {
  private lock: LockState = { state: 'untried' };

  constructor(private readonly ctx: FixContext) {}

  /** Moves rel `from` to rel `to`. Returns true when the file is (or under -n would be) at `to`. */
  async move(from: string, to: string): Promise<boolean> {
    const ctx = this.ctx;
    const action = `mv ${shown(ctx, from)} ${shown(ctx, to)}`;
    if (ctx.dryRun) {
      await ctx.report.line('would fix', action, 'wrong split directory');
      return true;
    }
    const why = await this.takeLock();
    if (why !== null) {
      await ctx.report.line('cannot fix', action, why);
      return false;
    }
    return this.linkThenUnlink(from, to, action);
  }

  private async linkThenUnlink(from: string, to: string, action: string): Promise<boolean> {
    const { sys, report } = this.ctx;
    const src = abs(this.ctx, from);
    const dst = abs(this.ctx, to);
    try {
      await sys.fs.link(src, dst);
    } catch (e) {
      if (!isSysError(e, 'EEXIST')) {
        if (e instanceof SysError) await report.line('cannot fix', action, e.code);
        else throw e;
        return false;
      }
      return this.finishEarlierMove(from, to, action);
    }
    await sys.fs.syncDir(parentOf(dst));
    await sys.fs.unlink(src);
    await sys.fs.syncDir(parentOf(src));
    await report.line('fixed', action, 'wrong split directory');
    return true;
  }

  /** The target name exists: if it is the same inode, an earlier move was cut short after its
   *  link; only the unlink is left. Otherwise two different files claim one message number. */
  private async finishEarlierMove(from: string, to: string, action: string): Promise<boolean> {
    const { sys, report } = this.ctx;
    const [a, b] = [await sys.fs.stat(abs(this.ctx, from)), await sys.fs.stat(abs(this.ctx, to))];
    if (a.dev !== b.dev || a.ino !== b.ino) {
      await report.line('cannot fix', action, `${shown(this.ctx, to)} exists and is another file`);
      return false;
    }
    await sys.fs.unlink(abs(this.ctx, from));
    await sys.fs.syncDir(parentOf(abs(this.ctx, from)));
    await report.line('fixed', `rm ${shown(this.ctx, from)}`, `second name of ${shown(this.ctx, to)}`);
    return true;
  }

  /** null when the lock is held; otherwise why no file may be moved. */
  private async takeLock(): Promise<string | null> {
    if (this.lock.state === 'untried') this.lock = await lockSendmutex(this.ctx.sys, abs(this.ctx, 'lock/sendmutex'));
    const lock = this.lock;
    if (lock.state === 'refused') return lock.why;
    return null;
  }

  async release(): Promise<void> {
    if (this.lock.state === 'held') await this.ctx.sys.fs.close(this.lock.fd);
    this.lock = { state: 'untried' };
  }
}

async function lockSendmutex(sys: Sys, path: string): Promise<LockState> {
  let fd: Fd;
  try {
    fd = await sys.fs.open(path, O.WRONLY | O.NONBLOCK);
  } catch (e) {
    if (e instanceof SysError) return { state: 'refused', why: `cannot open lock/sendmutex: ${e.code}` };
    throw e;
  }
  try {
    await sys.fs.lock(fd, false);
    return { state: 'held', fd };
  } catch (e) {
    await sys.fs.close(fd);
    if (isSysError(e, 'EAGAIN')) return { state: 'refused', why: 'qmail-send is running' };
    if (e instanceof SysError) return { state: 'refused', why: `cannot lock lock/sendmutex: ${e.code}` };
    throw e;
  }
}
