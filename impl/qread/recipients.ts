// The recipient lines of qmail-qread, from a local/ or remote/ file: NUL-terminated records,
// T<address> (to do) or D<address> (done). Each prints "\t<channel>\t<address>\n", a done one with
// "  done" before it. Other records and a last record without its NUL are skipped, as getln does.

import { concat } from '../lib/envelope.ts';
import { printable } from './printable.ts';

export type Channel = 'local' | 'remote';

const ascii = new TextEncoder();
const tagDone = 0x44; // 'D'
const tagTodo = 0x54; // 'T'

/** Pure: the output lines for one channel file's bytes. */
export function recipientLines(channel: Channel, bytes: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let nul = bytes.indexOf(0, start); nul >= 0; start = nul + 1, nul = bytes.indexOf(0, start)) {
    const tag = bytes[start];
    if (tag !== tagDone && tag !== tagTodo) continue;
    if (tag === tagDone) out.push(ascii.encode('  done'));
    out.push(ascii.encode(`\t${channel}\t`), printable(bytes.subarray(start + 1, nul)), ascii.encode('\n'));
  }
  return concat(out);
}
