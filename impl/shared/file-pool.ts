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
//            lstat   pool/.ID.i                      one name, a plain file: its inode number X
//            rename  pool/.ID.i → pool/X             free (X is unique: nothing is replaced)
//   take     lstat   pool/X                          a plain file, inode X, one name; its length
//            rename  pool/X → info/S/ID2             (atomic: one taker wins, the other gets ENOENT)
//            write from 0, ftruncate only if it was longer, fsync; fsync info/S and pool/ before
//            todo/ID2 goes (batch.ts)
// Why the hidden step: a file reachable from pool/ may be overwritten with another message's bytes
// at any moment. If its removal from info/S or local/S were not yet durable, a power loss could
// bring back local/S/ID holding another message's recipients beside mess/ID: ID's mail to the
// wrong people. So a file becomes free only after its old name is durably gone.
// Why pool/ is fsynced by the taker: on a file system whose renames are not atomic across a crash,
// pool/X could come back beside info/S/ID2; the one-name check (below) then keeps it from being
// handed out again, and the fsync makes that state rare.
// Why names by inode and a counted bound (not slots 0 … 4095 in turn, as before): a give never
// lands on an occupied name, so it never frees a file there (each free is an ext4 inode free that
// slows later creates); the taker learns the old length from its lstat and skips the ftruncate
// (a threadpool round trip) when the new bytes are at least as long; and both sides can check the
// one-name rule. Past poolSlots free files a give is an unlink, as qmail's.
// Hidden names a killed giver left are removed at its next start (PoolGiver.open). Names that are
// not inode numbers of one-named plain files (a pool from the slot-named version, a crash's double
// name) are dropped by the taker: the file is freed, never handed out.
// Without a pool/ directory (a queue made by another qmail) both sides create and unlink as qmail.
//
// qpool/: the same for qmailq's files (spec/queue.md 8), given by qmail-clean and
// taken by qmail-queue and qmail-queued (impl/queue/enqueue.ts). Differences, and why:
//   * The taker of a mess renames qpool/<X> straight to mess/S/X in one atomic step: a message's
//     number is its mess file's inode number (../shared/spec/queue.md 6.4), so no pid/ name, no
//     link, no unlink, and no state in which the file has two names. A recycled inode gives the
//     new message the old message's number: safe because the old message is fully gone
//     (qmail-send sends foop/ID only after info/S/ID's removal is durable) and the file is
//     published only once its old names' removal is durable (the hidden step, as above).
//   * Before the rename into mess/ the taker sets the file's atime and mtime to now: qmail-send's
//     OSSIFIED cleanup judges mess by its atime, and a recycled file keeps the old message's; seen
//     in mess/ with it, a message being written now could be removed under qmail-queue.
//   * The giver's one-name check matters more here: intd/ID and todo/ID are one inode, and the
//     hidden name is the file's only one only once todo/ID is gone too. Nobody links from qpool/,
//     so a file whose only name is in qpool/ cannot gain a second one meanwhile.
//   * Two givers (qmail-send's and todo-proc's qmail-clean) and any number of takers share it:
//     names are unique per inode, a take is one rename (the loser gets ENOENT and tries the next
//     name), and a giver starting while another gives only removes a hidden name, which frees that
//     file instead of recycling it.
//   * Only intd/todo files are given: qmail-clean unlinks mess as qmail does. A remote delivery
//     streams its mess from an open fd, and one that outlived its qmail-send (a spawner orphaned
//     by a killed qmail-start) would read a later message's bytes out of a recycled inode; an
//     unlinked file keeps its bytes for its readers. Nothing reads an intd/todo after qmail-clean's
//     todo/ID (todo-proc has closed it before asking). A taken file may become a mess or an intd.
// Both pools are bounded by a count the giver keeps (recounted every recountEvery gives, as takers
// empty it meanwhile): past poolSlots free files it unlinks as qmail does instead of giving.

import type { Fd, Stat, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';

export const poolDirName = 'pool';
/** qmailq's pool: given intd/todo files, taken as mess or intd (spec/queue.md 8). */
export const qpoolDirName = 'qpool';
/** Files the pool holds at most: a few times the messages in flight in todo-proc's batches and
 *  qmail-send's deliveries, so that in steady state nearly every file is recycled. */
export const poolSlots = 4096;
/** The by-inode giver recounts the pool's files every this many gives (takers empty it meanwhile). */
const recountEvery = 256;

export interface PoolOptions {
  /** The pool's directory under the queue; default pool/. */
  dirName?: string;
}

/** The giving side: qmail-send (pool/), qmail-clean (qpool/). */
export class PoolGiver {
  /** Free files counted at open and at every recount, plus those published since. */
  private free = 0;
  private sinceCount = 0;

  private constructor(
    private readonly sys: Sys,
    readonly dir: string,
    private enabled: boolean,
  ) {}

  /** The queue's pool, with the hidden leftovers of an earlier run removed; disabled when the
   *  queue has no pool/ (a queue made by another qmail). */
  static async open(sys: Sys, queueDir: string, opts: PoolOptions = {}): Promise<PoolGiver> {
    const dir = `${queueDir}/${opts.dirName ?? poolDirName}`;
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
    const giver = new PoolGiver(sys, dir, true);
    giver.free = names.filter((n) => !n.startsWith('.')).length;
    return giver;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Step 1 of a give: `path` leaves its directory for a hidden name in the pool. 'gone' when
   *  path did not exist (as an unlink's ENOENT); 'kept' when there is no pool, or the rename failed
   *  for a reason of the pool's (the caller unlinks it as qmail does). Other errors are thrown
   *  (the caller's "unable to unlink" path). */
  async retire(path: string, hidden: string): Promise<'pooled' | 'gone' | 'kept'> {
    if (!this.enabled) return 'kept';
    // A full pool (nobody takes: e.g. a queue drained while nothing arrives) costs a give
    // nothing but its count: the file is unlinked as qmail does.
    if (++this.sinceCount >= recountEvery) await this.recount();
    if (this.free >= poolSlots) return 'kept';
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


  /** A give that cannot be completed (its old name's removal is not known durable): the hidden
   *  name goes, and the file with it unless another name holds it. */
  async discard(hidden: string): Promise<void> {
    await this.sys.fs.unlink(`${this.dir}/${hidden}`).catch((e: unknown) => {
      if (!(e instanceof SysError)) throw e;
    });
  }

  /** Step 3 of a give, once the old name's removal is durable: free under its inode number, if
   *  the hidden name is its only one and the pool has room; else the hidden name goes. A failing
   *  rename leaves the hidden name, removed at the next start. */
  async publish(hidden: string): Promise<void> {
    const from = `${this.dir}/${hidden}`;
    let st: Stat;
    try {
      st = await this.sys.fs.lstat(from);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return; // removed by a giver starting meanwhile: the file is freed, not recycled
    }
    if (st.kind !== 'file' || st.nlink !== 1 || this.free >= poolSlots) return this.discard(hidden);
    try {
      await this.sys.fs.rename(from, `${this.dir}/${st.ino}`);
      this.free++;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }

  private async recount(): Promise<void> {
    this.sinceCount = 0;
    try {
      this.free = (await this.sys.fs.readdir(this.dir)).filter((n) => !n.startsWith('.')).length;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }
}

/** A file taken from a pool, open for writing, and its length then. */
export interface Taken {
  fd: Fd;
  size: number;
}

/** The taking side: todo-proc (pool/: takeAt), qmail-queue and qmail-queued (qpool/: takeNamed,
 *  takeAt). */
export class PoolTaker {
  private names: string[] = [];
  /** The directory did not exist: a queue made by another qmail, nothing to take ever. */
  private missing = false;

  constructor(
    private readonly sys: Sys,
    readonly dir: string,
  ) {}

  static forQueue(sys: Sys, queueDir: string, dirName: string = poolDirName): PoolTaker {
    return new PoolTaker(sys, `${queueDir}/${dirName}`);
  }

  /** Free names read and not yet tried (a long-lived taker may space its refills on it). */
  get held(): number {
    return this.names.length;
  }

  /** Reads the pool's free names (a batch calls it once when it has none left). */
  async refill(): Promise<void> {
    if (this.names.length > 0 || this.missing) return;
    try {
      const all = await this.sys.fs.readdir(this.dir);
      this.names = all.filter((n) => !n.startsWith('.'));
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (isSysError(e, 'ENOENT')) this.missing = true;
      this.names = [];
    }
  }

  /** qpool/: a free file X renamed to pathOf(X), with atime and mtime set to touchMs first, and
   *  open for writing at offset 0 (its old bytes still in it). null when the pool has nothing to
   *  give. pathOf(X) must be a name nothing else uses (mess/S/X: the inode is ours alone). size is
   *  the file's length when taken: the caller cuts it only if it writes less. */
  async takeNamed(pathOf: (ino: number) => string, touchMs: number): Promise<Taken & { ino: number } | null> {
    for (let name = this.names.pop(); name !== undefined; name = this.names.pop()) {
      const ino = Number(name);
      const from = `${this.dir}/${name}`;
      const size = /^[0-9]{1,16}$/.test(name) ? await this.freeSize(from, ino) : null;
      if (size === null) continue;
      const path = pathOf(ino);
      try {
        await this.sys.fs.utimes(from, touchMs, touchMs);
        await this.sys.fs.rename(from, path);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        if (isSysError(e, 'ENOENT')) continue; // taken by another qmail-queue meanwhile
        return null;
      }
      const fd = await this.openTaken(path);
      if (fd !== null) return { fd, ino, size };
    }
    return null;
  }

  /** A free file renamed to `path` (replacing what was there: an earlier attempt's leftover) and
   *  open for writing at offset 0, its old bytes still in it: the caller writes the new ones and
   *  cuts the file only if it was longer (size). null when the pool has nothing to give: the
   *  caller creates the file. A file it cannot open for writing (a stray with another owner) is
   *  unlinked and the next one tried. */
  async takeAt(path: string): Promise<Taken | null> {
    for (let name = this.names.pop(); name !== undefined; name = this.names.pop()) {
      const from = `${this.dir}/${name}`;
      const size = /^[0-9]{1,16}$/.test(name) ? await this.freeSize(from, Number(name)) : null;
      if (size === null) continue;
      try {
        await this.sys.fs.rename(from, path);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        if (isSysError(e, 'ENOENT')) continue;
        return null;
      }
      const fd = await this.openTaken(path);
      if (fd !== null) return { fd, size };
    }
    return null;
  }

  /** Is qpool/<ino> a plain file with that inode number and no other name? If it has another
   *  name (a crash brought a pool name back beside a name in use) or is misnamed, the pool's name
   *  of it is dropped: it is not free. Its size when free, else null. */
  private async freeSize(from: string, ino: number): Promise<number | null> {
    let st: Stat;
    try {
      st = await this.sys.fs.lstat(from);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return null; // taken meanwhile
    }
    if (st.kind === 'file' && st.nlink === 1 && st.ino === ino) return st.size;
    await this.sys.fs.unlink(from).catch((u: unknown) => {
      if (!(u instanceof SysError)) throw u;
    });
    return null;
  }

  private async openTaken(path: string): Promise<Fd | null> {
    try {
      return await this.sys.fs.open(path, O.WRONLY);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      await this.sys.fs.unlink(path).catch((u: unknown) => {
        if (!(u instanceof SysError)) throw u;
      });
      return null;
    }
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
