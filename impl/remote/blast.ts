// blast() of notqmail qmail-remote.c as a byte state machine, so that a message streams through in
// chunks: LF → CRLF, a `.` opening a line doubled, CRLF kept, a CR followed by anything else → CRLF
// then that byte (not dot-stuffed, as in C), a CR at the end ends the last line; a last line without
// LF is a partial line (the message cannot be sent). The terminating `.\r\n` is the caller's. Pure.

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

type State = 'start' | 'inline' | 'afterCr';

export class Blaster {
  private state: State = 'start';

  /** The SMTP bytes for one chunk of the message. */
  push(chunk: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const ch of chunk) {
      if (this.state === 'afterCr') {
        out.push(CR, LF);
        if (ch === LF) {
          this.state = 'start';
          continue;
        }
        out.push(ch);
        this.state = 'inline';
        continue;
      }
      if (this.state === 'start' && ch === DOT) out.push(DOT);
      this.take(ch, out);
    }
    return Uint8Array.from(out);
  }

  private take(ch: number, out: number[]): void {
    if (ch === LF) {
      out.push(CR, LF);
      this.state = 'start';
    } else if (ch === CR) {
      this.state = 'afterCr';
    } else {
      out.push(ch);
      this.state = 'inline';
    }
  }

  /** At the message's end: the last bytes, or 'partial' for a final line without its LF. */
  end(): Uint8Array | 'partial' {
    if (this.state === 'inline') return 'partial';
    const tail = this.state === 'afterCr' ? Uint8Array.of(CR, LF) : new Uint8Array(0);
    this.state = 'start';
    return tail;
  }
}
