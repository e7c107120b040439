// What arrived where, read from the mailboxes themselves, for the end-to-end suites (the real
// qmail-lspawn and qmail-local in the world): Maildir files, mbox entries, what `|program` lines
// were fed, and what is still queued at the end. Each becomes a delivery attempt for the ledger
// (delivery.ts) with its copy's identity, after its bytes are checked exactly:
//
//   maildir file   Return-Path: <S>\n Delivered-To: R\n  then the queued copy (mess) byte for byte;
//   mbox entry     From S <ctime>\n, the same two lines, the copy >From-quoted, an LF, an empty line;
//   program        fd 0 is the copy itself; RPLINE and DTLINE carry the two lines;
//   the copy       a valid Received line, then: the submitted message (original), or
//                  `Delivered-To: F\n` + the forwarded copy (forward), or qmail's bounce text
//                  exactly (Date, From, To, Subject, intro, one block per failed recipient with the
//                  failure text the world expects, separator, Return-Path, the bounced copy).
//
// A forwarded copy also stands for a delivery to its forwarder F (the forward was qmail-local's
// success), once per distinct forwarded copy. Runs ("epochs") are the caller's: for maildir files
// and programs from the pid of the process that delivered (a maildir name carries it), for mbox
// entries from the snapshot that first saw them (MboxTracker).

import type { Attempt } from './delivery.ts';
import { failedRecipients, identify, type Identity } from './mail-identity.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import { receivedLineRe } from '../../spec/received.ts';
import {
  bounceDoubleIntro, bounceDoubleSeparator, bounceSingleIntro, bounceSingleSeparator, bounceSubject, doubleBounceSender,
} from '../../spec/send.ts';

/** What the checks need to know about the world. */
export interface CopyRules {
  /** control/me (bouncehost, doublebouncehost). */
  me: string;
  /** doublebounceto@doublebouncehost. */
  doubleBounceTo: string;
  /** The message a client submitted (after qmail-queue's Received line), or null if none. */
  original(index: number): { body: Uint8Array; sender: string } | null;
  /** The failure text (report after D, with its newline) a recipient may be bounced with; null when
   *  that recipient should never fail. */
  failureText(recipient: string): string | null;
  /** Rewrites a copy before it is identified and checked (net-crash strips qmail-smtpd's Received
   *  lines, checked there); absent: the copy as it is. */
  normalize?(text: string): string;
}

export interface Delivered {
  /** Where it was found (a path, path#entry, or program#n), for violations. */
  where: string;
  recipient: string;
  /** The envelope sender as delivered (Return-Path). */
  sender: string;
  /** The queued copy: Received line and message. */
  mess: Uint8Array;
  epoch: number;
}

const rpRe = /^Return-Path: <([^\n]*)>\n/;
const dtRe = /^Delivered-To: ([^\n]*)\n/;

/** A maildir file: its Return-Path, Delivered-To and copy, or a violation. */
export function parseMaildirFile(where: string, bytes: Uint8Array, epoch: number): Delivered | string {
  const text = latin1(bytes);
  const rp = rpRe.exec(text);
  const dt = rp === null ? null : dtRe.exec(text.slice(rp[0].length));
  if (rp === null || dt === null) return `${where}: does not start with Return-Path and Delivered-To`;
  const at = rp[0].length + dt[0].length;
  return { where, recipient: dt[1] ?? '', sender: rp[1] ?? '', mess: bytes.subarray(at), epoch };
}

/** qmail's >From quoting (notqmail gfrom): a line that is `From ` after any number of `>` gets one
 *  more `>`; an LF is added after an unterminated last line; then an empty line. */
export function mboxQuote(mess: string): string {
  const lines = mess.split('\n');
  const last = lines.pop() as string;
  const quoted = lines.map((l) => (/^>*From /.test(l) ? `>${l}` : l));
  if (last !== '') quoted.push(/^>*From /.test(last) ? `>${last}` : last);
  return `${quoted.join('\n')}\n\n`;
}

function mboxUnquote(body: string): string {
  return body.replace(/^>(>*From )/gm, '$1');
}

const ctimeRe = '(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}';
const ufRe = new RegExp(`^From ([^ \\n]*) ${ctimeRe}\\n`);

export interface MboxEntry {
  /** The entry's bytes as they are in the file. */
  raw: string;
  /** Parsed and byte-exact (its quoting and closing empty line), else null. */
  parsed: { recipient: string; sender: string; mess: string } | null;
}

/** An mbox's entries: each begins with a line `From ` (quoting keeps any other line from doing so). */
export function mboxEntries(text: string): MboxEntry[] {
  const starts: number[] = [];
  for (let i = 0; i < text.length; i = text.indexOf('\n', i) + 1) {
    if (text.startsWith('From ', i)) starts.push(i);
    if (text.indexOf('\n', i) < 0) break;
  }
  if (text.length > 0 && starts[0] !== 0) starts.unshift(0);
  return starts.map((s, i) => {
    const raw = text.slice(s, starts[i + 1] ?? text.length);
    return { raw, parsed: parseMboxEntry(raw) };
  });
}

function parseMboxEntry(raw: string): MboxEntry['parsed'] {
  const uf = ufRe.exec(raw);
  if (uf === null) return null;
  let rest = raw.slice(uf[0].length);
  const rp = rpRe.exec(rest);
  if (rp === null) return null;
  rest = rest.slice(rp[0].length);
  const dt = dtRe.exec(rest);
  if (dt === null) return null;
  const mess = mboxUnquote(rest.slice(dt[0].length).replace(/\n$/, ''));
  const sender = rp[1] ?? '';
  // The From_ line names the sender (MAILER-DAEMON for <>); the body must quote back exactly.
  if ((uf[1] ?? '') !== (sender === '' ? 'MAILER-DAEMON' : sender.replace(/[ \t\n]/g, '-'))) return null;
  if (rest.slice(dt[0].length) !== mboxQuote(mess)) return null;
  return { recipient: dt[1] ?? '', sender, mess };
}

/** Which run first saw each mbox entry: entries only ever get appended, except that an unfinished
 *  last entry (or a finished one whose recovery record survived) is cut by the next delivery. An
 *  entry keeps its run while the mbox still begins with the same entries up to it. */
export class MboxTracker {
  private readonly seen = new Map<string, { raw: string; epoch: number }[]>();

  /** Records the mbox's complete entries as of now, new ones in this epoch. */
  snapshot(path: string, text: string | null, epoch: number): void {
    const entries = text === null ? [] : mboxEntries(text).filter((e) => e.parsed !== null);
    const before = this.seen.get(path) ?? [];
    const now: { raw: string; epoch: number }[] = [];
    let same = true;
    for (const [i, e] of entries.entries()) {
      same &&= before[i]?.raw === e.raw;
      now.push({ raw: e.raw, epoch: same ? (before[i]?.epoch as number) : epoch });
    }
    this.seen.set(path, now);
  }

  /** The epoch of entry i as last snapshotted (the final snapshot must be of the final text). */
  epochOf(path: string, i: number): number | null {
    return this.seen.get(path)?.[i]?.epoch ?? null;
  }
}

/** The final mbox: its entries as deliveries; an entry that does not parse is a violation (at the
 *  end no delivery is left unfinished: the retry of an interrupted one cut it first). */
export function mboxDeliveries(path: string, text: string, tracker: MboxTracker, violations: string[]): Delivered[] {
  const out: Delivered[] = [];
  mboxEntries(text).forEach((e, i) => {
    if (e.parsed === null) {
      violations.push(`${path}: entry ${i} is not a complete qmail-local entry: ${JSON.stringify(e.raw.slice(0, 120))}`);
      return;
    }
    const epoch = tracker.epochOf(path, i);
    if (epoch === null) violations.push(`${path}: entry ${i} was never snapshotted`);
    out.push({ where: `${path}#${i}`, recipient: e.parsed.recipient, sender: e.parsed.sender, mess: latin1Bytes(e.parsed.mess), epoch: epoch ?? 0 });
  });
  return out;
}

/** Checks a copy's bytes against what it must be; returns its identity (or pushes violations). */
export function checkCopy(where: string, mess: Uint8Array, sender: string, rules: CopyRules, violations: string[]): Identity {
  const text = rules.normalize?.(latin1(mess)) ?? latin1(mess);
  const id = identify(text);
  const problem = copyProblem(text, id, sender, rules);
  if (problem !== null) violations.push(`${where}: ${problem}`);
  return id;
}

function copyProblem(text: string, id: Identity, sender: string, rules: CopyRules): string | null {
  const nl = text.indexOf('\n');
  if (nl < 0 || !receivedLineRe.test(text.slice(0, nl + 1))) return 'no valid Received line first';
  const rest = text.slice(nl + 1);
  switch (id.kind) {
    case 'unknown':
      return 'neither a submitted message, a forward nor a bounce';
    case 'original': {
      const o = rules.original(id.index);
      if (o === null) return `message ${id.index} was never submitted`;
      if (rest !== latin1(o.body)) return `message ${id.index}: the bytes differ from what was submitted`;
      if (sender !== o.sender) return `message ${id.index}: Return-Path <${sender}>, submitted from <${o.sender}>`;
      return null;
    }
    case 'forward': {
      const inner = rest.slice(`Delivered-To: ${id.by}\n`.length);
      return copyProblem(inner, id.inner, sender, rules);
    }
    case 'bounce':
      return bounceProblem(rest, id, sender, rules);
  }
}

const dateRe = /^Date: ([1-9]|[12][0-9]|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] -0000\n/;

/** The bounce rebuilt from qmail's texts (spec/send.ts) and the world's failure texts must equal it. */
function bounceProblem(rest: string, id: Identity & { kind: 'bounce' }, sender: string, rules: CopyRules): string | null {
  const date = dateRe.exec(rest);
  if (date === null) return 'bounce: no Date line first';
  const innerSender = innerEnvelopeSender(id.inner, rules);
  if (innerSender === null) return 'bounce of a copy whose sender is unknown';
  const single = !id.double;
  // A bounce of a message from <> (or of a bounce) goes to doublebounceto, as a double bounce.
  const to = single ? innerSender : rules.doubleBounceTo;
  const wantSender = single ? '' : doubleBounceSender;
  if (sender !== wantSender) return `bounce: Return-Path <${sender}>, want <${wantSender}>`;
  const blocks: string[] = [];
  for (const name of id.failed) {
    const why = rules.failureText(name);
    if (why === null) return `bounce names ${name}, which should never fail`;
    blocks.push(`<${name}>:\n${why}\n`);
  }
  const want =
    date[0] +
    `From: MAILER-DAEMON@${rules.me}\nTo: ${to}\n${bounceSubject}\n` +
    `Hi. This is the qmail-send program at ${rules.me}.\n` +
    (single ? bounceSingleIntro : bounceDoubleIntro) +
    blocks.join('') +
    (single ? bounceSingleSeparator : bounceDoubleSeparator) +
    `Return-Path: <${innerSender}>\n`;
  if (!rest.startsWith(want)) return `bounce text differs from qmail's: ${JSON.stringify(rest.slice(0, 600))}`;
  return copyProblem(rest.slice(want.length), id.inner, innerSender, rules);
}

function innerEnvelopeSender(id: Identity, rules: CopyRules): string | null {
  if (id.kind === 'original') return rules.original(id.index)?.sender ?? null;
  if (id.kind === 'bounce') return id.double ? doubleBounceSender : '';
  if (id.kind === 'forward') return innerEnvelopeSender(id.inner, rules);
  return null;
}

/** bounce/ID of a message still queued (its bounce waits for the other recipients): the failure
 *  blocks, each checked against the world's failure texts; an identity standing for that bounce. */
export function pendingBounce(where: string, bytes: Uint8Array, inner: Identity, rules: CopyRules, violations: string[]): Identity {
  const text = latin1(bytes);
  const failed = failedRecipients(text);
  const want = failed.map((name) => `<${name}>:\n${rules.failureText(name) ?? '(never fails)\n'}\n`).join('');
  if (text !== want) violations.push(`${where}: failure blocks differ from qmail's: ${JSON.stringify(text.slice(0, 300))}`);
  return { kind: 'bounce', double: false, failed, inner, copy: `pending ${where}` };
}

/** The qmail-queue pid (`qp`) of a copy, from its Received line. */
export function qpOfCopy(id: Identity): number | null {
  const m = /^Received: \(qmail ([0-9]+) invoked/.exec(id.copy);
  return m === null ? null : Number(m[1]);
}

/** Attempts for the ledger: each delivery (K), plus one K to the forwarder for each distinct
 *  forwarded copy seen anywhere (delivered, or among `alsoSeen`: held in the queue), in the run of
 *  the delivery that queued it. */
export function attemptsOf(delivered: Delivered[], ids: Identity[], alsoSeen: Identity[], forwardEpoch: (qp: number) => number | null, violations: string[]): Attempt[] {
  const out: Attempt[] = delivered.map((d, i) => ({ recipient: d.recipient, report: 'K', message: d.mess, epoch: d.epoch, identity: ids[i] as Identity }));
  const hops = new Set<number>();
  const addHops = (id: Identity): void => {
    if (id.kind === 'bounce') return addHops(id.inner);
    if (id.kind !== 'forward') return;
    const qp = qpOfCopy(id);
    if (qp !== null && !hops.has(qp)) {
      hops.add(qp);
      const epoch = forwardEpoch(qp);
      if (epoch === null) violations.push(`forwarded copy qp ${qp}: no qmail-queue of that pid was started by a delivery`);
      out.push({ recipient: id.by, report: 'K', message: null, epoch: epoch ?? 0, identity: id.inner });
    }
    addHops(id.inner);
  };
  for (const id of [...ids, ...alsoSeen]) addHops(id);
  return out;
}
