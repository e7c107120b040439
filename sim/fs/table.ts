// The inode table: numbers in use, the pool of freed numbers, and the byte count ENOSPC bounds.
// A number returns to the pool only when nothing can bring its inode back: no live name, no open
// description, and (under posix and ext4-ordered) no durable entry and no pending entry operation
// naming it. Otherwise a crash could resurrect an old inode whose number a new file already holds.

import type { Chooser } from '../fs-api.ts';
import { Inode, rootIno } from './inode.ts';

export class Table {
  private readonly inodes = new Map<number, Inode>();
  /** Freed numbers, reusable. Real kernels reuse them, and qmail names messages by inode. */
  private pool: number[] = [];
  private next = rootIno + 1;
  /** Bytes of live file data (what setCapacity bounds). */
  used = 0;
  /** Bumped whenever a name of a directory or symlink comes or goes (and at a crash): what a
   *  walk through directories finds can change only then. */
  dirNamesGen = 0;
  /** Processes' cwd paths walked to their inodes (path.ts cwdInode), valid for cwdGen. */
  readonly cwds = new Map<string, Inode>();
  cwdGen = -1;

  constructor(private readonly choose: Chooser) {}

  get(ino: number): Inode {
    const inode = this.inodes.get(ino);
    if (inode === undefined) throw new Error(`fs: inode ${ino} not in table`);
    return inode;
  }

  find(ino: number): Inode | undefined {
    return this.inodes.get(ino);
  }

  /** Every inode, by ascending number (the order crash choices are asked in). */
  sorted(): Inode[] {
    return [...this.inodes.values()].sort((a, b) => a.ino - b.ino);
  }

  all(): IterableIterator<Inode> {
    return this.inodes.values();
  }

  /** A number for a new inode: a freed one (picked by `choose`) or, sometimes, a fresh one. */
  alloc(): number {
    let ino = this.next;
    if (this.pool.length > 0) {
      const c = this.choose(this.pool.length + 1);
      if (c < this.pool.length) {
        ino = this.pool[c] as number;
        this.pool[c] = this.pool[this.pool.length - 1] as number;
        this.pool.pop();
      }
    }
    if (ino === this.next) this.next++;
    if (!Number.isSafeInteger(ino) || this.inodes.has(ino)) throw new Error(`fs: bad inode number ${ino}`);
    return ino;
  }

  add(inode: Inode): void {
    if (this.inodes.has(inode.ino)) throw new Error(`fs: inode ${inode.ino} already in table`);
    this.inodes.set(inode.ino, inode);
  }

  /** Call whenever an inode's links, opens, refs or pendingSides went down. */
  settle(inode: Inode): void {
    if (!inode.dead && inode.links === 0 && inode.opens === 0) {
      inode.dead = true;
      if (inode.kind === 'file') this.used -= inode.size;
    }
    if (inode.dead && inode.refs === 0 && inode.pendingSides === 0 && inode.ino !== rootIno) this.release(inode);
  }

  private release(inode: Inode): void {
    if (inode.refs < 0 || inode.pendingSides < 0) throw new Error(`fs: inode ${inode.ino} counts negative`);
    this.inodes.delete(inode.ino);
    this.pool.push(inode.ino);
    // A freed directory's durable entries no longer pin their inodes.
    for (const child of inode.durEntries?.values() ?? []) {
      const c = this.get(child);
      c.refs--;
      this.settle(c);
    }
  }

  /** After a crash: the surviving inodes replace the table; every other number is free. */
  replace(survivors: Inode[]): void {
    this.dirNamesGen++;
    const keep = new Set(survivors.map((i) => i.ino));
    for (const ino of this.inodes.keys()) if (!keep.has(ino)) this.pool.push(ino);
    this.inodes.clear();
    this.used = 0;
    for (const inode of survivors) {
      this.add(inode);
      if (inode.kind === 'file') this.used += inode.size;
    }
  }

  /** Checker access: the free pool must be disjoint from the table. */
  freeNumbers(): readonly number[] {
    return this.pool;
  }
}
