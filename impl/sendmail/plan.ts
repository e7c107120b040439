// What sendmail runs, decided from argv and the environment (notqmail sendmail.c, spec local.md
// 3.5). Pure: main.ts spawns the plan.

import { sendmailBsEnv, sendmailExit, sendmailOptions, sendmailText } from '../../spec/inject.ts';
import { getopt } from '../lib/getopt.ts';

export interface SendmailPlan {
  program: 'qmail-inject' | 'qmail-qread' | 'qmail-smtpd';
  args: string[];
  env: Record<string, string>;
}

export type SendmailDecision = SendmailPlan | { exit: number; text: string };

export function sendmailPlan(argv: readonly string[], env0: Readonly<Record<string, string>>): SendmailDecision {
  const env: Record<string, string> = { ...env0 };
  const name = (argv[0] ?? '').slice((argv[0] ?? '').lastIndexOf('/') + 1);
  if (name === 'mailq') return { program: 'qmail-qread', args: [], env };
  if (name === 'newaliases') return { exit: sendmailExit.perm, text: sendmailText.newaliases };
  const usage = { exit: sendmailExit.perm, text: sendmailText.usage };
  const parsed = getopt(skipEJ(argv.slice(1)), sendmailOptions);
  if (parsed.bad !== null) return usage;
  let flagH = false;
  let sender: string | null = null;
  for (const { opt, arg } of parsed.opts) {
    if (opt === 't') flagH = true;
    else if (opt === 'f') sender = arg;
    else if (opt === 'F') env['MAILNAME'] = arg ?? '';
    else if (opt === 'b') {
      if (arg === 'p') return { program: 'qmail-qread', args: [], env };
      if (arg === 's') return { program: 'qmail-smtpd', args: [], env: env['PROTO'] === undefined ? { ...env, ...sendmailBsEnv } : env };
      if (arg !== 'm') return usage;
    }
  }
  if (sender !== null) senderEnv(env, sender);
  const args = [flagH ? '-H' : '-a', ...(sender !== null ? ['-f', sender] : []), '--', ...parsed.rest];
  return { program: 'qmail-inject', args, env };
}

/** -E and -J take no argument but skip whatever is attached (`-Eabc`): drop those words. */
function skipEJ(args: readonly string[]): string[] {
  const out: string[] = [];
  let options = true;
  for (const a of args) {
    if (options && (a === '--' || !a.startsWith('-'))) options = false;
    if (options && /^-[EJ]/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** netqmail/notqmail: -f also names the From user and host (and loses any -F name). */
function senderEnv(env: Record<string, string>, sender: string): void {
  for (const v of ['QMAILNAME', 'MAILNAME', 'NAME', 'QMAILHOST', 'MAILHOST']) delete env[v];
  const at = sender.lastIndexOf('@');
  if (at < 0) env['QMAILUSER'] = sender;
  else {
    env['QMAILUSER'] = sender.slice(0, at);
    env['QMAILHOST'] = sender.slice(at + 1);
  }
}
