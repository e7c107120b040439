// Power loss: which pending operations survive, decided by a Chooser in a fixed order so that an
// explorer can enumerate every crash state (spec/faults.md, "Choices"). The result is the list of
// inodes of the rebuilt tree; the caller installs it.
//
// Order of choices:
//   1. posix: one prefix per (directory, name) chain, directories by ascending ino, names sorted;
//      ext4-ordered: one prefix of the journal.
//   2. for each inode reachable in the resulting tree, by ascending ino, with pending inode ops:
//      one prefix of its chain, then (if the last kept op is a write spanning a sector boundary)
//      where it tears.
// Every answer counts up from "least survives": 0 keeps nothing, n-1 keeps everything.

import type { Chooser, CrashProfile } from '../fs-api.ts';
import {
  bySeq, replayEntries, replayInode, tearPoints, tornWrite,
  type EntryOp, type Image, type InodeOp, type MetaOp, type Op,
} from './image.ts';
import { Inode, rootIno } from './inode.ts';
import type { Table } from './table.ts';

export interface CrashResult {
  survivors: Inode[];
  choices: number;
}

/** Counts and checks the chooser's answers. */
class Asker {
  choices = 0;
  constructor(private readonly choose: Chooser) {}

  pick(n: number): number {
    if (n < 2) return 0;
    this.choices++;
    const a = this.choose(n);
    if (!(Number.isInteger(a) && a >= 0 && a < n)) throw new Error(`fs: chooser answered ${a} to choose(${n})`);
    return a;
  }

  /** How many of `len` pending operations survive. */
  prefix(len: number): number {
    return len === 0 ? 0 : this.pick(len + 1);
  }
}

export function crash(
  table: Table, profile: CrashProfile, journal: readonly (MetaOp | EntryOp)[], choose: Chooser, sectorBytes: number,
): CrashResult {
  if (profile === 'sync') throw new Error('fs: crash() of a sync profile needs no choices');
  const ask = new Asker(choose);
  let entryOps: EntryOp[];
  const metaOps = new Map<number, MetaOp[]>();
  if (profile === 'posix') {
    entryOps = chooseEntryChains(table, ask);
  } else {
    const kept = journal.slice(0, ask.prefix(journal.length));
    entryOps = kept.filter((op) => op.t === 'entry');
    for (const op of kept) if (op.t === 'meta') push(metaOps, op.ino, op);
  }
  const tree = buildTree(table, entryOps);
  const dirTouch = lastEntryTouch(entryOps);
  const survivors: Inode[] = [];
  for (const ino of [...tree.links.keys()].sort((a, b) => a - b)) {
    const inode = table.get(ino);
    const ops: InodeOp[] = [...chooseChain(inode.chain, ask, sectorBytes), ...(metaOps.get(ino) ?? [])].sort(bySeq);
    const image = replayInode(inode.dur, ops);
    const touch = dirTouch.get(ino);
    const lastSeq = ops[ops.length - 1]?.seq ?? -1;
    if (touch !== undefined && touch.seq > lastSeq) {
      image.mtimeMs = touch.atMs;
      image.ctimeMs = touch.atMs;
    }
    survivors.push(rebuilt(ino, image, tree, inode));
  }
  return { survivors, choices: ask.choices };
}

/** posix: a prefix per name; then a rename kept on one name but not the other is cut from both. */
function chooseEntryChains(table: Table, ask: Asker): EntryOp[] {
  const chains: EntryOp[][] = [];
  for (const dir of table.sorted()) {
    const names = dir.names;
    if (names === null) continue;
    for (const name of [...names.keys()].sort()) chains.push(names.get(name) as EntryOp[]);
  }
  const cut = new Map<EntryOp[], number>();
  for (const chain of chains) cut.set(chain, ask.prefix(chain.length));
  const chainOf = (dir: number, name: string): EntryOp[] => table.get(dir).names?.get(name) as EntryOp[];
  const kept = (op: EntryOp): boolean =>
    op.sides.every((s) => {
      const chain = chainOf(s.dir, s.name);
      return chain.indexOf(op) < (cut.get(chain) as number);
    });
  // Cutting only shrinks prefixes, so this reaches a fixpoint.
  for (let changed = true; changed; ) {
    changed = false;
    for (const chain of chains) {
      const n = cut.get(chain) as number;
      const i = chain.slice(0, n).findIndex((op) => op.sides.length > 1 && !kept(op));
      if (i >= 0) {
        cut.set(chain, i);
        changed = true;
      }
    }
  }
  const out = new Set<EntryOp>();
  for (const chain of chains) for (const op of chain.slice(0, cut.get(chain))) out.add(op);
  return [...out].sort(bySeq);
}

/** A prefix of the inode's pending operations, the last write possibly torn at a sector boundary. */
function chooseChain(chain: readonly InodeOp[], ask: Asker, sectorBytes: number): InodeOp[] {
  const ops = chain.slice(0, ask.prefix(chain.length));
  const last = ops[ops.length - 1];
  if (last?.t === 'write') {
    const points = tearPoints(last, sectorBytes);
    const t = ask.pick(points.length + 1);
    const at = points[t];
    if (at !== undefined) ops[ops.length - 1] = tornWrite(last, at);
  }
  return ops;
}

interface Tree {
  entries: Map<number, Map<string, number>>;
  parents: Map<number, number>;
  /** Every reachable inode and how many names it has. */
  links: Map<number, number>;
}

/** The durable tree with the surviving entry operations applied, walked from `/`. Whatever is not
 *  reached (including directories caught in a rename cycle) is gone. */
function buildTree(table: Table, entryOps: readonly EntryOp[]): Tree {
  const durable = (dir: number): ReadonlyMap<string, number> => table.get(dir).durEntries ?? new Map<string, number>();
  const changed = replayEntries(durable, entryOps);
  const tree: Tree = { entries: new Map(), parents: new Map([[rootIno, rootIno]]), links: new Map([[rootIno, 1]]) };
  const queue = [rootIno];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const entries = new Map(changed.get(dir) ?? durable(dir));
    tree.entries.set(dir, entries);
    for (const name of [...entries.keys()].sort()) {
      const ino = entries.get(name) as number;
      const child = table.get(ino);
      tree.links.set(ino, (tree.links.get(ino) ?? 0) + 1);
      if (child.entries === null) continue;
      // Each rename of a directory removes its previous name, so one directory has one name.
      if (tree.parents.has(ino)) throw new Error(`fs: crash tree reaches directory ${ino} twice`);
      tree.parents.set(ino, dir);
      queue.push(ino);
    }
  }
  return tree;
}

/** For each directory, the latest surviving entry operation that changed it (for its mtime). */
function lastEntryTouch(entryOps: readonly EntryOp[]): Map<number, { seq: number; atMs: number }> {
  const out = new Map<number, { seq: number; atMs: number }>();
  for (const op of entryOps) for (const side of op.sides) out.set(side.dir, { seq: op.seq, atMs: op.atMs });
  return out;
}

/** A fresh inode holding the surviving image; everything about it is durable. */
function rebuilt(ino: number, image: Image, tree: Tree, old: Inode): Inode {
  if (image.kind !== old.kind) throw new Error(`fs: inode ${ino} changed kind across crash`);
  const inode = new Inode(ino, image);
  inode.dur = replayInode(image, []);
  inode.links = tree.links.get(ino) ?? 0;
  inode.refs = ino === rootIno ? 0 : inode.links;
  const entries = tree.entries.get(ino);
  if (entries !== undefined) {
    inode.parent = tree.parents.get(ino) ?? rootIno;
    for (const [name, child] of entries) {
      inode.entries?.set(name, child);
      inode.durEntries?.set(name, child);
      if (tree.entries.has(child)) inode.subdirs++;
    }
  }
  return inode;
}

function push<K, V extends Op>(map: Map<K, V[]>, key: K, v: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [v]);
  else list.push(v);
}
