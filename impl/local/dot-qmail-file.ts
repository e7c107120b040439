// Finding and reading the controlling .qmail file in the home directory (qmesearch, slurpclose).
// Opened O_NONBLOCK as qmail's open_read is, so that a FIFO named .qmail-x never blocks us.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { dotQmailBytesMax, localText } from '../../spec/local.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { textOf } from './bytes.ts';
import { temp } from './failure.ts';
import { candidates, search, type Candidate, type Probe } from './dot-qmail-lookup.ts';

export interface DotQmail {
  candidate: Candidate;
  forwardOnly: boolean;
  content: Uint8Array;
}

/** The qualifying .qmail file and its content, or null when there is none. */
export async function findDotQmail(sys: Sys, homedir: string, dash: string, ext: string): Promise<DotQmail | null> {
  const open = async (name: string): Promise<{ probe: Probe; handle: Fd | null }> => {
    let fd: Fd;
    try {
      fd = await sys.fs.open(`${homedir}/${textOf(name)}`, O.RDONLY | O.NONBLOCK);
    } catch (e) {
      if (e instanceof SysError) return { probe: { openError: e }, handle: null };
      throw e;
    }
    try {
      return { probe: { mode: (await sys.fs.fstat(fd)).mode }, handle: fd };
    } catch (e) {
      if (e instanceof SysError) return { probe: { fstatError: e }, handle: fd };
      throw e;
    }
  };
  const found = await search(candidates(dash, ext), open, (fd) => closeQuietly(sys, fd));
  if (found === null) return null;
  try {
    return { candidate: found.candidate, forwardOnly: found.forwardOnly, content: await slurp(sys, found.handle) };
  } finally {
    await closeQuietly(sys, found.handle);
  }
}

/** The whole file. qmail's slurpclose failing (a read error, or no memory) is "Out of memory". */
async function slurp(sys: Sys, fd: Fd): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(ioChunkBytes);
    let n: number;
    try {
      n = await sys.fs.read(fd, buf, 0, buf.length, null);
    } catch (e) {
      if (e instanceof SysError) throw temp(localText.noMem);
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > dotQmailBytesMax) throw temp(localText.noMem);
    parts.push(buf.subarray(0, n));
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export async function closeQuietly(sys: Sys, fd: Fd | null): Promise<void> {
  if (fd !== null) await sys.fs.close(fd).catch(() => undefined);
}
