// Forwarding (../shared/spec/local.md 2.9): NEWSENDER from the -owner files, and one qmail-queue run
// for every forward line, with DTLINE + the message (no Return-Path) and envelope NEWSENDER → the
// addresses in file order.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { dotQmail, localText } from '../../spec/local.ts';
import { queueMessage } from '../shared/qq-client.ts';
import { bytesOf, textOf } from './bytes.ts';
import type { LocalContext } from './context.ts';
import { errText, isTempError, perm, temp } from './failure.ts';
import { safeExt } from './dot-qmail-lookup.ts';
import { fromStart, prefixed, rewind } from './message.ts';

/** Pure: NEWSENDER from the sender and which -owner files exist (byte strings). */
export function newSender(sender: string, local: string, host: string, owner: boolean, ownerDefault: boolean): string {
  if (sender === '' || sender === dotQmail.doubleBounceSender || !owner) return sender;
  return ownerDefault ? `${local}-owner-@${host}-@[]` : `${local}-owner@${host}`;
}

/** Pure: whether the -owner files are looked at at all. */
export function ownerLookup(sender: string): boolean {
  return sender !== '' && sender !== dotQmail.doubleBounceSender;
}

/** NEWSENDER for this run (qmeox): stats `.qmail` + dash + safeext + `-owner` (then `-owner-default`). */
export async function findNewSender(sys: Sys, homedir: string, sender: string, local: string, host: string, dash: string, ext: string): Promise<string> {
  if (!ownerLookup(sender)) return sender;
  const base = dotQmail.prefix + dash + safeExt(ext);
  const owner = await exists(sys, homedir, base + dotQmail.owner);
  const ownerDefault = owner && (await exists(sys, homedir, base + dotQmail.ownerDefault));
  return newSender(sender, local, host, owner, ownerDefault);
}

/** stat succeeds (any file type); a temporary failure defers. */
async function exists(sys: Sys, homedir: string, name: string): Promise<boolean> {
  try {
    await sys.fs.stat(`${homedir}/${textOf(name)}`);
    return true;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    if (isTempError(e)) throw temp(localText.openQmail(name, errText(e)));
    return false;
  }
}

/** Queues the message for every forward address; returns qmail-queue's pid (for `qp`). */
export async function forwardAll(ctx: LocalContext, newSenderBin: string, recipients: readonly string[]): Promise<number | null> {
  await rewind(ctx.message);
  const message = prefixed(bytesOf(ctx.dtLine), fromStart(ctx.message));
  const envelope = { sender: bytesOf(newSenderBin), recipients: recipients.map(bytesOf) };
  const r = await queueMessage(ctx.sys, message, envelope, { home: ctx.qmailHome, env: ctx.env });
  if (r.kind === 'ok') return r.pid;
  const text = localText.forward(r.message.slice(1));
  throw r.kind === 'D' ? perm(text) : temp(text);
}
