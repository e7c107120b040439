// The qmail-queue envelope (spec/queue.md 2.2): `F<sender>\0`, then `T<recipient>\0` zero or more
// times, then one extra `\0`. Parsed incrementally, byte for byte as qmail-queue reads fd 1, so that
// a truncation anywhere is told apart from a format error and nothing past the final NUL is read.
//
// Outcomes, as qmail-queue classifies them:
//   'done'     the extra NUL was seen;
//   'format'   the first byte is not F, or a record starts with a byte other than T or NUL;
//   'tooLong'  an address is longer than addressBytesMax - 1 bytes;
//   'eof'      the input ended before the extra NUL (a read error for qmail-queue).

import { addressBytesMax } from '../../spec/limits.ts';

export type EnvelopeError = 'format' | 'tooLong' | 'eof';

export interface Envelope {
  sender: Uint8Array;
  recipients: Uint8Array[];
}

/** Called as each address completes, in input order, so a writer can stream records out. */
export interface EnvelopeCallbacks {
  onSender?: (addr: Uint8Array) => void;
  onRecipient?: (addr: Uint8Array) => void;
}

type State = 'start' | 'sender' | 'record' | 'recipient' | 'done' | EnvelopeError;

/** Incremental parser. Call push() with each chunk; it returns how many bytes it consumed
 *  (less than the chunk only once done or failed). Call end() at EOF. */
export class EnvelopeParser {
  private state: State = 'start';
  private current: number[] = [];
  private sender: Uint8Array | null = null;
  private readonly recipients: Uint8Array[] = [];

  constructor(private readonly on: EnvelopeCallbacks = {}) {}

  get finished(): boolean {
    return this.state === 'done' || this.error !== null;
  }

  get error(): EnvelopeError | null {
    const s = this.state;
    return s === 'format' || s === 'tooLong' || s === 'eof' ? s : null;
  }

  push(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length && !this.finished) {
      this.step(chunk[i] as number);
      i++;
    }
    return i;
  }

  end(): void {
    if (!this.finished) this.state = 'eof';
  }

  result(): Envelope {
    if (this.state !== 'done' || this.sender === null) throw new Error('envelope: result() before done');
    return { sender: this.sender, recipients: this.recipients };
  }

  private step(b: number): void {
    switch (this.state) {
      case 'start':
        this.state = b === 0x46 /* F */ ? 'sender' : 'format';
        return;
      case 'record':
        if (b === 0) this.state = 'done';
        else if (b === 0x54 /* T */) this.state = 'recipient';
        else this.state = 'format';
        return;
      case 'sender':
      case 'recipient':
        this.addressByte(b);
        return;
      default:
        return;
    }
  }

  private addressByte(b: number): void {
    if (b !== 0) {
      // addressBytesMax counts the NUL: one more byte than that is too long.
      if (this.current.length + 1 >= addressBytesMax) this.state = 'tooLong';
      else this.current.push(b);
      return;
    }
    const addr = Uint8Array.from(this.current);
    this.current = [];
    if (this.state === 'sender') {
      this.sender = addr;
      this.on.onSender?.(addr);
    } else {
      this.recipients.push(addr);
      this.on.onRecipient?.(addr);
    }
    this.state = 'record';
  }
}

/** Parses a whole envelope held in memory. */
export function parseEnvelope(bytes: Uint8Array): { envelope: Envelope; consumed: number } | { error: EnvelopeError } {
  const p = new EnvelopeParser();
  const consumed = p.push(bytes);
  if (!p.finished) p.end();
  const error = p.error;
  if (error !== null) return { error };
  return { envelope: p.result(), consumed };
}

/** Encodes an envelope in qmail-queue's input format (with the extra NUL). */
export function encodeEnvelope(env: Envelope): Uint8Array {
  const parts: Uint8Array[] = [record(0x46, env.sender)];
  for (const r of env.recipients) parts.push(record(0x54, r));
  parts.push(new Uint8Array(1));
  return concat(parts);
}

export function record(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
