// sendmail: the sendmail-compatible front end to qmail-inject (notqmail sendmail.c).
//
// Usage:   sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]; as `mailq`: the queue.
// Runs as: the calling user. Node cannot exec: the program it would exec is spawned with fds 0, 1
//          and 2 inherited, and sendmail exits with its exit code.
// Input:   the options (getopt `vimte:f:p:o:B:F:EJxb:`, spec/inject.ts); the message on fd 0,
//          read by qmail-inject (or qmail-smtpd for -bs).
// Runs:    <home>/bin/qmail-inject -H|-a [-f sender] -- args; -bp and `mailq`: bin/qmail-qread;
//          -bs: bin/qmail-smtpd, with the local SMTP environment when PROTO is unset.
// Exit:    the child's code (111 if it died of a signal); 100 usage or `newaliases`; 111 when home
//          is unreachable or the program would not run.
// Crash safety: holds nothing; the child does the work.

import type { Sys } from '../sys/types.ts';
import { isSysError } from '../sys/errors.ts';
import { sendmailExit, sendmailText } from '../../spec/inject.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { writeAll } from '../shared/fdio.ts';
import { qmailHome } from '../shared/queue-config.ts';
import { sendmailPlan, type SendmailPlan } from './plan.ts';

export async function main(sys: Sys): Promise<number> {
  const argv = sys.proc.self.argv;
  const home = qmailHome(sys);
  try {
    await sys.proc.chdir(home);
  } catch (e) {
    if (!isSysError(e)) throw e;
    return say(sys, sendmailExit.temp, sendmailText.home);
  }
  const plan = sendmailPlan(argv, sys.proc.self.env);
  if ('exit' in plan) return say(sys, plan.exit, plan.text);
  return run(sys, home, plan);
}

async function run(sys: Sys, home: string, plan: SendmailPlan): Promise<number> {
  let child;
  try {
    child = await sys.proc.spawn(`${home}/bin/${plan.program}`, [plan.program, ...plan.args], { env: plan.env, cwd: home, fds: [0, 1, 2] });
  } catch (e) {
    if (!isSysError(e)) throw e;
    return say(sys, sendmailExit.temp, sendmailText.run + plan.program);
  }
  const status = await child.wait();
  return status.code ?? sendmailExit.temp;
}

async function say(sys: Sys, code: number, text: string): Promise<number> {
  await writeAll(sys, 2, latin1Bytes(`${text}\n`)).catch(() => undefined);
  return code;
}


