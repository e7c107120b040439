// pool/: recycled message files (spec/queue.md 7), beyond qmail. On a file system where a new
// inode is dear (ext4: an fsync of a new file costs several times one of a file that exists, and
// allocation scans recently freed inodes), qmail-send gives the info, local and remote files of a
// finished message to the pool instead of unlinking them, and todo-proc takes them back for the
// next messages, overwriting them in place. Every state change keeps its fsync and its directory
// fsync; the queue's states (../shared/spec/queue.md 6.1) are unchanged, as the pool's files have
// no message number.
//
// The protocol, for one file (both sides run as qmails):
//   give     rename  info/S/ID → pool/.ID.i        (hidden: not yet free)
//            fsync   info/S                          the old name is durably gone (the caller's)
//            rename  pool/.ID.i → pool/<slot>        free; a file already at <slot> is replaced
//   take     rename  pool/<slot> → info/S/ID2        (atomic: a concurrent give to <slot> either
//                                                     lands before, and is what we take, or after)
//            write from 0, ftruncate, fsync; fsync info/S and pool/ before todo/ID2 goes (batch.ts)
// Why the hidden step: a file reachable from pool/ may be overwritten with another message's bytes
// at any moment. If its removal from info/S or local/S were not yet durable, a power loss could
// bring back local/S/ID holding another message's recipients beside mess/ID: ID's mail to the
// wrong people. So a file becomes free only after its old name is durably gone.
// Why pool/ is fsynced by the taker: on a file system whose renames are not atomic across a crash,
// pool/<slot> could come back beside info/S/ID2, and be handed out again while in use.
// Hidden names a killed qmail-send left are removed at its next start (removeHidden). Slots bound
// the pool: a give to an occupied slot frees the file that was there.
// Without a pool/ directory (a queue made by another qmail) both sides create and unlink as qmail.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';

export const poolDirName = 'pool';
/** Files the pool holds at most: a few times the messages in flight in todo-proc's batches and
 *  qmail-send's deliveries, so that in steady state nearly every file is recycled. */
export const poolSlots = 4096;

/** qmail-send's side. */
export class PoolGiver {
  private next = 0;

  private constructor(
    private readonly sys: Sys,
    readonly dir: string,
    private enabled: boolean,
  ) {}

  /** The queue's pool, with the hidden leftovers of an earlier run removed; disabled when the
   *  queue has no pool/ (a queue made by another qmail). */
  static async open(sys: Sys, queueDir: string): Promise<PoolGiver> {
    const dir = `${queueDir}/${poolDirName}`;
    let names: string[];
    try {
      names = await sys.fs.readdir(dir);
    } catch (e) {
      if (e instanceof SysError) return new PoolGiver(sys, dir, false);
      throw e;
    }
    for (const name of names.filter((n) => n.startsWith('.')).sort()) {
      await sys.fs.unlink(`${dir}/${name}`).catch((e: unknown) => {
        if (!(e instanceof SysError)) throw e;
      });
    }
    return new PoolGiver(sys, dir, true);
  }

  /** Step 1 of a give: `path` leaves its directory for a hidden name in the pool. 'gone' when
   *  path did not exist (as an unlink's ENOENT); 'kept' when there is no pool, or the rename failed
   *  for a reason of the pool's (the caller unlinks it as qmail does). Other errors are thrown
   *  (the caller's "unable to unlink" path). */
  async retire(path: string, hidden: string): Promise<'pooled' | 'gone' | 'kept'> {
    if (!this.enabled) return 'kept';
    try {
      await this.sys.fs.rename(path, `${this.dir}/${hidden}`);
      return 'pooled';
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (isSysError(e, 'ENOENT')) {
        // path gone, or pool/ gone: only the first is an answer.
        if (await exists(this.sys, this.dir)) return 'gone';
        this.enabled = false;
        return 'kept';
      }
      if (isSysError(e, 'EXDEV') || isSysError(e, 'ENOSPC') || isSysError(e, 'EACCES') || isSysError(e, 'EPERM')) return 'kept';
      throw e;
    }
  }

  /** Step 3 of a give, once the old name's removal is durable: the file is free. A failure leaves
   *  the hidden name, removed at the next start. */
  async publish(hidden: string): Promise<void> {
    const slot = this.next;
    this.next = (this.next + 1) % poolSlots;
    await this.sys.fs.rename(`${this.dir}/${hidden}`, `${this.dir}/${slot}`).catch((e: unknown) => {
      if (!(e instanceof SysError)) throw e;
    });
  }
}

/** todo-proc's side. */
export class PoolTaker {
  private names: string[] = [];

  constructor(
    private readonly sys: Sys,
    readonly dir: string,
  ) {}

  static forQueue(sys: Sys, queueDir: string): PoolTaker {
    return new PoolTaker(sys, `${queueDir}/${poolDirName}`);
  }

  /** Reads the pool's free names (a batch calls it once when it has none left). */
  async refill(): Promise<void> {
    if (this.names.length > 0) return;
    try {
      const all = await this.sys.fs.readdir(this.dir);
      // Taken from the end: the highest slots first, the ones a give reaches last.
      this.names = all.filter((n) => !n.startsWith('.')).sort((a, b) => Number(a) - Number(b));
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      this.names = [];
    }
  }

  /** A recycled file, renamed to `path` (replacing what was there) and open for writing at offset
   *  0; its old bytes are still in it: the caller writes the new ones and truncates to their
   *  length. null when the pool has nothing to give: the caller creates the file. */
  async take(path: string): Promise<Fd | null> {
    for (let name = this.names.pop(); name !== undefined; name = this.names.pop()) {
      try {
        await this.sys.fs.rename(`${this.dir}/${name}`, path);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        if (isSysError(e, 'ENOENT')) continue; // that slot was emptied meanwhile (queue-fix)
        return null;
      }
      try {
        return await this.sys.fs.open(path, O.WRONLY);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        // Not ours to write (a stray file with another owner): it goes, and the caller creates.
        await this.sys.fs.unlink(path).catch((u: unknown) => {
          if (!(u instanceof SysError)) throw u;
        });
        return null;
      }
    }
    return null;
  }
}

async function exists(sys: Sys, path: string): Promise<boolean> {
  try {
    await sys.fs.lstat(path);
    return true;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return false;
  }
}
