// qmail-inject's work, pure (spec local.md 3.1-3.4): the input message, the options, the
// environment, the configuration, the time and the pid in; the message to queue, its envelope
// sender and recipients out, or a fatal error (text and exit code). main.ts does the IO.

import { date822 } from '../lib/date822.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { concat } from '../lib/envelope.ts';
import { quote2 } from '../lib/quote.ts';
import { formatAddrList, listAddresses, mapAddresses, parseAddrList, tokenize, type ListItem } from '../lib/token822.ts';
import { injectExit, injectText, recipientListNotShown } from '../../spec/inject.ts';
import { splitMessage, type HeaderField } from './header.ts';
import { qualify, type QualifyConfig } from './qualify.ts';

export type Strategy = 'a' | 'A' | 'h' | 'H';

export interface InjectConfig extends QualifyConfig {
  idhost: string;
}

export interface InjectInput {
  message: Uint8Array;
  args: readonly string[];
  strategy: Strategy;
  /** -f's argument, or null. */
  sender: string | null;
  env: Readonly<Record<string, string>>;
  config: InjectConfig;
  nowMs: number;
  pid: number;
  /** The lines of the QMAILMFTFILE file (mailing-list addresses), or null when unset or unreadable. */
  mftList?: readonly string[] | null;
}

export type InjectResult =
  | { ok: true; message: Uint8Array; sender: string; recipients: string[] }
  | { ok: false; code: number; text: string };

const recipientFields = ['to', 'cc', 'bcc', 'apparently-to'];
const resentRecipientFields = ['resent-to', 'resent-cc', 'resent-bcc'];
const otherAddrFields = ['return-path', 'sender', 'from', 'reply-to', 'return-receipt-to', 'errors-to', 'resent-sender', 'resent-from', 'resent-reply-to'];
const resentMarkers = ['resent-sender', 'resent-from', 'resent-reply-to', 'resent-to', 'resent-cc', 'resent-bcc', 'resent-date', 'resent-message-id'];
const alwaysRemoved = ['bcc', 'resent-bcc', 'return-path', 'content-length'];

class Fatal {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {}
}

export function compose(input: InjectInput): InjectResult {
  try {
    return composeOrThrow(input);
  } catch (e) {
    if (e instanceof Fatal) return { ok: false, code: e.code, text: e.text };
    throw e;
  }
}

function composeOrThrow(input: InjectInput): InjectResult {
  const flags = input.env['QMAILINJECT'] ?? '';
  const q = (a: string): string => qualify(a, input.config);
  const { fields: all, body } = splitMessage(input.message);
  const fields = all.filter((f) => !(flags.includes('s') && f.name === 'return-path') && !(flags.includes('f') && f.name === 'from') && !(flags.includes('i') && f.name === 'message-id'));
  const resent = fields.some((f) => resentMarkers.includes(f.name));
  const headerRcpts: string[] = [];
  const toCc: string[][] = [];
  let returnPath: string | null = null;
  const out: string[] = [];
  for (const f of fields) {
    const rewritten = rewriteField(f, q);
    const wanted = (resent ? resentRecipientFields : recipientFields).includes(f.name);
    if (wanted && rewritten !== null) headerRcpts.push(...listAddresses(rewritten.items).filter((a) => a !== ''));
    if ((f.name === 'to' || f.name === 'cc') && rewritten !== null) toCc.push(listAddresses(rewritten.items).filter((a) => a !== ''));
    if (f.name === 'return-path' && returnPath === null && rewritten !== null) returnPath = listAddresses(rewritten.items)[0] ?? '';
    if (!alwaysRemoved.includes(f.name)) out.push(rewritten === null ? f.text : rewritten.text);
  }
  const args = input.strategy === 'h' ? [] : input.args.map((a) => parseArg(a, q));
  const recipients = input.strategy === 'a' ? args : input.strategy === 'h' ? headerRcpts : input.strategy === 'H' ? [...args, ...headerRcpts] : args.length > 0 ? args : headerRcpts;
  const from = defaultFrom(input.env, q);
  const sender = input.sender !== null ? (input.sender === '' ? '' : parseArg(input.sender, q)) : returnPath ?? defaultSender(input, flags, q);
  const added = addedFields(fields, resent, from, input);
  const mft = followupTo(fields, toCc, input.mftList ?? null);
  if (mft !== null) added.push(mft);
  const text = added.join('') + out.join('') + '\n';
  return { ok: true, message: concat([latin1Bytes(text), body]), sender, recipients };
}

/** An address field reparsed, qualified and reprinted; null when it is not an address field, or a
 *  recipient field that does not parse (left as written). Other address fields must parse. */
function rewriteField(f: HeaderField, q: (a: string) => string): { text: string; items: ListItem[] } | null {
  const recipient = recipientFields.includes(f.name) || resentRecipientFields.includes(f.name);
  if (!recipient && !otherAddrFields.includes(f.name)) return null;
  const toks = tokenize(f.value);
  const items = toks === null ? null : parseAddrList(toks);
  if (items === null) {
    if (recipient) return null;
    throw new Fatal(injectExit.perm, injectText.invalidField + f.text);
  }
  if (toks !== null && toks.length === 0) return { text: f.text, items: [] };
  const mapped = mapAddresses(items, q);
  const head = f.head;
  return { text: `${head} ${formatAddrList(mapped, head.length + 1)}\n`, items: mapped };
}

/** A command-line address (or -f sender): quote2'ed, parsed, qualified. */
function parseArg(arg: string, q: (a: string) => string): string {
  const toks = tokenize(quote2(arg));
  const items = toks === null ? null : parseAddrList(toks);
  const addrs = items === null ? [] : listAddresses(items);
  if (addrs.length !== 1) throw new Fatal(injectExit.perm, injectText.parseAddress + arg);
  return q(addrs[0] as string);
}

interface FromParts {
  user: string;
  host: string | null;
  name: string | null;
  addr: string;
}

function firstSet(env: Readonly<Record<string, string>>, names: readonly string[]): string | null {
  for (const n of names) if (env[n] !== undefined) return env[n] as string;
  return null;
}

function defaultFrom(env: Readonly<Record<string, string>>, q: (a: string) => string): FromParts {
  const user = firstSet(env, ['QMAILUSER', 'MAILUSER', 'USER', 'LOGNAME']) ?? 'anonymous';
  const host = firstSet(env, ['QMAILHOST', 'MAILHOST']);
  const name = firstSet(env, ['QMAILNAME', 'MAILNAME', 'NAME']);
  return { user, host, name, addr: q(host === null ? user : `${user}@${host}`) };
}

function defaultSender(input: InjectInput, flags: string, q: (a: string) => string): string {
  const env = input.env;
  let user = firstSet(env, ['QMAILSUSER']) ?? firstSet(env, ['QMAILUSER', 'MAILUSER', 'USER', 'LOGNAME']) ?? 'anonymous';
  const host = firstSet(env, ['QMAILSHOST', 'QMAILHOST', 'MAILHOST']);
  if (flags.includes('m')) user += `-${Math.floor(input.nowMs / 1000)}.${input.pid}`;
  if (flags.includes('r')) user += '-';
  const s = q(host === null ? user : `${user}@${host}`);
  return flags.includes('r') ? `${s}-@[]` : s;
}

function fromValue(from: FromParts, flags: string): string {
  const addr = quote2(from.addr);
  if (from.name === null) return addr;
  if (flags.includes('c')) return `${addr} (${from.name})`;
  return `"${from.name.replace(/["\\]/g, (c) => `\\${c}`)}" <${addr}>`;
}

/** Date, Message-ID, From, Cc (or their Resent- forms), each only when missing, in that order. */
function addedFields(fields: readonly HeaderField[], resent: boolean, from: FromParts, input: InjectInput): string[] {
  const has = (n: string): boolean => fields.some((f) => f.name === n);
  const p = resent ? 'Resent-' : '';
  const lp = p.toLowerCase();
  const out: string[] = [];
  if (!has(`${lp}date`)) out.push(`${p}Date: ${date822(input.nowMs)}\n`);
  if (!has(`${lp}message-id`)) out.push(`${p}Message-ID: <${messageIdStamp(input.nowMs)}.${input.pid}.qmail@${input.config.idhost}>\n`);
  if (!has(`${lp}from`)) out.push(`${p}From: ${fromValue(from, input.env['QMAILINJECT'] ?? '')}\n`);
  if (!has(`${lp}to`) && !has(`${lp}cc`)) out.push(`${p}Cc: ${recipientListNotShown}\n`);
  return out;
}

/** Mail-Followup-To, when the message goes to a listed mailing list and has none: every To and Cc
 *  address, fields in reverse order of appearance (as qmail-inject prints them). */
function followupTo(fields: readonly HeaderField[], toCc: readonly string[][], lists: readonly string[] | null): string | null {
  if (lists === null || fields.some((f) => f.name === 'mail-followup-to')) return null;
  const listed = new Set(lists.map((l) => l.toLowerCase()));
  const all = [...toCc].reverse().flat();
  if (!all.some((a) => listed.has(a.toLowerCase()))) return null;
  return `Mail-Followup-To: ${all.map(quote2).join(',\n  ')}\n`;
}

/** YYYYMMDDHHMMSS, UTC, every part zero-padded. */
export function messageIdStamp(nowMs: number): string {
  const d = new Date(Math.floor(nowMs / 1000) * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** The -n output: `Return-Path: <quote2(sender)>` and the message. */
export function printed(sender: string, message: Uint8Array): Uint8Array {
  return concat([latin1Bytes(`Return-Path: <${quote2(sender)}>\n`), message]);
}
