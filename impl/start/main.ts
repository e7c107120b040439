// qmail-start: turn on mail delivery.
//
// Usage:   qmail-start [-s|-cd] [defaultdelivery] [logger arg ...]
//          defaultdelivery (default ./Mailbox) goes to qmail-lspawn; -c, -d, -s go to todo-proc and
//          -d, -s to qmail-send. With logger args, qmail-send's activity log goes through that program
//          (found through PATH), whose fd 1 is ours; otherwise it goes to our fd 1.
// Runs as: root. chdir /, umask 077, then starts (spec/start.ts, the seed's table):
//            qmail-send and todo-proc          qmails:qmail
//            qmail-clean (for each of them)    qmailq:qmail
//            qmail-lspawn <defaultdelivery>    root, gid qmail
//            qmail-rspawn                      qmailr:qmail
//            the logger                        qmaill:nofiles
//          each as <home>/bin/<program> (home: QMAILHOME, or where qmail-start is installed), with
//          exactly [gid] as groups unless USE_SETGROUPS (1, or users separated by colons) adds the
//          user's supplementary groups. QUEUEDIR, when set, is appended to each argv (for ps).
// Fds:     the daemons' pipes are indimail's ten (wire.ts); each helper's fd 2 is ours.
// Environment: passed to every daemon unchanged (qmail-local inherits it): clean it in the run
//          script (env - PATH=...). QMAILHOME, QUEUEDIR, USE_SETGROUPS, PATH (the logger) are read.
// Signals: TERM, HUP, ALRM, USR1, USR2 are passed on to qmail-send (INT as TERM). Node has no exec,
//          so qmail-start stays the daemons' parent instead of becoming qmail-send (supervise.ts).
// Exit:    qmail-send's exit code once it and the others have ended; 111 when qmail-send was killed
//          by a signal, when another daemon ended first (everything is then stopped, so that
//          supervise starts it all again), and for every failure to start, after
//          `fatal: qmail-start: <why>` on fd 2 (nothing started is left running).
// Crash safety: qmail-start keeps no state; a crash of it leaves the daemons running to the end of
//          their pipes, as qmail's exec'd qmail-send would.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { daemonCreds, startExitFailure, type DaemonRole } from '../../spec/start.ts';
import { errorStr } from '../lib/error-str.ts';
import { qmailHome } from '../shared/queue-config.ts';
import { lookupIds, type Ids } from './creds.ts';
import { parseOptions, usage, type StartOptions } from './options.ts';
import { findProgram } from './path-search.ts';
import { daemonRoles, makePlan, type Plan, type PlanResult } from './plan.ts';
import { endWithin, say, SignalForwarder, supervise } from './supervise.ts';
import { startAll, StartFailure, type Running } from './wire.ts';

export async function main(sys: Sys): Promise<number> {
  // First of all: no TERM may end us while daemons are being started.
  const forwarder = new SignalForwarder(sys);
  const fatal = async (why: string): Promise<number> => {
    await say(sys, `fatal: qmail-start: ${why}\n`);
    return startExitFailure;
  };
  const opts = parseOptions(sys.proc.self.argv.slice(1));
  if ('error' in opts) return fatal(`${opts.error}; ${usage}`);
  try {
    await sys.proc.chdir('/');
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return fatal(`chdir: ${errorStr(e.code)}`);
  }
  sys.proc.umask(0o077);
  // qmail's prot_gid(qmail) is the first privileged step; without root it fails so.
  if (sys.proc.self.euid !== 0) return fatal(`unable to set qmail group: ${errorStr('EPERM')}`);
  const prepared = await prepare(sys, opts);
  if ('error' in prepared) return fatal(prepared.error);
  for (const w of prepared.warnings) await say(sys, `qmail-start: warn: ${w}\n`);
  const started: Running[] = [];
  let send: Running;
  try {
    send = await startAll(sys, prepared.plan, started);
  } catch (e) {
    if (!(e instanceof StartFailure)) throw e;
    // What did start sees EOF on its pipes; TERM makes sure, KILL after the grace.
    await endWithin(sys, started, 0);
    return fatal(`unable to start ${e.label}: ${errorStr(e.error.code)}`);
  }
  for (const r of started) {
    sys.log.event('debug', 'start.spawned', { daemon: r.label, pid: r.pid, ...credsLog(prepared.plan, r) });
  }
  forwarder.attach(send.pid);
  return supervise(sys, started, send, forwarder);
}

/** Users, groups and the logger's path: everything decided before the first spawn. */
async function prepare(sys: Sys, opts: StartOptions): Promise<PlanResult | { error: string }> {
  const roles: DaemonRole[] = opts.logger.length > 0 ? [...daemonRoles, 'logger'] : [...daemonRoles];
  let ids: Ids | { missing: string };
  try {
    ids = await lookupIds(sys, roles);
    if ('missing' in ids) return { error: `unable to initialize uids/gids: no ${ids.missing}` };
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return { error: `unable to initialize uids/gids: ${errorStr(e.code)}` };
  }
  let loggerPath: string | null = null;
  if (opts.logger[0] !== undefined) {
    try {
      loggerPath = await findProgram(sys, opts.logger[0], sys.proc.self.env['PATH']);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      return { error: `unable to exec logger: ${errorStr(e.code)}` };
    }
  }
  try {
    return await makePlan(sys, qmailHome(sys), opts, ids, loggerPath);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return { error: `unable to read supplementary groups: ${errorStr(e.code)}` };
  }
}

function credsLog(plan: Plan, r: Running): Record<string, unknown> {
  const l = r.role === 'logger' ? plan.logger : plan[r.role];
  return { user: daemonCreds[r.role].user ?? 'root', ...l?.creds };
}
