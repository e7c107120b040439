// One SMTP connection of qmail-remote: buffered reads and writes on the socket fd, each bounded by
// timeoutremote (qmail's timeoutread/timeoutwrite), and smtpcode()'s reply reader. EOF, an error or
// a timeout throws Dropped: the dialogue reports "connection died" (spec/remote.ts droppedReport).

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { replyTextBytesMax } from '../../spec/remote.ts';
import { concat } from '../lib/envelope.ts';

export class Dropped extends Error {
  constructor(readonly why: string) {
    super(`connection dropped: ${why}`);
  }
}

const readChunkBytes = 4096;
const writeBufferBytes = 8192;

/** Races op against a timer of ms; a timeout or a SysError becomes Dropped. */
async function bounded<T>(sys: Sys, ms: number, op: Promise<T>, what: string): Promise<T> {
  let cancel = (): void => undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = sys.clock.timer(ms, () => reject(new Dropped(`${what} timeout`)));
  });
  op.catch(() => undefined); // abandoned after a timeout
  try {
    return await Promise.race([op, timeout]);
  } catch (e) {
    if (e instanceof SysError) throw new Dropped(`${what} ${e.code}`);
    throw e;
  } finally {
    cancel();
  }
}

/** Each character's low byte, as C's char would hold it. */
function latin1Of(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export class SmtpConn {
  private readonly inBuf = new Uint8Array(readChunkBytes);
  private inPos = 0;
  private inLen = 0;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  /** smtptext: the last reply's bytes without CRs, at most replyTextBytesMax. */
  text: number[] = [];

  constructor(
    private readonly sys: Sys,
    readonly fd: Fd,
    private readonly timeoutMs: number,
  ) {}

  private async getByte(): Promise<number> {
    if (this.inPos === this.inLen) {
      const n = await bounded(this.sys, this.timeoutMs, this.sys.fs.read(this.fd, this.inBuf, 0, this.inBuf.length, null), 'read');
      if (n === 0) throw new Dropped('eof');
      this.inPos = 0;
      this.inLen = n;
    }
    return this.inBuf[this.inPos++] as number;
  }

  /** get(): one reply byte, kept in text unless it is a CR. A buffered byte is taken at once: an
   *  await per byte of every reply cost more than the rest of the dialogue. */
  private get(): number | Promise<number> {
    if (this.inPos === this.inLen) return this.getByte().then((ch) => this.keep(ch));
    return this.keep(this.inBuf[this.inPos++] as number);
  }

  private keep(ch: number): number {
    if (ch !== 0x0d && this.text.length < replyTextBytesMax) this.text.push(ch);
    return ch;
  }

  /** smtpcode(): the three leading characters as digits (unsigned, as C computes them: a value
   *  below zero wraps to a huge one), continuation lines skipped. */
  async code(): Promise<number> {
    this.text = [];
    let code = 0;
    for (let i = 0; i < 3; i++) code = code * 10 + ((await this.get()) - 0x30);
    let ch = await this.get();
    while (ch === 0x2d) {
      while (ch !== 0x0a) ch = await this.get();
      await this.get();
      await this.get();
      await this.get();
      ch = await this.get();
    }
    while (ch !== 0x0a) ch = await this.get();
    return code < 0 ? Number.MAX_SAFE_INTEGER : code;
  }

  put(bytes: Uint8Array | string): void {
    const b = typeof bytes === 'string' ? latin1Of(bytes) : bytes;
    if (b.length === 0) return;
    this.out.push(b);
    this.outBytes += b.length;
  }

  /** Writes when the buffer is full enough (substdio's buffering), or always with force. */
  async flush(force = true): Promise<void> {
    if (this.outBytes === 0 || (!force && this.outBytes < writeBufferBytes)) return;
    const buf = concat(this.out);
    this.out = [];
    this.outBytes = 0;
    let off = 0;
    while (off < buf.length) {
      off += await bounded(this.sys, this.timeoutMs, this.sys.fs.write(this.fd, buf, off, buf.length - off, null), 'write');
    }
  }

  async close(): Promise<void> {
    await this.sys.fs.close(this.fd).catch(() => undefined);
  }
}
