// The protocol between qmail-lspawn and its delivery workers (spec/spawn.md), in frames of fields
// (./frame.ts). Pure: no Sys.
//
//   request  (lspawn -> worker)  "D" id user homedir local dash ext domain sender defaultdelivery env message
//   quit     (lspawn -> worker)  "Q": finish the deliveries in flight, then exit 0 (EOF does the same)
//   reply    (worker -> lspawn)  "R" id code output
//
// id is a decimal delivery number chosen by lspawn, unique among the worker's deliveries in flight;
// env is the delivery's environment as `name=value\0` records; message is the queued file's bytes;
// code and output are qmail-local's exit code and everything it wrote on fds 1 and 2.

import type { LocalArgs } from '../local/types.ts';
import { decodeFields, encodeFields, encodeMixedFieldsFrame, encodeMixedFieldsFrameBefore, FrameError, frameHeaderBytes, utf8Length } from './frame.ts';

export interface DeliveryRequest {
  id: number;
  args: Omit<LocalArgs, 'dryRun'>;
  env: Record<string, string>;
  message: Uint8Array;
}

export interface DeliveryReply {
  id: number;
  code: number;
  output: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

const argOrder = ['user', 'homedir', 'local', 'dash', 'ext', 'domain', 'sender', 'defaultDelivery'] as const;

export function encodeRequest(r: DeliveryRequest): Uint8Array {
  return encodeFields(requestFields(r));
}

/** A message read into the end of a buffer with room before it (requestRoomBytes) for the rest of
 *  its request frame: encodeRequestFrame builds the frame there, and the message is never copied. */
export interface MessageWithRoom {
  buf: Uint8Array;
  /** Where the message starts; it runs to the end of buf. */
  at: number;
}

/** A request as lspawn sends it: the message as bytes, or in a buffer with room for its frame. */
export type OutgoingRequest = Omit<DeliveryRequest, 'message'> & { message: Uint8Array | MessageWithRoom };

/** The room encodeRequestFrame needs before a MessageWithRoom (at most; an id of up to 16 digits). */
export function requestRoomBytes(r: Omit<DeliveryRequest, 'message' | 'id'>): number {
  return frameHeaderBytes + requestOverheadBytes(r);
}

/** encodeFrame(encodeRequest(r)), the strings encoded in place; the message copied once, or for
 *  a MessageWithRoom with room enough, not at all (the frame is a view of its buffer). */
export function encodeRequestFrame(r: OutgoingRequest): Uint8Array {
  const fields: (string | Uint8Array)[] = ['D', String(r.id)];
  for (const k of argOrder) fields.push(r.args[k]);
  fields.push(envRecords(r.env));
  const m = r.message;
  if (m instanceof Uint8Array) return encodeMixedFieldsFrame([...fields, m]);
  return encodeMixedFieldsFrameBefore(fields, m.buf, m.at) ?? encodeMixedFieldsFrame([...fields, m.buf.subarray(m.at)]);
}

function requestFields(r: DeliveryRequest): Uint8Array[] {
  const fields: Uint8Array[] = [requestTag, enc.encode(String(r.id))];
  for (const k of argOrder) fields.push(enc.encode(r.args[k]));
  fields.push(encodeEnv(r.env), r.message);
  return fields;
}

const requestTag = enc.encode('D');
const replyTag = enc.encode('R');

/** The size of the frame payload encodeRequest would make, before the message bytes. */
export function requestOverheadBytes(r: Omit<DeliveryRequest, 'message' | 'id'>): number {
  const fieldHeaderBytes = 4;
  const idBytes = 16;
  let n = 12 * fieldHeaderBytes + 1 + idBytes;
  for (const k of argOrder) n += utf8Length(r.args[k]);
  for (const [k, v] of Object.entries(r.env)) n += utf8Length(k) + utf8Length(v) + 2;
  return n;
}

/** enc.encode(s).length without encoding (lspawn asks for every delivery, over its whole
 *  environment). */
export { utf8Length };

export function encodeQuit(): Uint8Array {
  return encodeFields([enc.encode('Q')]);
}

/** What a worker reads: a delivery, or the request to quit. */
export function decodeToWorker(payload: Uint8Array): { deliver: DeliveryRequest } | { quit: true } {
  const f = decodeFields(payload);
  if (f.length === 1 && text(f[0]) === 'Q') return { quit: true };
  return { deliver: requestOf(f) };
}

export function decodeRequest(payload: Uint8Array): DeliveryRequest {
  return requestOf(decodeFields(payload));
}

function requestOf(f: Uint8Array[]): DeliveryRequest {
  if (f.length !== 12 || text(f[0]) !== 'D') throw new FrameError('not a delivery request');
  const args = Object.fromEntries(argOrder.map((k, i) => [k, text(f[2 + i])])) as Record<(typeof argOrder)[number], string>;
  return { id: decimal(f[1]), args, env: decodeEnv(f[10] as Uint8Array), message: f[11] as Uint8Array };
}

export function encodeReply(r: DeliveryReply): Uint8Array {
  return encodeFields(replyFields(r));
}

/** encodeFrame(encodeReply(r)) in one buffer. */
export function encodeReplyFrame(r: DeliveryReply): Uint8Array {
  return encodeMixedFieldsFrame(['R', String(r.id), String(r.code), r.output]);
}

function replyFields(r: DeliveryReply): Uint8Array[] {
  return [replyTag, enc.encode(String(r.id)), enc.encode(String(r.code)), r.output];
}

export function decodeReply(payload: Uint8Array): DeliveryReply {
  const f = decodeFields(payload);
  if (f.length !== 4 || text(f[0]) !== 'R') throw new FrameError('not a delivery reply');
  const code = decimal(f[2]);
  if (code > 255) throw new FrameError(`exit code ${code}`);
  return { id: decimal(f[1]), code, output: f[3] as Uint8Array };
}

/** name=value\0 records; a name holds no '=' and no NUL, a value no NUL (execve's rules). */
export function encodeEnv(env: Record<string, string>): Uint8Array {
  return enc.encode(envRecords(env));
}

/** The records of encodeEnv, as a string. */
function envRecords(env: Record<string, string>): string {
  let s = '';
  for (const [k, v] of Object.entries(env)) {
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) throw new FrameError(`environment entry ${JSON.stringify(k)}`);
    s += `${k}=${v}\0`;
  }
  return s;
}

export function decodeEnv(b: Uint8Array): Record<string, string> {
  const env: Record<string, string> = {};
  const s = dec.decode(b);
  if (s === '') return env;
  if (!s.endsWith('\0')) throw new FrameError('environment not NUL-terminated');
  for (const rec of s.slice(0, -1).split('\0')) {
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new FrameError('environment record without a name');
    const name = rec.slice(0, eq);
    const value = rec.slice(eq + 1);
    // An environment may hold a variable named __proto__, which `env[name] =` would turn into a
    // prototype change instead of an entry. Only that name takes defineProperty: for every name it
    // made a delivery's environment cost more than the rest of the request's decoding.
    if (name === '__proto__') Object.defineProperty(env, name, { value, enumerable: true, writable: true, configurable: true });
    else env[name] = value;
  }
  return env;
}

function text(b: Uint8Array | undefined): string {
  return dec.decode(b);
}

function decimal(b: Uint8Array | undefined): number {
  const s = text(b);
  if (!/^(0|[1-9][0-9]{0,14})$/.test(s)) throw new FrameError(`not a number: ${JSON.stringify(s.slice(0, 20))}`);
  return Number(s);
}
