// The three lines qmail-local builds once per run (../shared/spec/local.md 2.3) and writes before a
// message: DTLINE (maildir, mbox, forwards), RPLINE (maildir, mbox), UFLINE (mbox From_ line).
// Byte strings in and out.

import { myctime } from '../lib/myctime.ts';
import { quote2 } from '../lib/quote.ts';

/** Pure: `Delivered-To: local@domain\n`, every LF inside turned into `_`. */
export function dtLine(local: string, domain: string): string {
  return `Delivered-To: ${local}@${domain}`.replace(/\n/g, '_') + '\n';
}

/** Pure: `Return-Path: <quote2(sender)>\n`, every LF inside turned into `_`. */
export function rpLine(sender: string): string {
  return `Return-Path: <${quote2(sender)}`.replace(/\n/g, '_') + '>\n';
}

/** Pure: `From SENDER DATE\n`: space, tab and LF in the sender become `-`; MAILER-DAEMON for <>. */
export function ufLine(sender: string, epochSec: number): string {
  const who = sender === '' ? 'MAILER-DAEMON' : sender.replace(/[ \t\n]/g, '-');
  return `From ${who} ${myctime(epochSec)}`;
}
