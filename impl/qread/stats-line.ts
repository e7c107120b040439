// The first line qmail-qread prints for a message (notqmail fmtstats):
//   <date822 without " -0000"> GMT  #<id>  <size>  <<sender>> [ bouncing]\n
// e.g. "9 Nov 2024 17:03:12 GMT  #457  1201  <joe@example.com>  bouncing". The whole line, date
// included, goes through out(): non-printable bytes become '_'.

import { concat } from '../lib/envelope.ts';
import { date822 } from '../lib/date822.ts';
import { printable } from './printable.ts';

export interface MessageStats {
  /** info's mtime: when the message was queued (qmail-send sets it). */
  queuedMs: number;
  id: number;
  /** Size of mess in bytes. */
  size: number;
  /** The sender as it stands in info after the F, up to its NUL. */
  sender: Uint8Array;
  bouncing: boolean;
}

const ascii = new TextEncoder();

/** Pure: the stats line, newline included. */
export function statsLine(m: MessageStats): Uint8Array {
  const date = date822(m.queuedMs).replace(/ -0000$/, '');
  const line = concat([
    ascii.encode(`${date} GMT  #${m.id}  ${m.size}  <`),
    m.sender,
    ascii.encode(m.bouncing ? '>  bouncing' : '> '),
  ]);
  return concat([printable(line), ascii.encode('\n')]);
}
