// qmail-smtpd's contract (shared/spec/local.md section 4; notqmail qmail-smtpd.c, commands.c,
// received.c, rcpthosts.c): every reply byte for byte, the named bounds, and the mapping from the
// qmail-queue result to the reply after DATA. Every reply line ends with CRLF (added here).

const crlf = (s: string): string => `${s}\r\n`;

export const smtpdReply = {
  /** control/smtpgreeting (or me) missing, or another control unreadable: then exit. */
  dieControl: crlf('421 unable to read controls (#4.3.0)'),
  dieNoMem: crlf('421 out of memory (#4.3.0)'),
  dieIpme: crlf('421 unable to figure out my IP addresses (#4.3.0)'),
  /** Read timeout: then exit 1. */
  dieAlarm: crlf('451 timeout (#4.4.2)'),
  /** Bare LF in DATA (notqmail's text): then exit 1, nothing more said. Commands accept a bare LF. */
  strayNewline: crlf('451 See https://cr.yp.to/docs/smtplf.html.'),
  unimplemented: crlf('502 unimplemented (#5.5.1)'),
  syntax: crlf('555 syntax error (#5.5.4)'),
  wantMail: crlf('503 MAIL first (#5.5.1)'),
  wantRcpt: crlf('503 RCPT first (#5.5.1)'),
  badMailFrom: crlf('553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)'),
  noGateway: crlf("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"),
  /** qmail-queue could not be started (fork failure). */
  qqt: crlf('451 qqt failure (#4.3.0)'),
  goAhead: crlf('354 go ahead'),
  ok: crlf('250 ok'),
  flushed: crlf('250 flushed'),
  vrfy: crlf("252 send some mail, i'll try my best"),
  help: crlf('214 notqmail home page: https://notqmail.org'),
  tooManyHops: crlf('554 too many hops, this message is looping (#5.4.6)'),
  tooBig: crlf('552 sorry, that message size exceeds my databytes limit (#5.3.4)'),
  /** Not qmail: a command line longer than commandLineBytesMax (qmail grows its buffer until out of memory). */
  lineTooLong: crlf('500 line too long (#5.5.2)'),
  /** Not qmail: more than recipientsMax accepted RCPTs in one transaction (qmail has no limit). */
  tooManyRecipients: crlf('452 too many recipients (#4.5.3)'),
} as const;

export const greeting220 = (greeting: string): string => crlf(`220 ${greeting} ESMTP`);
export const helo250 = (greeting: string): string => crlf(`250 ${greeting}`);
export const ehlo250 = (greeting: string): string => `250-${greeting}\r\n250-PIPELINING\r\n250 8BITMIME\r\n`;
export const quit221 = (greeting: string): string => crlf(`221 ${greeting}`);
/** After a queued message: T = time in seconds, P = qmail-queue's pid. */
export const accepted250 = (epochSec: number, qp: number): string => crlf(`250 ok ${epochSec} qp ${qp}`);

/** The qmail_close string (D or Z + text, impl/lib/qq-message.ts) to the reply: D → 554, Z → 451. */
export function qqReply(message: string): string {
  return crlf(`${message.startsWith('D') ? '554' : '451'} ${message.slice(1)}`);
}

/** A message with this many Received/Delivered-To header lines (or more) is looping. */
export const hopsMax = 100;
/** An address (after parsing, counting its NUL) longer than this is a syntax error. */
export const smtpAddressBytesMax = 900;
/** control/databytes default: 0 = unlimited. */
export const databytesDefault = 0;
/** control/timeoutsmtpd default, seconds; a value <= 0 becomes 1. */
export const timeoutSmtpdDefaultSec = 1200;
/** Our bound on a command line (qmail has none): longer lines are discarded to LF and get lineTooLong. */
export const commandLineBytesMax = 8192;
/** Our bound on recipients of one transaction (qmail has none). */
export const recipientsMax = 10_000;
/** Bytes read from fd 0 at a time. */
export const smtpdReadBytes = 8192;

/** Received line bytes outside this set become '?' (notqmail's safeput, with '[' and ']'). */
export const receivedSafeRe = /[^A-Za-z0-9.@%+/=:\-[\]]/g;

export function assertSmtpdLimits(): void {
  if (!(commandLineBytesMax > smtpAddressBytesMax + 16)) throw new Error('spec: a MAIL line must fit a command line');
  if (!(hopsMax > 1)) throw new Error('spec: hopsMax');
}
assertSmtpdLimits();
