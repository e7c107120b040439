// The Received line qmail-smtpd writes first into the message (notqmail received.c):
//   Received: from HOST[ (HELO H)] ([INFO@]IP)\n  by LOCAL with SMTP; DATE\n
// Pure: the time comes in as epoch milliseconds.

import { date822 } from '../lib/date822.ts';
import { receivedSafeRe } from '../../spec/smtpd.ts';

export interface ReceivedFrom {
  remoteHost: string;
  /** The HELO argument when it differs (case-insensitively) from remoteHost, else null. */
  fakeHelo: string | null;
  remoteInfo: string | null;
  remoteIp: string;
  local: string;
}

function safe(s: string): string {
  return s.replace(receivedSafeRe, '?');
}

export function smtpReceived(r: ReceivedFrom, epochMs: number): string {
  const helo = r.fakeHelo === null ? '' : ` (HELO ${safe(r.fakeHelo)})`;
  const info = r.remoteInfo === null ? '' : `${safe(r.remoteInfo)}@`;
  return `Received: from ${safe(r.remoteHost)}${helo} (${info}${safe(r.remoteIp)})\n  by ${safe(r.local)} with SMTP; ${date822(epochMs)}\n`;
}
