// The bytes of bounces (nq:qmail-send.c addbounce, injectbounce; ../shared/spec/queue.md 3.7).
// Pure; strings are one character per byte.
//
// A failure block, appended to bounce/ID for each permanently failed recipient:
//   <recipient>:\n  report[\n]  \n
// with the recipient's virtual-domain prepend stripped, its newlines made '_', and every second
// newline of a \n\n pair inside the block made '/', so that the blank line after a block separates
// blocks. qmail's scan starts one byte before the end, so a report ending in \n\n keeps that pair:
// a quirk kept for byte-identical bounces.

import {
  bounceDoubleIntro, bounceDoubleSeparator, bounceSingleIntro, bounceSingleSeparator, bounceSubject,
} from '../../spec/send.ts';
import type { ConstMap } from './constmap.ts';
import { date822 } from './date822.ts';
import { quote, quote2 } from './quote.ts';
import { stripVdomPrepend } from './rewrite.ts';

/** One failure block. `report` is the spawner's text after the status letter. */
export function bounceBlock(recip: string, report: string, virtualdomains: ConstMap): string {
  const chars = [...`<${stripVdomPrepend(recip, virtualdomains)}`.replace(/\n/g, '_'), ...'>:\n', ...report];
  if (report.length > 0 && !report.endsWith('\n')) chars.push('\n');
  // In place, from the end, as qmail scans: "\n\n\n" becomes "\n//".
  for (let pos = chars.length - 2; pos > 0; pos--) {
    if (chars[pos] === '\n' && chars[pos - 1] === '\n') chars[pos] = '/';
  }
  return `${chars.join('')}\n`;
}

export interface BounceHeads {
  /** Everything before bounce/ID's contents. */
  head: string;
  /** Between bounce/ID's contents and mess/S/ID's. */
  middle: string;
}

export interface BounceNames {
  bouncefrom: string;
  bouncehost: string;
  /** Envelope recipient of the bounce: the original sender, or doublebounceto@doublebouncehost. */
  recipient: string;
  /** The original sender (after VERP stripping); '' makes it a double bounce. */
  sender: string;
  nowMs: number;
}

/** The text around bounce/ID and the original message. */
export function bounceHeads(b: BounceNames): BounceHeads {
  const single = b.sender !== '';
  const head =
    `Date: ${date822(b.nowMs)}\n` +
    `From: ${quote(b.bouncefrom)}@${b.bouncehost}\n` +
    `To: ${quote2(b.recipient)}\n` +
    bounceSubject +
    '\n' +
    `Hi. This is the qmail-send program at ${b.bouncehost}.\n` +
    (single ? bounceSingleIntro : bounceDoubleIntro);
  const middle = (single ? bounceSingleSeparator : bounceDoubleSeparator) + `Return-Path: <${quote2(b.sender)}>\n`;
  return { head, middle };
}
