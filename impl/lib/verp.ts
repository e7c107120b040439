// VERP (nq:qmail-send.c senderadd, injectbounce): a sender ending in `-@[]` asks for one envelope
// sender per recipient. Pure; addresses are one character per byte.

import { verpSuffix } from '../../spec/send.ts';
import { rchr } from './latin1.ts';

/** The sender a spawner is given for this recipient: `prefix-@host-@[]` with `box@dom` becomes
 *  `prefix-box=dom@host`; any other sender (or a recipient without '@') is given unchanged. */
export function verpSender(sender: string, recip: string): string {
  const i = sender.length;
  if (i < 4 || !sender.endsWith(verpSuffix)) return sender;
  const j = rchr(sender, i - 4, '@');
  const k = recip.lastIndexOf('@');
  if (k < 0 || j + 5 > i) return sender;
  return `${sender.slice(0, j)}${recip.slice(0, k)}=${recip.slice(k + 1)}@${sender.slice(j + 1, i - 4)}`;
}

/** The sender a bounce goes back to: a VERP sender loses its `-@[]` (`owner-@host-@[]` →
 *  `owner-@host`). */
export function bounceTarget(sender: string): string {
  return sender.endsWith(verpSuffix) ? sender.slice(0, -verpSuffix.length) : sender;
}
