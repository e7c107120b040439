// One qmail-local run, in qmail-local.c's order: the home directory checks, DTLINE and the loop
// check, RPLINE and UFLINE, the .qmail file, NEWSENDER, the environment, then the instructions in
// file order (the first failure ends the run), the forwards last in one qmail-queue call, and the
// `did` line. Shared by the standalone program (main.ts) and the in-process entry (qmail-local.ts);
// they differ only in the LocalOutput.

import type { Sys } from '../sys/types.ts';
import { defaultQmailHome } from '../../spec/queue.ts';
import { didLine, localExit, localText, qpLine, sayPrefix, usageText } from '../../spec/local.ts';
import { homeOfExe } from '../shared/queue-config.ts';
import { binOf, bytesOf, latin1 } from './bytes.ts';
import type { LocalContext } from './context.ts';
import { dtLine, rpLine, ufLine } from './delivery-lines.ts';
import { commandsOf, parseDotQmail, type Instruction } from './dot-qmail.ts';
import { findDotQmail } from './dot-qmail-file.ts';
import { programEnv } from './environment.ts';
import { LocalFailure, perm, temp } from './failure.ts';
import { findNewSender, forwardAll } from './forward.ts';
import { checkHome } from './home.ts';
import { checkLoop } from './loop-check.ts';
import { deliverMaildir } from './maildir.ts';
import { deliverMbox } from './mbox.ts';
import { rewind } from './message.ts';
import type { LocalOutput } from './output.ts';
import { deliverProgram } from './program.ts';
import type { LocalArgs, MessageSource } from './types.ts';

/** Runs qmail-local; returns its exit code. Only bugs throw. */
export async function runLocal(sys: Sys, args: LocalArgs, message: MessageSource, env: Record<string, string>, out: LocalOutput): Promise<number> {
  try {
    return await run(sys, args, message, env, out);
  } catch (e) {
    if (!(e instanceof LocalFailure)) throw e;
    if (e.text !== '') await out.err(e.text);
    return e.code;
  }
}

/** The qmail home the forwards' qmail-queue belongs to: QMAILHOME, else where we are installed. */
export function qmailHomeOf(sys: Sys, env: Record<string, string>): string {
  const fromEnv = env['QMAILHOME'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return homeOfExe(sys.proc.self.exe) ?? defaultQmailHome;
}

async function run(sys: Sys, args: LocalArgs, message: MessageSource, inherited: Record<string, string>, out: LocalOutput): Promise<number> {
  if (!args.homedir.startsWith('/')) throw perm(usageText);
  if ((await checkHome(sys, args.homedir, args.dryRun)) === 'stickyWarning') await out.err(localText.homeStickyWarning);
  const [user, home, local, dash, ext, host, sender, defaultDelivery] = [
    args.user, args.homedir, args.local, args.dash, args.ext, args.domain, args.sender, args.defaultDelivery,
  ].map(binOf) as [string, string, string, string, string, string, string, string];
  const dt = dtLine(local, host);
  if (!args.dryRun) {
    await rewind(message);
    await checkLoop(message, bytesOf(dt));
  }
  const rp = rpLine(sender);
  const uf = ufLine(sender, Math.floor(sys.clock.nowMs() / 1000));
  const found = await findDotQmail(sys, args.homedir, dash, ext);
  if (found === null && dash !== '') throw perm(localText.noMailbox);
  const newSender = await findNewSender(sys, args.homedir, sender, local, host, dash, ext);
  const defaultAt = found?.candidate.defaultAt ?? null;
  const defaultPart = defaultAt === null ? null : ext.slice(defaultAt);
  const vars = { host, home, user, local, dtLine: dt, sender, rpLine: rp, ufLine: uf, ext, defaultPart, newSender };
  const commands = commandsOf(found === null ? null : latin1(found.content), defaultDelivery);
  // Built when a program or a forward needs it: a Maildir or mbox delivery never does.
  let env: Record<string, string> | null = null;
  const ctx: LocalContext = {
    sys, args, message, out, dtLine: dt, rpLine: rp, ufLine: uf,
    get env() {
      return (env ??= programEnv(inherited, vars));
    },
    qmailHome: qmailHomeOf(sys, inherited),
  };
  const forwardOnly = commands.fileCounts && found !== null && found.forwardOnly;
  return execute(ctx, parseDotQmail(commands.text), forwardOnly, newSender);
}

interface Counts {
  file: number;
  forward: number;
  program: number;
}

/** The instructions in order; forwards collected and queued last; then `did F+W+P`. */
async function execute(ctx: LocalContext, instructions: readonly Instruction[], forwardOnlyAtStart: boolean, newSender: string): Promise<number> {
  const counts: Counts = { file: 0, forward: 0, program: 0 };
  const recipients: string[] = [];
  let forwardOnly = forwardOnlyAtStart;
  for (const ins of instructions) {
    if (ins.kind === 'blankFirst') throw temp(localText.firstLineBlank);
    if (ins.kind === 'forwardOnly') {
      forwardOnly = true;
      continue;
    }
    if (ins.kind === 'forward') {
      counts.forward++;
      if (ctx.args.dryRun) await ctx.out.out(`${sayPrefix.forward}${ins.said}\n`);
      else recipients.push(ins.address);
      continue;
    }
    const stop = await deliverOne(ctx, ins, counts, forwardOnly);
    if (stop) break;
  }
  let qp: number | null = null;
  if (recipients.length > 0) qp = await forwardAll(ctx, newSender, recipients);
  await ctx.out.out(didLine(counts.file, counts.forward, counts.program) + (qp === null ? '' : qpLine(qp)));
  return localExit.ok;
}

/** A file or program line. Returns true when a program asked to stop (exit 99). */
async function deliverOne(ctx: LocalContext, ins: Instruction & { kind: 'mbox' | 'maildir' | 'program' }, counts: Counts, forwardOnly: boolean): Promise<boolean> {
  if (ins.kind === 'program') {
    counts.program++;
    if (forwardOnly) throw temp(localText.progWithXBit);
    if (ctx.args.dryRun) await ctx.out.out(`${sayPrefix.program}${ins.said}\n`);
    else return (await deliverProgram(ctx, ins.command)) === 'stop';
    return false;
  }
  counts.file++;
  if (forwardOnly) throw temp(localText.fileWithXBit);
  if (ctx.args.dryRun) await ctx.out.out(`${sayPrefix[ins.kind]}${ins.said}\n`);
  else if (ins.kind === 'maildir') await deliverMaildir(ctx, ins.path);
  else await deliverMbox(ctx, ins.path);
  return false;
}
