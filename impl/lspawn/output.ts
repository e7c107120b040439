// A child's output pipe read to EOF, keeping a bounded prefix: qmail-local's report needs no more than
// truncReportBytes + 1 bytes to be cut as spawn.c cuts it, and qmail-getpw's record is small.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { concat } from '../lib/envelope.ts';

export interface Collected {
  /** The first keepBytes bytes (or all of them). */
  kept: Uint8Array;
  /** How many bytes arrived in all. */
  total: number;
}

const chunkBytes = 4096;

/** Reads fd to EOF (a read error counts as EOF: the child's status tells what happened) and closes it. */
export async function collect(sys: Sys, fd: Fd, keepBytes: number): Promise<Collected> {
  const parts: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  const buf = new Uint8Array(chunkBytes);
  try {
    for (;;) {
      const n = await sys.fs.read(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      const take = Math.min(n, keepBytes - kept);
      if (take > 0) {
        parts.push(buf.slice(0, take));
        kept += take;
      }
    }
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  } finally {
    await sys.fs.close(fd);
  }
  return { kept: concat(parts), total };
}
