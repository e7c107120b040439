// Which message a delivered copy is, from its bytes alone: an original (its body starts with
// `X-Sim-Index: N`), a forward (qmail-local's Delivered-To line, then the copy it forwarded), or a
// bounce (single or double) naming the recipients that failed, wrapped around the message it
// bounces (itself any of these). The copy key (its Received line)
// tells two queued copies apart: every qmail-queue run writes its own; one qmail-queued writes the
// same qp for many messages, so an original's instance is its line and its index (instanceKey).

import {
  bounceDoubleIntro, bounceDoubleSeparator, bounceSingleIntro, bounceSingleSeparator,
} from '../../spec/send.ts';

export type Identity =
  | { kind: 'original'; index: number; copy: string }
  /** A copy qmail-local forwarded: its Delivered-To line names the forwarding recipient. */
  | { kind: 'forward'; by: string; inner: Identity; copy: string }
  | { kind: 'bounce'; double: boolean; failed: string[]; inner: Identity; copy: string }
  | { kind: 'unknown'; copy: string };

const hiLine = '\nHi. This is the qmail-send program at ';

/** `mess` is a queue message: a Received line, then the message. One character per byte. */
export function identify(mess: string): Identity {
  const nl = mess.indexOf('\n');
  const copy = nl < 0 ? mess : mess.slice(0, nl);
  const body = nl < 0 ? '' : mess.slice(nl + 1);
  const m = /^X-Sim-Index: ([0-9]+)\n/.exec(body);
  if (m !== null) return { kind: 'original', index: Number(m[1]), copy };
  const fwd = /^Delivered-To: ([^\n]*)\n(?=Received: )/.exec(body);
  if (fwd !== null) return { kind: 'forward', by: fwd[1] ?? '', inner: identify(body.slice(fwd[0].length)), copy };
  const hi = body.indexOf(hiLine);
  if (hi < 0) return { kind: 'unknown', copy };
  // The intro follows the Hi line at once (a double bounce quotes a single one further down).
  const introAt = body.indexOf('\n', hi + 1) + 1;
  for (const [intro, separator, double] of [
    [bounceSingleIntro, bounceSingleSeparator, false],
    [bounceDoubleIntro, bounceDoubleSeparator, true],
  ] as const) {
    if (introAt === 0 || !body.startsWith(intro, introAt)) continue;
    const blocksAt = introAt + intro.length;
    const sep = body.indexOf(separator, blocksAt);
    if (sep < 0) continue;
    const rest = body.slice(sep + separator.length);
    const rp = /^Return-Path: <[^\n]*>\n/.exec(rest);
    if (rp === null) continue;
    return { kind: 'bounce', double, failed: failedRecipients(body.slice(blocksAt, sep)), inner: identify(rest.slice(rp[0].length)), copy };
  }
  return { kind: 'unknown', copy };
}

/** The `<recipient>:` lines that open blocks (a block opens the text or follows a blank line). */
export function failedRecipients(blocks: string): string[] {
  const out: string[] = [];
  let opens = true;
  for (const line of blocks.split('\n')) {
    const m = opens ? /^<(.*)>:$/.exec(line) : null;
    if (m !== null) out.push(m[1] ?? '');
    opens = line === '';
  }
  return out;
}

/** Which queued instance a copy is: its Received line names the qmail-queue run; an original adds
 *  its index, since one qmail-queued (one qp) may queue many messages within a second. A client
 *  submits each message once, so (line, index) names one instance. */
export function instanceKey(id: Identity): string {
  return id.kind === 'original' ? `${id.copy}\n#${id.index}` : id.copy;
}

/** The original message a bounce (of a bounce ...) is about, or null. */
export function innermost(id: Identity): number | null {
  if (id.kind === 'original') return id.index;
  if (id.kind === 'bounce' || id.kind === 'forward') return innermost(id.inner);
  return null;
}
