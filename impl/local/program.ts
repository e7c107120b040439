// |program delivery (../shared/spec/local.md 2.5): `/bin/sh -c command` in the home directory, with
// the run's environment, its output where ours goes, and the message on its fd 0. qmail gives the
// program fd 0 itself (the seekable queue file, rewound); Node cannot share a file offset that way,
// so fd 0 is a pipe we fill from the message (spec/local.md). A program that stops reading ends our
// copy (EPIPE), not the delivery: its exit code decides.

import type { Child, ExitStatus, Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { localText, programExit } from '../../spec/local.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { writeAll } from '../shared/fdio.ts';
import { textOf } from './bytes.ts';
import type { LocalContext } from './context.ts';
import { errText, perm, temp, type LocalFailure } from './failure.ts';
import { rewind } from './message.ts';
import type { MessageSource } from './types.ts';

export const shellPath = '/bin/sh';

export type ProgramOutcome = 'continue' | 'stop';

/** Pure: a program's end → what qmail-local does (mailprogram). */
export function programVerdict(status: ExitStatus): ProgramOutcome | LocalFailure {
  if (status.code === null) return temp(localText.childCrashed);
  if (status.code === programExit.ok) return 'continue';
  if (status.code === programExit.stop) return 'stop';
  return programExit.permanent.includes(status.code) ? perm('') : temp('');
}

export async function deliverProgram(ctx: LocalContext, command: string): Promise<ProgramOutcome> {
  const sys = ctx.sys;
  await rewind(ctx.message);
  const child = await start(ctx, command);
  const collected = ctx.out.collect(child);
  const fed = feed(sys, ctx.message, child.fds[0] as Fd);
  const readError = await fed;
  if (readError !== null) await sys.proc.kill(child.pid, 'SIGKILL').catch(() => undefined);
  const status = await child.wait();
  await collected;
  if (readError !== null) throw temp(localText.read(errText(readError)));
  const v = programVerdict(status);
  if (typeof v !== 'string') throw v;
  return v;
}

async function start(ctx: LocalContext, command: string): Promise<Child> {
  try {
    return await ctx.sys.proc.spawn(shellPath, [shellPath, '-c', textOf(command)], {
      env: ctx.env,
      cwd: ctx.args.homedir,
      fds: ['pipe', ...ctx.out.programFds],
    });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    // fork(2) fails for want of resources; everything else is exec's failure.
    if (e.code === 'EAGAIN' || e.code === 'ENOMEM') throw temp(localText.fork(errText(e)));
    throw temp(localText.runShell(errText(e)));
  }
}

/** Copies the message into the program's fd 0, then closes it. A write error (EPIPE: the program
 *  stopped reading) ends the copy quietly; a read error of the message is returned. */
async function feed(sys: Sys, message: MessageSource, fd: Fd): Promise<SysError | null> {
  const buf = new Uint8Array(ioChunkBytes);
  try {
    for (let pos = 0; ; ) {
      let n: number;
      try {
        n = await message.read(pos, buf);
      } catch (e) {
        if (e instanceof SysError) return e;
        throw e;
      }
      if (n === 0) return null;
      pos += n;
      try {
        await writeAll(sys, fd, buf.subarray(0, n));
      } catch (e) {
        if (e instanceof SysError) return null;
        throw e;
      }
    }
  } finally {
    await sys.fs.close(fd).catch(() => undefined);
  }
}
