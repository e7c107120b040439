// One remote delivery command, from a checked command to its spawn report (spawn.c docmd after the
// checks, then qmail-rspawn.c spawn and report): open mess/<messid> (type, owner; qmailr reads it
// through group qmail), then qmail-remote host sender recipient, in-process or as QMAILREMOTE's
// process, then rspawnReport over its output.

import type { Fd, Sys } from '../sys/types.ts';
import { rspawnReport, type RemoteEnd } from '../../spec/remote.ts';
import { latin1 } from '../lib/latin1.ts';
import { splitRecipient, type SpawnCommand } from '../lib/spawn-command.ts';
import { openMessage } from '../lspawn/message.ts';
import { qmailRemote, reportBytes } from '../remote/remote.ts';
import type { RspawnConfig } from './config.ts';
import { runRemoteProcess } from './remote-child.ts';

const enc = new TextEncoder();
const utf8 = new TextDecoder();

/** The report (letter + text, no slot byte, no NUL) for one command that passed checkCommand. */
export async function deliverRemote(sys: Sys, cfg: RspawnConfig, cmd: SpawnCommand): Promise<Uint8Array> {
  const opened = await openMessage(sys, utf8.decode(cmd.messid), cfg.qmailqUid);
  if ('report' in opened) return enc.encode(opened.report);
  try {
    const host = splitRecipient(cmd.recipient).domain;
    if (cfg.qmailRemote !== null) {
      const args = { host: utf8.decode(host), sender: utf8.decode(cmd.sender), recipient: utf8.decode(cmd.recipient) };
      const run = await runRemoteProcess(sys, cfg.qmailRemote, args, cfg.env, cfg.messDir, opened.fd);
      return rspawnReport(run.end, run.output);
    }
    const job = { host: latin1(host), sender: latin1(cmd.sender), recips: [latin1(cmd.recipient)] };
    const { end, output } = await inProcess(sys, cfg, job, opened.fd);
    return rspawnReport(end, output);
  } finally {
    await sys.fs.close(opened.fd).catch(() => undefined);
  }
}

/** qmail-remote as a function; a throw (a bug) is what a crashed qmail-remote is to qmail-rspawn. */
async function inProcess(
  sys: Sys,
  cfg: RspawnConfig,
  job: { host: string; sender: string; recips: string[] },
  fd: Fd,
): Promise<{ end: RemoteEnd; output: Uint8Array }> {
  try {
    const rc = await cfg.remoteControls.load(sys);
    if ('report' in rc) return { end: { code: 0 }, output: reportBytes([rc.report]) };
    const message = { read: (buf: Uint8Array, position: number) => sys.fs.read(fd, buf, 0, buf.length, position) };
    return { end: { code: 0 }, output: await qmailRemote(sys, rc, { ...job, message }) };
  } catch (e) {
    sys.log.event('error', 'rspawn.remote_crashed', { message: e instanceof Error ? e.message : String(e) });
    return { end: { crashed: true }, output: new Uint8Array(0) };
  }
}
