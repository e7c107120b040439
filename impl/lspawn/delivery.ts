// One delivery command, from a checked command to its report text (spawn.c docmd after the checks,
// then qmail-lspawn.c spawn and report):
//   open mess/<messid> as root (type, owner) -> resolve the local part -> run qmail-local:
//   a worker of the pool (message in memory), or a per-delivery process (QMAILLOCAL, or a message
//   larger than workerMessageBytesMax) with the message file as fd 0 -> the report.

import type { Sys } from '../sys/types.ts';
import type { LocalArgs } from '../local/types.ts';
import { localReport, readMessageReport, workerFrameBytesMax, workerMessageBytesMax } from '../../spec/spawn.ts';
import { requestRoomBytes, type MessageWithRoom } from '../lib/worker-protocol.ts';
import { frameHeaderBytes } from '../lib/frame.ts';
import { qlx } from '../../spec/users.ts';
import type { SpawnCommand } from '../lib/spawn-command.ts';
import { splitRecipient } from '../lib/spawn-command.ts';
import type { UsersCdbCache } from '../shared/users-cdb.ts';
import type { LspawnConfig } from './config.ts';
import { execFailure, runLocalProcess, type LocalRun } from './local-child.ts';
import { openMessage, readMessage, type OpenMessage } from './message.ts';
import type { WorkerPool } from './pool.ts';
import { resolveLocal, type ResolvedUser } from './resolve.ts';

export interface DeliveryContext {
  sys: Sys;
  cfg: LspawnConfig;
  pool: WorkerPool;
  cache: UsersCdbCache;
}

const enc = new TextEncoder();
const utf8 = new TextDecoder();
const none = new Uint8Array(0);

/** The report (letter + text, no slot byte, no NUL) for one command that passed checkCommand. */
export async function deliver(ctx: DeliveryContext, cmd: SpawnCommand): Promise<Uint8Array> {
  const { sys, cfg } = ctx;
  // Digits and '/' only (checkCommand): ASCII.
  const messid = utf8.decode(cmd.messid);
  const opened = await openMessage(sys, messid, cfg.qmailqUid);
  if ('report' in opened) return enc.encode(opened.report);
  let open: OpenMessage | null = opened;
  const closeMessage = async (): Promise<void> => {
    const fd = open?.fd;
    open = null;
    if (fd !== undefined) await sys.fs.close(fd).catch(() => undefined);
  };
  try {
    const { local, domain } = splitRecipient(cmd.recipient);
    const localText = utf8.decode(local);
    const res = await resolveLocal(sys, cfg, ctx.cache, localText);
    if ('trash' in res) return enc.encode('K');
    if ('report' in res) return enc.encode(res.report);
    if ('qlx' in res) return localReport({ code: res.qlx }, none);
    const args = argsOf(cfg, res.user, localText, utf8.decode(domain), utf8.decode(cmd.sender));
    const env = { ...cfg.deliveryEnv, MESSID: messid };
    let run: LocalRun;
    const room = requestRoomBytes({ args, env });
    if (cfg.qmailLocal !== null || !fitsWorker(opened.size, room)) {
      const program = cfg.qmailLocal ?? cfg.localProgram;
      run = await runLocalProcess(sys, program, cfg.home, res.user, args, env, opened.fd);
      // Our own qmail-local missing is a broken installation: defer, never bounce. (QMAILLOCAL names
      // someone's program: its exec failure is qmail's, permanent or not.)
      if (cfg.qmailLocal === null) run = softExec(run);
    } else {
      const message = await readMessage(sys, opened, room);
      await closeMessage();
      if (message === null) return enc.encode(readMessageReport);
      run = await viaWorker(ctx, res.user, args, env, message);
    }
    return localReport(run.end, run.output);
  } finally {
    await closeMessage();
  }
}

/** A worker takes messages up to workerMessageBytesMax in frames up to workerFrameBytesMax (room:
 *  requestRoomBytes, the frame's header and every field but the message, at most). */
function fitsWorker(size: number, room: number): boolean {
  return size <= workerMessageBytesMax && size + room - frameHeaderBytes <= workerFrameBytesMax;
}

function argsOf(cfg: LspawnConfig, u: ResolvedUser, local: string, domain: string, sender: string): Omit<LocalArgs, 'dryRun'> {
  const r = u.record;
  return { user: r.user, homedir: r.homedir, local, dash: r.dash, ext: r.ext, domain, sender, defaultDelivery: cfg.defaultDelivery };
}

async function viaWorker(
  ctx: DeliveryContext,
  u: ResolvedUser,
  args: Omit<LocalArgs, 'dryRun'>,
  env: Record<string, string>,
  message: MessageWithRoom,
): Promise<LocalRun> {
  const creds = { uid: u.uid, gid: u.gid, groups: u.groups, home: u.record.homedir };
  const out = await ctx.pool.deliver(creds, { args, env, message });
  // A worker that cannot start is an installation problem: temporary, never a bounce.
  if ('spawnFailed' in out) return softExec({ end: { code: execFailure(out.spawnFailed) }, output: none });
  return out;
}

function softExec(run: LocalRun): LocalRun {
  return 'code' in run.end && run.end.code === qlx.execHard ? { end: { code: qlx.execSoft }, output: run.output } : run;
}
