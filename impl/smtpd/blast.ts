// The DATA decoder (notqmail qmail-smtpd.c blast), byte for byte as a resumable state machine:
// CRLF → LF, a leading '.' of any line removed, `.` CRLF ends the data, a bare LF is fatal, and
// Received/Delivered-To header lines are counted as hops. It holds no buffer: output per call is at
// most 2 bytes per input byte, so memory is bounded by the caller's chunk. Pure.

const received = 'received';
const receivedUp = 'RECEIVED';
const delivered = 'delivered';
const deliveredUp = 'DELIVERED';
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export interface BlastStep {
  /** Decoded message bytes of this call. */
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

  step(input: Uint8Array): BlastStep {
    const out = new Uint8Array(input.length * 2);
    let n = 0;
    const put = (b: number): void => {
      out[n++] = b;
    };
    for (let i = 0; i < input.length; i++) {
      const ch = input[i]!;
      this.countHops(ch);
      const r = this.byte(ch, put);
      if (r !== 'more') return { out: out.subarray(0, n), consumed: i + 1, end: r };
    }
    return { out: out.subarray(0, n), consumed: input.length, end: 'more' };
  }

  private countHops(ch: number): void {
    if (!this.inHeader) return;
    const c = String.fromCharCode(ch);
    if (this.pos < 9) {
      if (c !== delivered[this.pos] && c !== deliveredUp[this.pos]) this.maybeZ = false;
      if (this.maybeZ && this.pos === 8) this.hops++;
      if (this.pos < 8 && c !== received[this.pos] && c !== receivedUp[this.pos]) this.maybeX = false;
      if (this.maybeX && this.pos === 7) this.hops++;
      if (this.pos < 2 && c !== '\r\n'[this.pos]) this.maybeY = false;
      if (this.maybeY && this.pos === 1) this.inHeader = false;
      this.pos++;
    }
    if (ch === LF) {
      this.pos = 0;
      this.maybeX = this.maybeY = this.maybeZ = true;
    }
  }

  /** One byte through blast's switch; 'more' to go on. */
  private byte(ch: number, put: (b: number) => void): 'more' | 'done' | 'strayNewline' {
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
        put(DOT);
        put(CR);
        if (ch === CR) return this.to(4);
        this.state = 0;
        break;
      case 4:
        if (ch === LF) {
          this.state = 1;
          break;
        }
        if (ch !== CR) {
          put(CR);
          this.state = 0;
        }
        break;
    }
    put(ch);
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
