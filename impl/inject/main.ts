// qmail-inject: preprocess and send a mail message.
//
// Usage:   qmail-inject [ -nNaAhH ] [ -fsender ] [ recipient ... ]   (message on fd 0)
// Runs as: the submitting user; queues through bin/qmail-queue (setuid qmailq) or $QMAILQUEUE.
// Input:   fd 0, the message. Control files control/me, defaultdomain, defaulthost, plusdomain,
//          idhost (each overridden by QMAILDEFAULTDOMAIN etc.). Environment: QMAILINJECT flags,
//          QMAILUSER/MAILUSER/USER/LOGNAME, QMAILHOST/MAILHOST, QMAILNAME/MAILNAME/NAME,
//          QMAILSUSER, QMAILSHOST, QMAILMFTFILE (mailing lists for Mail-Followup-To), NULLQUEUE/QMAILQUEUE/ERROR_FD (impl/shared/qq-client.ts).
// Output:  the rewritten message queued; with -n printed on fd 1 after a Return-Path line.
//          Fatal errors as one line `qmail-inject: fatal: ...` on fd 2.
// Exit:    0 queued (or printed); 100 bad usage, bad address or header, or a permanent qmail-queue
//          refusal (D); 111 temporary: read error, qmail-queue would not run or refused for now (Z).
// Crash safety: nothing is durable here; the message is the queue's once qmail-queue exits 0,
//          and a crash before that leaves it with the caller, who sees a non-zero exit.

import type { Sys } from '../sys/types.ts';
import { isSysError } from '../sys/errors.ts';
import { injectExit, injectFatal, injectOptions, injectText } from '../../spec/inject.ts';
import { getopt } from '../lib/getopt.ts';
import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { Controls } from '../shared/controls.ts';
import { readAll, readFileOrNull, writeAll } from '../shared/fdio.ts';
import { queueMessage } from '../shared/qq-client.ts';
import { qmailHome } from '../shared/queue-config.ts';
import { compose, printed, type InjectConfig, type Strategy } from './compose.ts';
import { loadConfig } from './config.ts';

export async function main(sys: Sys): Promise<number> {
  const parsed = getopt(sys.proc.self.argv.slice(1), injectOptions);
  if (parsed.bad !== null) return injectExit.perm; // silently, as qmail-inject does
  let strategy: Strategy = 'A';
  let print = false;
  let sender: string | null = null;
  for (const { opt, arg } of parsed.opts) {
    if (opt === 'n') print = true;
    else if (opt === 'N') print = false;
    else if (opt === 'f') sender = arg;
    else strategy = opt as Strategy;
  }
  const env = sys.proc.self.env;
  const home = qmailHome(sys);
  let config: InjectConfig;
  let message: Uint8Array;
  try {
    config = await loadConfig(new Controls(sys, home), env);
  } catch (e) {
    if (!isSysError(e)) throw e;
    return fatal(sys, injectExit.temp, injectText.readError);
  }
  try {
    message = await readAll(sys, 0);
  } catch (e) {
    if (!isSysError(e)) throw e;
    return fatal(sys, injectExit.temp, injectText.readError);
  }
  const mftList = await readMftFile(sys, env['QMAILMFTFILE']);
  const r = compose({ message, args: parsed.rest, strategy, sender, env, config, nowMs: sys.clock.nowMs(), pid: sys.proc.self.pid, mftList });
  if (!r.ok) return fatal(sys, r.code, r.text);
  if (print) {
    await writeAll(sys, 1, printed(r.sender, r.message));
    return injectExit.ok;
  }
  const enc = (s: string): Uint8Array => latin1Bytes(s);
  const q = await queueMessage(sys, r.message, { sender: enc(r.sender), recipients: r.recipients.map(enc) }, { home, env });
  if (q.kind === 'ok') return injectExit.ok;
  if (q.pid === null) return fatal(sys, injectExit.temp, injectText.runQq);
  return fatal(sys, q.kind === 'D' ? injectExit.perm : injectExit.temp, q.message.slice(1));
}

/** QMAILMFTFILE's lines (blank lines dropped); null when unset or unreadable, as qmail ignores it. */
async function readMftFile(sys: Sys, path: string | undefined): Promise<string[] | null> {
  if (path === undefined || path === '') return null;
  let bytes: Uint8Array | null;
  try {
    bytes = await readFileOrNull(sys, path);
  } catch (e) {
    if (!isSysError(e)) throw e;
    return null;
  }
  if (bytes === null) return null;
  return latin1(bytes).split('\n').map((l) => l.replace(/[ \t\r]+$/, '')).filter((l) => l !== '');
}

async function fatal(sys: Sys, code: number, text: string): Promise<number> {
  const line = text.endsWith('\n') ? text : `${text}\n`;
  await writeAll(sys, 2, latin1Bytes(injectFatal + line)).catch(() => undefined);
  return code;
}
