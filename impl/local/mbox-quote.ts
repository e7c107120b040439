// An mbox entry's body (../shared/spec/local.md 2.7): the message line by line with >From quoting
// (a line that is `From ` after any number of `>` gets one more `>`, notqmail gfrom.c), an LF after
// an unterminated last line, then one empty line. Pure and incremental: a line is never held, only
// how many `>` and how much of `From ` began it, so any line length costs no memory.

const from = [0x46, 0x72, 0x6f, 0x6d, 0x20]; // "From "
const gt = 0x3e;
const lf = 0x0a;

export class MboxQuoter {
  /** At a line's start, before we know whether it is a From line. */
  private deciding = true;
  private gts = 0;
  private matched = 0;
  private last = -1;

  /** The output for one chunk of message. */
  push(chunk: Uint8Array): Uint8Array {
    const out: number[] = [];
    const parts: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (!this.deciding) {
        const nl = chunk.indexOf(lf, i);
        const end = nl < 0 ? chunk.length : nl + 1;
        flush(out, parts);
        parts.push(chunk.subarray(i, end));
        i = end;
        if (nl >= 0) this.startLine();
        continue;
      }
      this.decide(chunk[i] as number, out);
      i++;
    }
    if (chunk.length > 0) this.last = chunk[chunk.length - 1] as number;
    flush(out, parts);
    return join(parts);
  }

  /** The tail: an undecided line start, the LF of an unterminated last line, the empty line. */
  end(): Uint8Array {
    const out: number[] = [];
    if (this.deciding) this.pending(out, false);
    if (this.last !== -1 && this.last !== lf) out.push(lf);
    out.push(lf);
    return Uint8Array.from(out);
  }

  private decide(b: number, out: number[]): void {
    if (this.matched === 0 && b === gt) {
      this.gts++;
      return;
    }
    if (b === from[this.matched]) {
      this.matched++;
      if (this.matched === from.length) {
        this.pending(out, true);
        this.deciding = false;
      }
      return;
    }
    this.pending(out, false);
    this.deciding = false;
    out.push(b);
    if (b === lf) this.startLine();
  }

  /** The bytes held back at the line's start, with the quoting `>` when it is a From line. */
  private pending(out: number[], isFrom: boolean): void {
    if (isFrom) out.push(gt);
    for (let k = 0; k < this.gts; k++) out.push(gt);
    for (let k = 0; k < this.matched; k++) out.push(from[k] as number);
  }

  private startLine(): void {
    this.deciding = true;
    this.gts = 0;
    this.matched = 0;
  }
}

function flush(out: number[], parts: Uint8Array[]): void {
  if (out.length === 0) return;
  parts.push(Uint8Array.from(out));
  out.length = 0;
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const res = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    res.set(p, off);
    off += p.length;
  }
  return res;
}

/** Pure, for tests and small messages: the whole body at once. */
export function quoteMbox(message: Uint8Array): Uint8Array {
  const q = new MboxQuoter();
  return join([q.push(message), q.end()].filter((p) => p.length > 0));
}
