// qmail's getln over an fd: lines with their LF, then the partial last line. Reads in chunks and
// stops as soon as the caller stops, so nothing after a terminating line is read (qmail-newu stops
// at the '.' line). Lines are copies: a caller may keep them.

import type { Fd, Sys } from '../sys/types.ts';
import { ioChunkBytes } from '../../spec/limits.ts';

export interface Line {
  /** The line's bytes, LF included when matched. */
  line: Uint8Array;
  /** false only for the last, LF-less piece at end of file, which may be empty (qmail's EOF). */
  matched: boolean;
}

export class LineTooLong extends Error {
  constructor(readonly maxLineBytes: number) {
    super(`getln: a line longer than ${maxLineBytes} bytes`);
    this.name = 'LineTooLong';
  }
}

/** Yields every line of fd; the last item always has matched = false (possibly an empty line).
 *  Throws LineTooLong when a line would exceed maxLineBytes (a bound, not a truncation). */
export async function* getln(sys: Sys, fd: Fd, maxLineBytes: number): AsyncGenerator<Line> {
  let pending = new Uint8Array(0);
  const buf = new Uint8Array(ioChunkBytes);
  for (;;) {
    const n = await sys.fs.read(fd, buf, 0, buf.length, null);
    if (n === 0) {
      yield { line: pending, matched: false };
      return;
    }
    const data = concat2(pending, buf.subarray(0, n));
    let start = 0;
    for (let lf = data.indexOf(0x0a); lf !== -1; lf = data.indexOf(0x0a, start)) {
      if (lf + 1 - start > maxLineBytes) throw new LineTooLong(maxLineBytes);
      yield { line: data.slice(start, lf + 1), matched: true };
      start = lf + 1;
    }
    pending = data.slice(start);
    if (pending.length > maxLineBytes) throw new LineTooLong(maxLineBytes);
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
