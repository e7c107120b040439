// Length-prefixed frames over a byte stream, and fields inside a frame. Pure: no Sys.
//
//   frame   u32 big-endian payload length, then the payload
//   fields  a payload made of fields, each u32 big-endian length, then its bytes
//
// A stream delivers frames in arbitrary pieces; FrameDecoder reassembles them without copying a
// byte twice, and refuses a frame announcing more than its bound before buffering it (a corrupt or
// hostile length never costs memory).

export class FrameError extends Error {
  constructor(detail: string) {
    super(`frame: ${detail}`);
    this.name = 'FrameError';
  }
}

const headerBytes = 4;

function readU32(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** One frame: header + payload, in one buffer (one write). */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff_ffff) throw new FrameError(`payload of ${payload.length} bytes`);
  const out = new Uint8Array(headerBytes + payload.length);
  writeU32(out, 0, payload.length);
  out.set(payload, headerBytes);
  return out;
}

/** Reassembles frames from stream pieces. push() returns the payloads completed by that piece. */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Payload length of the frame being assembled, once its header is complete. */
  private need: number | null = null;

  constructor(private readonly frameBytesMax: number) {}

  /** Bytes held that belong to no complete frame yet. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(piece: Uint8Array): Uint8Array[] {
    if (piece.length > 0) {
      this.chunks.push(piece);
      this.buffered += piece.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.need === null) {
        if (this.buffered < headerBytes) return out;
        const len = readU32(this.take(headerBytes), 0);
        if (len > this.frameBytesMax) throw new FrameError(`frame of ${len} bytes, more than ${this.frameBytesMax}`);
        this.need = len;
      }
      if (this.buffered < this.need) return out;
      out.push(this.take(this.need));
      this.need = null;
    }
  }

  /** Removes and returns the first n buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Uint8Array;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

/** The frame header's size: what a frame needs beyond its payload. */
export const frameHeaderBytes = headerBytes;

/** A payload of fields. */
export function encodeFields(fields: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const f of fields) total += headerBytes + f.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of fields) {
    writeU32(out, at, f.length);
    out.set(f, at + headerBytes);
    at += headerBytes + f.length;
  }
  return out;
}

/** encodeFrame(encodeFields(fields)) in one buffer: the fields (a delivery's message is one) are
 *  copied once, not twice. */
export function encodeFieldsFrame(fields: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const f of fields) total += headerBytes + f.length;
  if (total > 0xffff_ffff) throw new FrameError(`payload of ${total} bytes`);
  const out = new Uint8Array(headerBytes + total);
  writeU32(out, 0, total);
  let at = headerBytes;
  for (const f of fields) {
    writeU32(out, at, f.length);
    out.set(f, at + headerBytes);
    at += headerBytes + f.length;
  }
  return out;
}

const utf8 = new TextEncoder();

/** encodeFieldsFrame with strings among the fields, each written as UTF-8 straight into the frame:
 *  no buffer per string (TextEncoder.encode allocates one each time, and a request has ten). */
export function encodeMixedFieldsFrame(fields: readonly (string | Uint8Array)[]): Uint8Array {
  let total = 0;
  const lengths = fields.map((f) => (typeof f === 'string' ? utf8Length(f) : f.length));
  for (const n of lengths) total += headerBytes + n;
  if (total > 0xffff_ffff) throw new FrameError(`payload of ${total} bytes`);
  const out = new Uint8Array(headerBytes + total);
  writeU32(out, 0, total);
  writeMixedFields(out, headerBytes, fields, lengths);
  return out;
}

/** encodeMixedFieldsFrame([...fields, buf.subarray(at)]) for a last field that is already in
 *  place (a delivery's message, read from its file at `at`): the frame header and the other fields
 *  go into the room before it, and the frame is a view of buf, so the last field is never copied.
 *  Null when the room is too small. */
export function encodeMixedFieldsFrameBefore(fields: readonly (string | Uint8Array)[], buf: Uint8Array, at: number): Uint8Array | null {
  const lastBytes = buf.length - at;
  const lengths = fields.map((f) => (typeof f === 'string' ? utf8Length(f) : f.length));
  let before = headerBytes + headerBytes;
  for (const n of lengths) before += headerBytes + n;
  const total = before - headerBytes + lastBytes;
  if (total > 0xffff_ffff) throw new FrameError(`payload of ${total} bytes`);
  if (before > at) return null;
  const start = at - before;
  writeU32(buf, start, total);
  const end = writeMixedFields(buf, start + headerBytes, fields, lengths);
  writeU32(buf, end, lastBytes);
  return buf.subarray(start);
}

/** Writes the fields (each its u32 length, then its bytes) at `at`; returns where they end. */
function writeMixedFields(out: Uint8Array, at: number, fields: readonly (string | Uint8Array)[], lengths: readonly number[]): number {
  fields.forEach((f, i) => {
    const n = lengths[i] as number;
    writeU32(out, at, n);
    at += headerBytes;
    if (typeof f !== 'string') out.set(f, at);
    else if (n > 0 && utf8.encodeInto(f, out.subarray(at, at + n)).written !== n) throw new Error('encodeMixedFieldsFrame: UTF-8 length mismatch');
    at += n;
  });
  return at;
}

/** utf8.encode(s).length without encoding: a lone surrogate becomes U+FFFD, 3 bytes, as
 *  TextEncoder writes it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The fields of a payload (views into it); FrameError when a length runs past the end. */
export function decodeFields(payload: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < payload.length) {
    if (payload.length - at < headerBytes) throw new FrameError('truncated field header');
    const len = readU32(payload, at);
    at += headerBytes;
    if (len > payload.length - at) throw new FrameError(`field of ${len} bytes past the end`);
    out.push(payload.subarray(at, at + len));
    at += len;
  }
  return out;
}
