// The checker's view of SimFs: live state, durable state and pending operations must agree, and
// every count the free-number rule relies on must match a recount. Slow (it replays everything);
// tests call it after each step, the simulator never does.

import { bySeq, replayEntries, replayInode, type EntryOp, type InodeOp } from './image.ts';
import { rootIno, type Inode } from './inode.ts';
import type { Durability } from './durable.ts';
import type { Table } from './table.ts';

interface Recount {
  /** Live names per ino. */
  links: Map<number, number>;
  /** Durable entries plus pending set-sides per ino. */
  refs: Map<number, number>;
  /** Pending entry-op sides per directory. */
  sides: Map<number, number>;
  entryOps: EntryOp[];
  inodeOps: Map<number, InodeOp[]>;
  used: number;
}

/** Live = durable + every pending operation, link counts match names, pins match references. */
export function checkInvariants(table: Table, dura: Durability): void {
  const c = recount(table, dura);
  if (c.used !== table.used) fail(`used ${table.used} != ${c.used}`);
  for (const ino of table.freeNumbers()) if (table.find(ino) !== undefined) fail(`free number ${ino} in use`);
  const tracking = dura.profile !== 'sync';
  const entries = replayEntries((d) => table.get(d).durEntries ?? new Map<string, number>(), c.entryOps);
  for (const inode of table.all()) {
    if (table.find(inode.ino) !== inode) fail(`table key ${inode.ino}`);
    checkLive(table, inode, c);
    if (!tracking) continue;
    if (inode.ino !== rootIno && inode.refs !== (c.refs.get(inode.ino) ?? 0)) fail(`inode ${inode.ino} refs ${inode.refs}`);
    if (inode.pendingSides !== (c.sides.get(inode.ino) ?? 0)) fail(`inode ${inode.ino} pendingSides`);
    const im = replayInode(inode.dur, c.inodeOps.get(inode.ino) ?? []);
    const live = inode.image();
    if (im.mode !== live.mode || im.uid !== live.uid || im.gid !== live.gid || !sameBytes(im.data, live.data)) {
      fail(`inode ${inode.ino}: durable + pending != live`);
    }
    if (inode.entries !== null) {
      const durable = entries.get(inode.ino) ?? inode.durEntries ?? new Map<string, number>();
      const a = [...durable].sort().join();
      const b = [...inode.entries].sort().join();
      if (a !== b) fail(`dir ${inode.ino}: durable + pending entries ${a} != live ${b}`);
    }
  }
}

function recount(table: Table, dura: Durability): Recount {
  const c: Recount = { links: new Map(), refs: new Map(), sides: new Map(), entryOps: [], inodeOps: new Map(), used: 0 };
  const entryOps = new Set<EntryOp>();
  const inodeOp = (op: InodeOp): void => {
    c.inodeOps.set(op.ino, [...(c.inodeOps.get(op.ino) ?? []), op]);
  };
  for (const op of dura.journal) {
    if (op.t === 'entry') entryOps.add(op);
    else inodeOp(op);
  }
  for (const inode of table.all()) {
    if (!inode.dead && inode.kind === 'file') c.used += inode.size;
    for (const ino of inode.entries?.values() ?? []) bump(c.links, ino);
    for (const ino of inode.durEntries?.values() ?? []) bump(c.refs, ino);
    for (const chain of inode.names?.values() ?? []) for (const op of chain) entryOps.add(op);
    inode.chain.forEach(inodeOp);
  }
  for (const op of entryOps) {
    for (const s of op.sides) {
      bump(c.sides, s.dir);
      if (s.ino !== null) bump(c.refs, s.ino);
    }
  }
  c.entryOps = [...entryOps].sort(bySeq);
  for (const ops of c.inodeOps.values()) ops.sort(bySeq);
  return c;
}

/** Link counts, the dead flag, subdirectory counts and parent pointers agree with the live tree. */
function checkLive(table: Table, inode: Inode, c: Recount): void {
  const want = inode.ino === rootIno ? 1 : (c.links.get(inode.ino) ?? 0);
  if (inode.links !== want) fail(`inode ${inode.ino} links ${inode.links} != ${want}`);
  if (inode.dead !== (inode.links === 0 && inode.opens === 0)) fail(`inode ${inode.ino} dead flag`);
  if (inode.entries === null) return;
  let subdirs = 0;
  for (const ino of inode.entries.values()) {
    const child = table.get(ino);
    if (child.entries === null) continue;
    subdirs++;
    if (child.parent !== inode.ino) fail(`dir ${ino} parent ${child.parent} != ${inode.ino}`);
  }
  if (inode.subdirs !== subdirs) fail(`dir ${inode.ino} subdirs ${inode.subdirs} != ${subdirs}`);
}

function bump(m: Map<number, number>, k: number): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function fail(msg: string): never {
  throw new Error(`fs invariant: ${msg}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
