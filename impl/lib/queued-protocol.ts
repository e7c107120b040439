// The protocol between a long-lived queue client (qmail-smtpd --listen) and qmail-queued, in frames
// (./frame.ts) over one pipe pair: many messages at once, each with a request id the client picks.
// Pure: no Sys.
//
//   client -> server (qmail-queued's fd 0)
//     O id        open: the message starts now (qmail-queue starting: pid file, mess, Received date)
//     M id bytes  the next piece of the message (at most queuedPieceBytesMax)
//     V id bytes  the next piece of the envelope (F<sender>\0 T<rcpt>\0 ... \0); the first one ends
//                 the message, as qmail-queue's EOF on fd 0 does
//     E id        end of the envelope (EOF on fd 1): queue it
//     A id        abort: the client is gone, queue nothing
//   server -> client (qmail-queued's fd 1)
//     R id code   qmail-queue's exit code for the request, sent once per opened request, and with
//                 code 0 only after the message is durable
//
// A payload is one type byte, the id as u32 big-endian, then the bytes (M, V) or a decimal code (R).

import { FrameError } from './frame.ts';

export type QueuedRequest =
  | { kind: 'O' | 'E' | 'A'; id: number }
  | { kind: 'M' | 'V'; id: number; bytes: Uint8Array };

export interface QueuedReply {
  id: number;
  code: number;
}

/** The largest message or envelope piece in one frame. */
export const queuedPieceBytesMax = 65_536;
const headBytes = 5;
/** The largest frame payload either side accepts. */
export const queuedFrameBytesMax = headBytes + queuedPieceBytesMax;

const kinds = new Set(['O', 'M', 'V', 'E', 'A']);

/** The payload's head; with `framed`, inside a whole frame (impl/lib/frame.ts: the u32 payload
 *  length first), so that a piece is copied once on its way to the pipe. */
function head(kind: string, id: number, rest: number, framed = false): Uint8Array {
  if (!(Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff)) throw new FrameError(`request id ${id}`);
  const at = framed ? frameHeadBytes : 0;
  const out = new Uint8Array(at + headBytes + rest);
  if (framed) putU32(out, 0, headBytes + rest);
  out[at] = kind.charCodeAt(0);
  putU32(out, at + 1, id);
  return out;
}

/** impl/lib/frame.ts's frame header: the payload length. */
const frameHeadBytes = 4;

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function idOf(p: Uint8Array): number {
  return (((p[1] as number) << 24) | ((p[2] as number) << 16) | ((p[3] as number) << 8) | (p[4] as number)) >>> 0;
}

export function encodeQueuedRequest(r: QueuedRequest): Uint8Array {
  return encode(r, false);
}

/** encodeFrame(encodeQueuedRequest(r)), built in one buffer. */
export function encodeQueuedRequestFrame(r: QueuedRequest): Uint8Array {
  return encode(r, true);
}

function encode(r: QueuedRequest, framed: boolean): Uint8Array {
  if (r.kind !== 'M' && r.kind !== 'V') return head(r.kind, r.id, 0, framed);
  if (r.bytes.length > queuedPieceBytesMax) throw new FrameError(`piece of ${r.bytes.length} bytes`);
  const out = head(r.kind, r.id, r.bytes.length, framed);
  out.set(r.bytes, out.length - r.bytes.length);
  return out;
}

/** FrameError on anything malformed: the peer is broken, not the message. */
export function decodeQueuedRequest(p: Uint8Array): QueuedRequest {
  if (p.length < headBytes) throw new FrameError('short request');
  const kind = String.fromCharCode(p[0] as number);
  if (!kinds.has(kind)) throw new FrameError(`request type ${p[0]}`);
  const id = idOf(p);
  if (kind === 'M' || kind === 'V') return { kind, id, bytes: p.subarray(headBytes) };
  if (p.length !== headBytes) throw new FrameError(`request ${kind} with bytes`);
  return { kind: kind as 'O' | 'E' | 'A', id };
}

export function encodeQueuedReply(r: QueuedReply): Uint8Array {
  const code = String(r.code);
  const out = head('R', r.id, code.length);
  for (let i = 0; i < code.length; i++) out[headBytes + i] = code.charCodeAt(i);
  return out;
}

export function decodeQueuedReply(p: Uint8Array): QueuedReply {
  if (p.length < headBytes + 1 || p[0] !== 0x52) throw new FrameError('not a reply');
  const code = String.fromCharCode(...p.subarray(headBytes));
  if (!/^[0-9]{1,3}$/.test(code) || Number(code) > 255) throw new FrameError(`reply code ${code}`);
  return { id: idOf(p), code: Number(code) };
}
