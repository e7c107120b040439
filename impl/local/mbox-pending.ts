// The mbox recovery record (ours; spec/local.md "mbox crash safety"). Before appending to a locked
// mbox, qmail-local makes PATH.qmail-pending durable: which inode it appends to, the length before
// the append, an upper bound on what it appends, and the From_ line it starts with. After the
// append is durable it removes the record durably, and only then reports success. A record found
// under the lock means an earlier run died between the two (power loss, kill -9): its unfinished
// entry is cut off before anything else is appended. Format and decision are pure.

import { latin1 } from './bytes.ts';

export interface Pending {
  ino: number;
  /** Length of the mbox before the interrupted append. */
  before: number;
  /** At most this many bytes were to be appended. */
  boundBytes: number;
  /** The entry's first line (From_ line, with its LF). */
  fromLine: string;
}

const magic = 'qmail-local mbox pending 1';

/** Pure: the record's bytes (a byte string). */
export function formatPending(p: Pending): string {
  return `${magic}\n${p.ino}\n${p.before}\n${p.boundBytes}\n${p.fromLine}`;
}

/** Pure: the record, or null when the bytes are not a whole record of ours (a run that died while
 *  writing it had not appended anything yet). */
export function parsePending(bytes: Uint8Array): Pending | null {
  const lines = latin1(bytes).split('\n');
  if (lines.length !== 6 || lines[0] !== magic || lines[5] !== '') return null;
  const [ino, before, bound] = [lines[1], lines[2], lines[3]].map((s) => (/^[0-9]{1,15}$/.test(s ?? '') ? Number(s) : NaN));
  const fromLine = `${lines[4]}\n`;
  if (![ino, before, bound].every((n) => Number.isSafeInteger(n)) || !fromLine.startsWith('From ')) return null;
  return { ino: ino as number, before: before as number, boundBytes: bound as number, fromLine };
}

/** Pure: whether the mbox as found (its inode, size, and the bytes at `before`, at most the From_
 *  line's length) still ends in the interrupted entry. Anything else (another file, a shorter or
 *  longer one, other bytes where the entry began) is left alone. */
export function isUnfinishedEntry(p: Pending, ino: number, size: number, head: Uint8Array): boolean {
  if (ino !== p.ino || size <= p.before || size > p.before + p.boundBytes) return false;
  const want = p.fromLine.slice(0, Math.min(p.fromLine.length, size - p.before));
  return latin1(head) === want;
}

/** Pure: the most an entry can grow: From_, Return-Path and Delivered-To lines, the message with a
 *  `>` on every line, an LF after an unterminated last line, and the empty line. */
export function entryBoundBytes(headLines: number, messageBytes: number): number {
  return headLines + 2 * messageBytes + 2;
}
