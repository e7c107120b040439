// qmail-start: which daemons it starts, as whom, on which fds, and the bounds of its stay as their
// parent. Facts: the seed 001 (qmail-start(8) of indimail-mta, THE authority for the uid/gid table and
// USE_SETGROUPS) and ../shared/spec/queue.md 5 (notqmail and indimail fd tables, 3.9 todo-proc, 4).
//
// Ours: Node has no exec(), so qmail-start stays resident as the parent of every daemon (it cannot
// become qmail-send); it forwards signals to qmail-send, waits, and ends the others when one dies.

import { qmailGroups, qmailUsers } from './queue.ts';

/** A daemon qmail-start runs: its program in <home>/bin (the logger is found through PATH). */
export type DaemonRole = 'logger' | 'lspawn' | 'rspawn' | 'cleanSend' | 'cleanTodo' | 'todo' | 'send';

export interface DaemonCreds {
  /** null: qmail-start's own uid (root), unchanged. */
  user: string | null;
  group: string;
  /** The user whose supplementary groups USE_SETGROUPS adds (null: never any). */
  setgroupsUser: string | null;
}

/** The seed's table. Without USE_SETGROUPS every daemon has exactly [group] (qmail's prot_gid).
 *  qmail-send gets qmails' groups (the seed's "Supplementary Groups" section); todo-proc never does
 *  (the seed's table; indimail's qmail-start.c agrees). */
export const daemonCreds: Readonly<Record<DaemonRole, DaemonCreds>> = {
  send: { user: qmailUsers.send, group: qmailGroups.qmail, setgroupsUser: qmailUsers.send },
  todo: { user: qmailUsers.send, group: qmailGroups.qmail, setgroupsUser: null },
  cleanSend: { user: qmailUsers.queue, group: qmailGroups.qmail, setgroupsUser: qmailUsers.queue },
  cleanTodo: { user: qmailUsers.queue, group: qmailGroups.qmail, setgroupsUser: qmailUsers.queue },
  lspawn: { user: null, group: qmailGroups.qmail, setgroupsUser: null },
  rspawn: { user: qmailUsers.remote, group: qmailGroups.qmail, setgroupsUser: qmailUsers.remote },
  logger: { user: qmailUsers.log, group: qmailGroups.nofiles, setgroupsUser: qmailUsers.log },
};

/** Program names in <home>/bin, and the name qmail-start's messages use for each daemon. */
export const daemonPrograms: Readonly<Record<Exclude<DaemonRole, 'logger'>, string>> = {
  send: 'qmail-send',
  todo: 'todo-proc',
  cleanSend: 'qmail-clean',
  cleanTodo: 'qmail-clean',
  lspawn: 'qmail-lspawn',
  rspawn: 'qmail-rspawn',
};

/** qmail-send's fds (indimail's table; notqmail's is fds 0-6 of it). */
export const sendFds = {
  /** The activity log: qmail-start's fd 1, or the logger's pipe. */
  log: 0,
  toLspawn: 1,
  fromLspawn: 2,
  toRspawn: 3,
  fromRspawn: 4,
  toClean: 5,
  fromClean: 6,
  toTodo: 7,
  fromTodo: 8,
} as const;

/** todo-proc's fds. */
export const todoFds = {
  fromSend: 0,
  toSend: 1,
  toClean: 2,
  fromClean: 3,
} as const;

/** Every other daemon (spawners, qmail-clean, the logger) reads fd 0 and writes fd 1. Ours: their
 *  fd 2 is qmail-start's fd 2, so that a crash or a diagnostic is seen (qmail closes it). */
export const helperFds = { input: 0, output: 1, diagnostics: 2 } as const;

/** The default delivery when none is given (qmail-start(8)). */
export const defaultDeliveryDefault = './Mailbox';

/** Options passed on: -c, -d, -s to todo-proc; -d, -s to qmail-send (indimail's getopt "cds"). */
export const todoOptions = ['c', 'd', 's'] as const;
export const sendOptions = ['d', 's'] as const;

/** qmail-start's only failure code: every failure is temporary (supervise starts it again). */
export const startExitFailure = 111;

/** After qmail-send is gone, the others normally exit by themselves on EOF; stragglers get TERM. */
export const helpersExitMs = 30_000;
/** After a TERM, this long before KILL. */
export const killGraceMs = 5_000;
/** After a helper died, qmail-send stops starting deliveries and exits once those in flight are
 *  done (queue.md 4.3); it gets this long before TERM (and KILL after killGraceMs). A delivery cut
 *  off by the KILL was never marked done: it is tried again after the restart. */
export const sendDyingMs = 60_000;
/** Signals qmail-start passes on to qmail-send (SIGINT is passed on as SIGTERM). */
export const forwardedSignals = ['SIGTERM', 'SIGHUP', 'SIGALRM', 'SIGUSR1', 'SIGUSR2'] as const;

export function assertStartBounds(): void {
  if (!(killGraceMs > 0 && helpersExitMs > 0 && sendDyingMs > 0)) throw new Error('spec: qmail-start bounds are positive');
}
assertStartBounds();
