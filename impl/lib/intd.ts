// The bytes of intd/ID and todo/ID (spec/queue.md 2.1):
//   u<uid>\0 p<pid>\0 F<sender>\0 T<rcpt>\0 ... (no trailing extra NUL)
// Other one-letter records (indimail's e, h) may appear between F and the T records; a reader keeps
// them and a checker can compare them byte for byte.

import { concat, record } from './envelope.ts';

export interface IntdRecord {
  tag: string;
  body: Uint8Array;
}

export interface Intd {
  uid: number;
  pid: number;
  sender: Uint8Array;
  recipients: Uint8Array[];
  records: IntdRecord[];
}

const ascii = new TextEncoder();

/** The u and p records qmail-queue writes before the envelope. */
export function intdHead(uid: number, pid: number): Uint8Array {
  return concat([record(0x75, ascii.encode(String(uid))), record(0x70, ascii.encode(String(pid)))]);
}

export type IntdParseError = 'truncated' | 'empty-record' | 'no-uid' | 'no-pid' | 'no-sender' | 'bad-number';

/** Parses a complete intd/todo file. Strict: every record NUL-terminated, u, p and F present, in
 *  that order before any T. */
export function parseIntd(bytes: Uint8Array): Intd | { error: IntdParseError } {
  const records: IntdRecord[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    if (i === start) return { error: 'empty-record' };
    records.push({ tag: String.fromCharCode(bytes[start] as number), body: bytes.subarray(start + 1, i) });
    start = i + 1;
  }
  if (start !== bytes.length) return { error: 'truncated' };
  return interpret(records);
}

function interpret(records: IntdRecord[]): Intd | { error: IntdParseError } {
  const [u, p, f] = records;
  if (u?.tag !== 'u') return { error: 'no-uid' };
  if (p?.tag !== 'p') return { error: 'no-pid' };
  if (f?.tag !== 'F') return { error: 'no-sender' };
  const uid = decimal(u.body);
  const pid = decimal(p.body);
  if (uid === null || pid === null) return { error: 'bad-number' };
  const recipients = records.filter((r) => r.tag === 'T').map((r) => r.body);
  return { uid, pid, sender: f.body, recipients, records };
}

function decimal(b: Uint8Array): number | null {
  if (b.length === 0 || b.length > 15) return null;
  let n = 0;
  for (const c of b) {
    if (c < 0x30 || c > 0x39) return null;
    n = n * 10 + (c - 0x30);
  }
  return n;
}
