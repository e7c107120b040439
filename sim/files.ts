// Open file descriptions (what open(2), pipe and socketpair create, shared by dup and by spawn) and
// the kernel-wide state hanging off them: flocks (by inode) and FIFO buffers (by inode). An fd
// table (sim/proc.ts) maps small integers to these; the last close of a description releases its
// channel ends, its flock and its SimFs OpenFile.

import type { Stat } from '../impl/sys/types.ts';
import { O, S } from '../impl/sys/types.ts';
import type { OpenFile, SimFsApi } from './fs-api.ts';
import { assert } from './assert.ts';
import { Channel } from './pipe.ts';
import { WaitQueue } from './wait-queue.ts';

/** A regular file or directory: data goes through SimFs. */
export interface FileDesc {
  readonly type: 'file';
  refs: number;
  readonly of: OpenFile;
  locked: boolean;
}

/** A pipe end, a socket, or an open FIFO: data goes through kernel channels. */
export interface ChanDesc {
  readonly type: 'chan';
  refs: number;
  readonly kind: 'fifo' | 'socket';
  readonly nonblock: boolean;
  readonly rx: Channel | null;
  readonly tx: Channel | null;
  /** For a named FIFO: its SimFs description and its shared state. */
  readonly of: OpenFile | null;
  readonly fifo: FifoState | null;
  /** For an anonymous pipe or socket: what fstat answers. */
  readonly stat: Stat | null;
}

export type Desc = FileDesc | ChanDesc;

/** One FIFO inode while anyone has it open. Opens are counted so that a blocking open can wait for
 *  "some peer has opened since I started", as Linux's pipe counters do. */
export interface FifoState {
  readonly ino: number;
  readonly chan: Channel;
  readerOpens: number;
  writerOpens: number;
  readonly opens: WaitQueue;
}

interface Flock {
  holder: FileDesc;
  readonly waiters: WaitQueue;
}

export class OpenFiles {
  private readonly fifos = new Map<number, FifoState>();
  private readonly locks = new Map<number, Flock>();
  private anonIno = 0;

  constructor(
    private readonly fs: SimFsApi,
    readonly pipeBytes: number,
  ) {}

  file(of: OpenFile): FileDesc {
    return { type: 'file', refs: 0, of, locked: false };
  }

  fifoState(ino: number): FifoState {
    let f = this.fifos.get(ino);
    if (f === undefined) {
      f = { ino, chan: new Channel(this.pipeBytes), readerOpens: 0, writerOpens: 0, opens: new WaitQueue() };
      this.fifos.set(ino, f);
    }
    return f;
  }

  findFifo(ino: number): FifoState | undefined {
    return this.fifos.get(ino);
  }

  /** Releases a description that never made it into an fd table (EMFILE, a failed open). */
  discard(d: Desc): void {
    assert(d.refs === 0, 'discard an uninstalled description');
    d.refs = 1;
    this.release(d);
  }

  /** A description of an open named FIFO; counts it as reader and/or writer at once. */
  fifo(of: OpenFile, f: FifoState, read: boolean, write: boolean): ChanDesc {
    assert(read || write, 'fifo opened for reading or writing');
    if (read) {
      f.chan.addReader();
      f.readerOpens++;
    }
    if (write) {
      f.chan.addWriter();
      f.writerOpens++;
    }
    f.opens.wakeAll();
    const nonblock = (of.flags & O.NONBLOCK) !== 0;
    return { type: 'chan', refs: 0, kind: 'fifo', nonblock, rx: read ? f.chan : null, tx: write ? f.chan : null, of, fifo: f, stat: null };
  }

  /** A connected pair, both directions: spawn's 'pipe' fds and TCP connections. */
  socketPair(kind: 'fifo' | 'socket', uid: number, gid: number, nowMs: number): [ChanDesc, ChanDesc] {
    const ab = new Channel(this.pipeBytes);
    const ba = new Channel(this.pipeBytes);
    return [this.end(kind, ba, ab, uid, gid, nowMs), this.end(kind, ab, ba, uid, gid, nowMs)];
  }

  /** One end of a one-way channel; either side may be null. */
  end(kind: 'fifo' | 'socket', rx: Channel | null, tx: Channel | null, uid: number, gid: number, nowMs: number): ChanDesc {
    rx?.addReader();
    tx?.addWriter();
    const type = kind === 'fifo' ? S.IFIFO : S.IFSOCK;
    const ino = ++this.anonIno;
    const stat: Stat = {
      dev: 0, ino, mode: type | 0o600, kind, nlink: 1, uid, gid, size: 0,
      atimeMs: nowMs, mtimeMs: nowMs, ctimeMs: nowMs,
    };
    return { type: 'chan', refs: 0, kind, nonblock: false, rx, tx, of: null, fifo: null, stat };
  }

  /** /dev/null: reads EOF, writes vanish. Stands in for a child's missing fd 0, 1 or 2, as Node's
   *  spawn opens /dev/null there on the host. */
  devNull(nowMs: number): ChanDesc {
    const chrMode = 0o020000 | 0o666;
    const stat: Stat = {
      dev: 0, ino: 0, mode: chrMode, kind: 'other', nlink: 1, uid: 0, gid: 0, size: 0,
      atimeMs: nowMs, mtimeMs: nowMs, ctimeMs: nowMs,
    };
    const d = this.end('fifo', new Channel(this.pipeBytes), new Channel(this.pipeBytes, 'discard'), 0, 0, nowMs);
    return { ...d, stat };
  }

  retain(d: Desc): void {
    d.refs++;
  }

  /** Drops one reference; the last one releases everything the description holds. */
  release(d: Desc): void {
    assert(d.refs > 0, 'release of a live description');
    if (--d.refs > 0) return;
    if (d.type === 'file') {
      if (d.locked) this.unlock(d);
      this.fs.close(d.of);
      return;
    }
    d.rx?.dropReader();
    d.tx?.dropWriter();
    if (d.fifo !== null) {
      d.fifo.opens.wakeAll();
      if (d.fifo.chan.readers + d.fifo.chan.writers === 0) this.fifos.delete(d.fifo.ino);
    }
    if (d.of !== null) this.fs.close(d.of);
  }

  /** flock(LOCK_EX): true when taken (or already held by d), else the queue to wait on. */
  lock(d: FileDesc): true | WaitQueue {
    const cur = this.locks.get(d.of.ino);
    if (cur === undefined) {
      this.locks.set(d.of.ino, { holder: d, waiters: new WaitQueue() });
      d.locked = true;
      return true;
    }
    return cur.holder === d ? true : cur.waiters;
  }

  unlock(d: FileDesc): void {
    const cur = this.locks.get(d.of.ino);
    if (cur === undefined || cur.holder !== d) return;
    this.locks.delete(d.of.ino);
    d.locked = false;
    cur.waiters.wakeAll();
  }

  /** Power loss: every description is gone without a close (SimFs.crash invalidates them). */
  reset(): void {
    this.fifos.clear();
    this.locks.clear();
  }
}
