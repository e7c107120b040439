// The DATA decoder (notqmail qmail-smtpd.c blast), byte for byte as a resumable state machine:
// CRLF → LF, a leading '.' of any line removed, `.` CRLF ends the data, a bare LF is fatal, and
// Received/Delivered-To header lines are counted as hops. It holds no buffer: output per call is at
// most the input plus the 2 bytes (".\r") an earlier call held back, so memory is bounded by the
// caller's chunk. Pure.

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
/** The hop headers, lower and upper case, as byte codes (compared per header byte). */
const receivedLo = codes('received');
const receivedUp = codes('RECEIVED');
const deliveredLo = codes('delivered');
const deliveredUp = codes('DELIVERED');

function codes(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

export interface BlastStep {
  /** Decoded message bytes of this call, in bytes of their own (the caller may keep them). */
  out: Uint8Array;
  /** Input bytes used; less than given only when the data ended or a bare LF was seen. */
  consumed: number;
  end: 'more' | 'done' | 'strayNewline';
}

export class Blast {
  /** 0 mid-line, 1 after CRLF, 2 after CRLF '.', 3 after CRLF '.' CR, 4 after a CR. */
  private state = 1;
  private inHeader = true;
  private pos = 0;
  private maybeX = true;
  private maybeY = true;
  private maybeZ = true;
  hops = 0;
  /** The output of the running step() and its length. */
  private out = new Uint8Array(0);
  private n = 0;

  step(input: Uint8Array): BlastStep {
    // A step may put the ".\r" held back by state 3 of the previous one before its own bytes.
    this.out = new Uint8Array(input.length + 2);
    this.n = 0;
    const len = input.length;
    for (let i = 0; i < len; i++) {
      if (!this.inHeader) {
        i = this.body(input, i, len);
        if (i === len) return this.result(len, 'more');
      }
      const ch = input[i]!;
      if (this.inHeader) this.countHops(ch);
      const r = this.byte(ch);
      if (r !== 'more') return this.result(i + 1, r);
    }
    return this.result(len, 'more');
  }

  /** The body's common bytes, as byte() would take them, without a call per byte: mid-line bytes,
   *  CR LF, and the first byte of a line that is not '.'. Stops at the first byte byte() must see
   *  (a '.' starting a line, a bare LF, states 2 and 3); returns its index, or len. */
  private body(input: Uint8Array, from: number, len: number): number {
    const out = this.out;
    let n = this.n;
    let state = this.state;
    let i = from;
    for (; i < len; i++) {
      const ch = input[i]!;
      if (state === 0) {
        if (ch === CR) state = 4;
        else if (ch === LF) break;
        else out[n++] = ch;
      } else if (state === 4) {
        if (ch === LF) {
          state = 1;
          out[n++] = LF;
        } else {
          // The CR held back is a byte of the line; a second CR is held in its place.
          out[n++] = CR;
          if (ch !== CR) {
            out[n++] = ch;
            state = 0;
          }
        }
      } else if (state === 1) {
        if (ch === LF || ch === DOT) break;
        if (ch === CR) state = 4;
        else {
          out[n++] = ch;
          state = 0;
        }
      } else break;
    }
    this.n = n;
    this.state = state;
    return i;
  }

  private result(consumed: number, end: BlastStep['end']): BlastStep {
    const out = this.out.subarray(0, this.n);
    this.out = new Uint8Array(0);
    return { out, consumed, end };
  }

  private put(b: number): void {
    this.out[this.n++] = b;
  }

  private countHops(ch: number): void {
    const pos = this.pos;
    if (pos < 9) {
      if (ch !== deliveredLo[pos] && ch !== deliveredUp[pos]) this.maybeZ = false;
      if (this.maybeZ && pos === 8) this.hops++;
      if (pos < 8 && ch !== receivedLo[pos] && ch !== receivedUp[pos]) this.maybeX = false;
      if (this.maybeX && pos === 7) this.hops++;
      if (pos < 2 && ch !== (pos === 0 ? CR : LF)) this.maybeY = false;
      if (this.maybeY && pos === 1) this.inHeader = false;
      this.pos = pos + 1;
    }
    if (ch === LF) {
      this.pos = 0;
      this.maybeX = this.maybeY = this.maybeZ = true;
    }
  }

  /** One byte through blast's switch; 'more' to go on. */
  private byte(ch: number): 'more' | 'done' | 'strayNewline' {
    switch (this.state) {
      case 0:
        if (ch === LF) return 'strayNewline';
        if (ch === CR) return this.to(4);
        break;
      case 1:
        if (ch === LF) return 'strayNewline';
        if (ch === DOT) return this.to(2);
        if (ch === CR) return this.to(4);
        this.state = 0;
        break;
      case 2:
        if (ch === LF) return 'strayNewline';
        if (ch === CR) return this.to(3);
        this.state = 0;
        break;
      case 3:
        if (ch === LF) return 'done';
        this.put(DOT);
        this.put(CR);
        if (ch === CR) return this.to(4);
        this.state = 0;
        break;
      case 4:
        if (ch === LF) {
          this.state = 1;
          break;
        }
        if (ch !== CR) {
          this.put(CR);
          this.state = 0;
        }
        break;
    }
    this.put(ch);
    return 'more';
  }

  private to(state: number): 'more' {
    this.state = state;
    return 'more';
  }
}

/** The inverse, for tests and clients: LF → CRLF, a leading '.' doubled, then `.` CRLF. */
export function dotStuff(message: Uint8Array): Uint8Array {
  const out: number[] = [];
  let bol = true;
  for (const b of message) {
    if (bol && b === DOT) out.push(DOT);
    if (b === LF) out.push(CR);
    out.push(b);
    bol = b === LF;
  }
  if (!bol) out.push(CR, LF);
  out.push(DOT, CR, LF);
  return Uint8Array.from(out);
}
