// The durability overlay: records every mutation as an operation, keeps it pending until the
// profile's fsync rule makes it durable, and commits it into the durable images. The rules are
// written down in spec/faults.md; crash.ts decides which pending operations a power loss keeps.
//
//   sync          nothing is recorded: live state is durable state.
//   posix         inode ops (write, trunc, meta) queue on the inode until fsync of that inode;
//                 entry ops queue per (directory, name) until fsync of that directory.
//   ext4-ordered  meta and entry ops queue in one journal, committed whole by any fsync;
//                 data ops (write, trunc) queue on the inode until fsync of that inode.

import type { CrashProfile } from '../fs-api.ts';
import type { EntryOp, EntrySide, MetaOp } from './image.ts';
import type { Inode } from './inode.ts';
import type { Table } from './table.ts';

export class Durability {
  private seq = 0;
  /** ext4-ordered: metadata and entry operations not yet committed, oldest first. */
  journal: (MetaOp | EntryOp)[] = [];

  constructor(
    readonly profile: CrashProfile,
    private readonly table: Table,
  ) {}

  write(inode: Inode, pos: number, bytes: Uint8Array, atMs: number): void {
    if (this.profile === 'sync') return;
    inode.chain.push({ t: 'write', seq: this.seq++, ino: inode.ino, pos, bytes: bytes.slice(), atMs });
  }

  trunc(inode: Inode, len: number, atMs: number): void {
    if (this.profile === 'sync') return;
    inode.chain.push({ t: 'trunc', seq: this.seq++, ino: inode.ino, len, atMs });
  }

  /** chmod, chown or utimes just changed the inode's metadata. */
  meta(inode: Inode): void {
    if (this.profile === 'sync') return;
    const op: MetaOp = {
      t: 'meta', seq: this.seq++, ino: inode.ino, mode: inode.mode, uid: inode.node.uid, gid: inode.node.gid,
      atimeMs: inode.atimeMs, mtimeMs: inode.mtimeMs, ctimeMs: inode.ctimeMs,
    };
    if (this.profile === 'posix') inode.chain.push(op);
    else this.journal.push(op);
  }

  /** A directory entry changed. Pins the directories and the inodes it names until committed. */
  entry(sides: EntrySide[], atMs: number): void {
    if (this.profile === 'sync') return;
    const op: EntryOp = { t: 'entry', seq: this.seq++, sides, atMs };
    for (const side of sides) {
      const dir = this.table.get(side.dir);
      dir.pendingSides++;
      if (side.ino !== null) this.table.get(side.ino).refs++;
      if (this.profile === 'posix') pushChain(dir, side.name, op);
    }
    if (this.profile === 'ext4-ordered') this.journal.push(op);
  }

  /** fsync(2) on any description of `inode`. */
  fsync(inode: Inode): void {
    if (this.profile === 'sync') return;
    // ext4: the journal commit carries every metadata operation so far, not only this inode's.
    if (this.profile === 'ext4-ordered') this.commitJournal();
    if (this.profile === 'posix' && inode.names !== null) this.commitNames(inode);
    inode.chain = [];
    // The inode's every pending operation is now durable, so the durable image is the live one.
    inode.dur = inode.image();
  }

  /** Operations a crash could still lose. */
  pending(): number {
    let n = this.journal.length;
    const entries = new Set<EntryOp>();
    for (const inode of this.table.all()) {
      n += inode.chain.length;
      for (const chain of inode.names?.values() ?? []) for (const op of chain) entries.add(op);
    }
    return n + entries.size;
  }

  /** After a crash every surviving operation has been folded into the new images. */
  reset(): void {
    this.journal = [];
  }

  private commitJournal(): void {
    const journal = this.journal;
    this.journal = [];
    for (const op of journal) {
      if (op.t === 'entry') this.applyEntry(op);
      else applyMeta(this.table.get(op.ino), op);
    }
  }

  /** posix: every pending entry operation in `dir`, with whatever each rename drags along. */
  private commitNames(dir: Inode): void {
    const names = dir.names;
    if (names === null) throw new Error('fs: commitNames on a non-directory');
    for (const name of [...names.keys()]) {
      const chain = names.get(name);
      const last = chain?.[chain.length - 1];
      if (last !== undefined) this.commitEntry(last);
    }
    if (names.size !== 0) throw new Error(`fs: dir ${dir.ino} still has pending names after fsync`);
  }

  /** posix: commits `op` and, first, every operation before it on each name it touches. A rename
   *  is atomic, so making it durable makes its other name's earlier operations durable too. */
  private commitEntry(op: EntryOp): void {
    for (const side of op.sides) {
      for (;;) {
        const head = this.chainOf(side)[0];
        if (head === undefined) throw new Error(`fs: entry op ${op.seq} missing from its chain`);
        if (head === op) break;
        if (!(head.seq < op.seq)) throw new Error('fs: entry chain out of order');
        this.commitEntry(head);
      }
    }
    for (const side of op.sides) {
      const dir = this.table.get(side.dir);
      const chain = this.chainOf(side);
      chain.shift();
      if (chain.length === 0) dir.names?.delete(side.name);
    }
    this.applyEntry(op);
  }

  private chainOf(side: EntrySide): EntryOp[] {
    const chain = this.table.get(side.dir).names?.get(side.name);
    if (chain === undefined) throw new Error(`fs: no pending chain for ${side.dir}/${side.name}`);
    return chain;
  }

  /** Folds a committed entry operation into the durable tables, then frees what it unpinned. */
  private applyEntry(op: EntryOp): void {
    const unpinned: Inode[] = [];
    for (const side of op.sides) {
      const dir = this.table.get(side.dir);
      const durEntries = dir.durEntries;
      if (durEntries === null) throw new Error(`fs: entry op on non-directory ${side.dir}`);
      const old = durEntries.get(side.name);
      // The new name's pending reference becomes a durable one: its refs count is unchanged.
      if (side.ino === null) durEntries.delete(side.name);
      else durEntries.set(side.name, side.ino);
      if (old !== undefined) {
        const inode = this.table.get(old);
        inode.refs--;
        unpinned.push(inode);
      }
      dir.pendingSides--;
      dir.dur.mtimeMs = op.atMs;
      dir.dur.ctimeMs = op.atMs;
      unpinned.push(dir);
    }
    for (const inode of unpinned) if (this.table.find(inode.ino) === inode) this.table.settle(inode);
  }
}

function pushChain(dir: Inode, name: string, op: EntryOp): void {
  const names = dir.names;
  if (names === null) throw new Error(`fs: entry op on non-directory ${dir.ino}`);
  const chain = names.get(name);
  if (chain === undefined) names.set(name, [op]);
  else chain.push(op);
}

function applyMeta(inode: Inode, op: MetaOp): void {
  const dur = inode.dur;
  dur.mode = op.mode;
  dur.uid = op.uid;
  dur.gid = op.gid;
  dur.atimeMs = op.atimeMs;
  dur.mtimeMs = op.mtimeMs;
  dur.ctimeMs = op.ctimeMs;
}
