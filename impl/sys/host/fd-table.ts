// FdTable: how this process reads and writes each of its fds, shared by HostFs, HostProc and
// HostNet so that a pipe from spawn or an accepted socket is one fd number to every caller.
//
//   file    regular files, directories, ttys: node:fs on the threadpool (positional IO works)
//   direct  a pipe, FIFO or socket opened with O_NONBLOCK: one synchronous syscall, EAGAIN and all
//   stream  a pipe, FIFO or socket with blocking semantics: a StreamFd (net.Socket underneath)
//
// An fd we did not open (inherited 0, 1, 2, 3...) is classified with one fstat on first use and
// treated as blocking, as qmail's programs expect, whatever O_NONBLOCK its description carries.

import { fstat } from 'node:fs';
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import type { FileKind } from '../types.ts';
import { socketOnFd, StreamFd } from './stream-fd.ts';
import { sysErrorFrom } from './errors.ts';
import { kindOf } from './stat.ts';

export type FdEntry = { kind: 'file' } | { kind: 'direct' } | { kind: 'stream'; stream: StreamFd };

const fstatAsync = promisify(fstat);

export class FdTable {
  private readonly entries = new Map<number, Promise<FdEntry>>();
  /** The entries already settled, for HostFs's direct calls (no microtask to learn a kind). */
  private readonly settled = new Map<number, FdEntry>();

  /** How to do IO on fd; classifies an fd we have not seen yet. */
  entry(fd: number): Promise<FdEntry> {
    let e = this.entries.get(fd);
    if (e === undefined) {
      const p = this.classifyInherited(fd);
      e = p;
      this.entries.set(fd, p);
      p.then(
        (v) => {
          if (this.entries.get(fd) === p) this.settled.set(fd, v);
        },
        // A failed fstat (EBADF) must not stick: the number may be opened later.
        () => this.entries.delete(fd),
      );
    }
    return e;
  }

  /** The entry of fd if it is known at once (opened or adopted here, or classified already). */
  known(fd: number): FdEntry | undefined {
    return this.settled.get(fd);
  }

  /** Records an fd this process just opened. `kind` is from fstat, `nonblock` from the open flags. */
  opened(fd: number, kind: FileKind, nonblock: boolean): FdEntry {
    this.dropStale(fd);
    const e = classify(fd, kind, nonblock);
    this.entries.set(fd, Promise.resolve(e));
    this.settled.set(fd, e);
    return e;
  }

  /** Forgets fd at once (its caller closes it: a regular file's, known()). */
  drop(fd: number): void {
    this.entries.delete(fd);
    this.settled.delete(fd);
  }

  /** Takes over a socket Node created (a spawn pipe, an accepted or connected socket). */
  adopt(socket: Socket): StreamFd {
    const fd = (socket as unknown as { _handle: { fd?: unknown } | null })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error('FdTable.adopt: socket has no fd');
    this.dropStale(fd);
    const stream = new StreamFd(fd, socket);
    const e: FdEntry = { kind: 'stream', stream };
    this.entries.set(fd, Promise.resolve(e));
    this.settled.set(fd, e);
    return stream;
  }

  /** The entry of an fd being closed, forgotten; null when it was never classified. */
  async forget(fd: number): Promise<FdEntry | null> {
    const e = this.entries.get(fd);
    this.drop(fd);
    if (e === undefined) return null;
    try {
      return await e;
    } catch {
      return null;
    }
  }

  /** The StreamFd of fd if it has one, without classifying (spawn lends these). */
  async streamOf(fd: number): Promise<StreamFd | null> {
    const e = this.entries.get(fd);
    if (e === undefined) return null;
    const entry = await e.catch(() => null);
    return entry?.kind === 'stream' ? entry.stream : null;
  }

  private async classifyInherited(fd: number): Promise<FdEntry> {
    let mode: number;
    try {
      mode = (await fstatAsync(fd)).mode;
    } catch (e) {
      throw sysErrorFrom(e, 'fstat');
    }
    return classify(fd, kindOf(mode), false);
  }

  /** A new fd number cannot have a live entry: the kernel gave it out, so any entry is stale. */
  private dropStale(fd: number): void {
    this.drop(fd);
  }
}

function classify(fd: number, kind: FileKind, nonblock: boolean): FdEntry {
  if (kind !== 'fifo' && kind !== 'socket') return { kind: 'file' };
  if (nonblock) return { kind: 'direct' };
  try {
    return { kind: 'stream', stream: new StreamFd(fd, socketOnFd(fd)) };
  } catch {
    // A socket type libuv cannot carry (UDP, packet): blocking threadpool IO is all that is left.
    return { kind: 'file' };
  }
}
