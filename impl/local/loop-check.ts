// The Delivered-To loop check (../shared/spec/local.md 2.6, qmail-local.c bouncexf): every header
// line, up to the first line of at most one byte (the blank line) or the end, is compared byte for
// byte with DTLINE (its LF included). The scan streams: it keeps one counter per line, never the
// line, so a header of any length costs no memory (qmail reads the whole header too).

import { ioChunkBytes } from '../../spec/limits.ts';
import { localText } from '../../spec/local.ts';
import { SysError } from '../sys/errors.ts';
import { errText, perm, temp } from './failure.ts';
import type { MessageSource } from './types.ts';

export type ScanState = 'more' | 'loop' | 'end';

/** Pure, incremental. */
export class DeliveredToScan {
  private lineBytes = 0;
  private same = true;
  private state: ScanState = 'more';

  constructor(private readonly dtLine: Uint8Array) {}

  push(chunk: Uint8Array): ScanState {
    for (let i = 0; i < chunk.length && this.state === 'more'; i++) this.byte(chunk[i] as number);
    return this.state;
  }

  /** End of message: an unterminated last line is never compared (getln without a match). */
  end(): ScanState {
    if (this.state === 'more') this.state = 'end';
    return this.state;
  }

  private byte(b: number): void {
    this.same = this.same && this.lineBytes < this.dtLine.length && this.dtLine[this.lineBytes] === b;
    this.lineBytes++;
    if (b !== 0x0a) return;
    if (this.lineBytes <= 1) this.state = 'end';
    else if (this.same && this.lineBytes === this.dtLine.length) this.state = 'loop';
    this.lineBytes = 0;
    this.same = true;
  }
}

/** Throws the permanent looping failure when the header has our Delivered-To line. */
export async function checkLoop(message: MessageSource, dtLine: Uint8Array): Promise<void> {
  const scan = new DeliveredToScan(dtLine);
  if (message.bytes !== undefined) {
    if (scan.push(message.bytes) === 'loop') throw perm(localText.looping);
    return;
  }
  const buf = new Uint8Array(ioChunkBytes);
  let pos = 0;
  for (let state: ScanState = 'more'; state === 'more'; ) {
    let n: number;
    try {
      n = await message.read(pos, buf);
    } catch (e) {
      if (e instanceof SysError) throw temp(localText.read(errText(e)));
      throw e;
    }
    pos += n;
    state = n === 0 ? scan.end() : scan.push(buf.subarray(0, n));
    if (state === 'loop') throw perm(localText.looping);
  }
}
