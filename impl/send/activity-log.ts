// The activity log (../shared/spec/queue.md 3.8) on fd 0: lines in order, never waited for by the
// loop; those of one loop turn go out as one write. Lines are built by spec/log.ts's formatter from
// events whose address and report fields have been through logsafe(), so every line is in the
// grammar. With env QIDENT set (qscheduler's queue number), delivery numbers are written
// `<delid>.<QIDENT>`.

import type { Sys } from '../sys/types.ts';
import { formatLogLine, type DeliveryNumber, type LogEvent } from '../../spec/log.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { logsafe } from '../lib/logsafe.ts';
import { SerialWriter } from '../shared/fd-stream.ts';

export class ActivityLog {
  private readonly out: SerialWriter;
  private readonly qident: string | null;
  /** Lines held during a loop turn (hold()), written together by release() or drain(): text, or
   *  todo-proc's lines as the bytes they came in. */
  private held: (string | Uint8Array)[] | null = null;

  constructor(sys: Sys) {
    this.out = new SerialWriter(sys, 0);
    const q = sys.proc.self.env['QIDENT'];
    this.qident = q === undefined || q === '' ? null : logsafe(q);
  }

  delivery(n: number): DeliveryNumber {
    return { n, qident: this.qident };
  }

  line(e: LogEvent): void {
    this.raw(`${formatLogLine(e)}\n`);
  }

  /** A line todo-proc sent (its L record), verbatim; a missing \n is supplied. */
  raw(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`;
    if (this.held !== null) this.held.push(line);
    else void this.out.write(latin1Bytes(line));
  }

  /** raw() for the bytes of the record itself (no string made of them and back: todo-proc's lines
   *  are a third of the log). The caller gives up the array. */
  rawBytes(line: Uint8Array): void {
    const whole = line[line.length - 1] === 0x0a ? line : joinPieces([line, '\n']);
    if (this.held !== null) this.held.push(whole);
    else void this.out.write(whole);
  }

  /** From here to release(), lines are kept and then written as one: the loop holds them for one
   *  turn, which may log a line per delivery started or ended, and so writes one pipe buffer per
   *  turn instead of one per await inside it. Same bytes, same order. */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held;
    this.held = null;
    if (held !== null && held.length > 0) void this.out.write(joinPieces(held));
  }

  /** Everything logged so far is written (held lines first), then resolves. */
  drain(): Promise<void> {
    const holding = this.held !== null;
    this.release();
    if (holding) this.hold();
    return this.out.drain();
  }
}

const ascii = new TextEncoder();
const nonAscii = /[^\0-\x7f]/;

/** One buffer of the pieces' bytes, a string being one byte per character (latin1): ASCII, which
 *  logsafe() makes of every field, is copied natively rather than a character at a time. */
function joinPieces(pieces: (string | Uint8Array)[]): Uint8Array {
  let total = 0;
  for (const p of pieces) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    if (typeof p !== 'string') out.set(p, at);
    else if (!nonAscii.test(p)) ascii.encodeInto(p, out.subarray(at));
    else out.set(latin1Bytes(p), at);
    at += p.length;
  }
  return out;
}
