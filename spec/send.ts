// qmail-send, todo-proc and qmail-clean: timing constants, control defaults, the retry schedule's
// parameters, the pipe protocols between them (todo-proc's C/H/X/D/A bytes and D/L/X records,
// qmail-clean's commands and replies) and the fixed texts of bounces. Prose: spec/send.md.
// Facts: ../shared/spec/queue.md sections 3 and 4 (notqmail qmail-send.c, qmail-clean.c; indimail
// todo-proc.c). Times are in seconds, as qmail keeps them (datetime_sec), unless named ...Ms.

import { ossifiedMs } from './limits.ts';

// ---- qmail-send's timing (nq:qmail-send.c) ----

/** todo/ is rescanned at least this often even without a trigger. */
export const sleepTodoSec = 1500;
/** qmail's slop on select timeouts; our timers are in ms and wake exactly, so it is not added
 *  (spec/send.md 2). Kept so that the table is whole. */
export const sleepFuzzSec = 1;
/** The longest qmail-send ever waits without looking around. */
export const sleepForeverSec = 86_400;
/** Between two scans of mess/ for ossified leftovers. */
export const sleepCleanupSec = 76_431;
/** Retry delay after a failing stat, open, unlink or qmail-queue. */
export const sleepSysfailSec = 123;
/** Age (atime) at which a leftover is removed: 36 h (spec/limits.ts ossifiedMs). */
export const ossifiedSec = 129_600;
/** Bytes kept of one delivery report line (slot byte and letter included). */
export const reportMaxBytes = 10_000;
/** addbounce's retry pause when bounce/ID cannot be appended to. */
export const bounceAppendRetrySec = 10;

export const channels = ['local', 'remote'] as const;
export type Channel = 0 | 1;
export const channelNames: Readonly<Record<Channel, 'local' | 'remote'>> = { 0: 'local', 1: 'remote' };
/** nextretry's chanskip: local (10k)² s, remote (20k)² s after birth. */
export const chanskip: Readonly<Record<Channel, number>> = { 0: 10, 1: 20 };

// ---- controls (nq:qmail-send.c getcontrols; control/<name> under the qmail home) ----

export const controlDefaults = {
  queuelifetime: 604_800,
  concurrencylocal: 10,
  concurrencyremote: 20,
  /** Used when neither the control nor control/me exists. */
  envnoathost: 'envnoathost',
  bouncefrom: 'MAILER-DAEMON',
  bouncehost: 'bouncehost',
  doublebouncehost: 'doublebouncehost',
  doublebounceto: 'postmaster',
} as const;

/** A spawner advertises at most this many slots: one byte (notqmail's protocol). */
export const spawnerSlotsMax = 255;

// ---- qmail-send ↔ todo-proc (indimail; send fd 7 → todo fd 0, todo fd 1 → send fd 8) ----

/** Single bytes from qmail-send. */
export const todoCommand = {
  /** Must come first: start. */
  start: 'C',
  /** Reread controls (qmail-send got SIGHUP). */
  reread: 'H',
  /** Exit as soon as possible. */
  exit: 'X',
  /** Keep preprocessing, stop sending D records. */
  detach: 'D',
  /** Send D records again; qmail-send then rescans info/. */
  attach: 'A',
} as const;

/** Records to qmail-send, each ending with NUL. */
export const todoRecord = {
  /** D + L|R|B|X + decimal id: preprocessed, only after qmail-clean said + to todo/[S/]ID. */
  done: 'D',
  /** L + a log line with its \n: written verbatim to the activity log. */
  log: 'L',
  /** X: todo-proc is exiting. */
  exit: 'X',
} as const;

/** The second letter of a D record: which channel files the message has. */
export const todoDoneKind = { local: 'L', remote: 'R', both: 'B', none: 'X' } as const;
export type TodoDoneKind = (typeof todoDoneKind)[keyof typeof todoDoneKind];

/** A record from todo-proc longer than this is cut (indimail). */
export const todoRecordBytesMax = 10_000;
/** todo entries preprocessed together: their files, directories, qmail-clean commands and D
 *  records are committed as one group (spec/send.md 3). */
export const todoBatchMax = 64;
/** Batches todo-proc runs at once (each waits mostly on its fsync rounds). */
export const todoBatchesInFlight = 4;

export function doneKindOf(local: boolean, remote: boolean): TodoDoneKind {
  if (local && remote) return todoDoneKind.both;
  if (local) return todoDoneKind.local;
  return remote ? todoDoneKind.remote : todoDoneKind.none;
}

// ---- qmail-clean (nq:qmail-clean.c) ----

export const cleanPrefix = { message: 'foop/', todo: 'todo/' } as const;
export const cleanReply = { ok: '+', failed: '!', bad: 'x' } as const;
export type CleanReply = (typeof cleanReply)[keyof typeof cleanReply];
/** A command, its NUL counted, is at least this long ("todo/1\0")... */
export const cleanCommandBytesMin = 7;
/** ... and at most this long. */
export const cleanCommandBytesMax = 100;
/** pid/ is swept before the first command and then before every this-many-th. */
export const cleanSweepEvery = 31;

// ---- bounce texts (nq:qmail-send.c addbounce, injectbounce) ----

export const dyingText = "I'm not going to try again; this message has been in the queue too long.\n";
export const bounceSubject = 'Subject: failure notice\n';
export const bounceSingleIntro =
  "I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
  "This is a permanent error; I've given up. Sorry it didn't work out.\n\n";
export const bounceDoubleIntro = 'I tried to deliver a bounce message to this address, but the bounce bounced!\n\n';
export const bounceSingleSeparator = '--- Below this line is a copy of the message.\n\n';
export const bounceDoubleSeparator = '--- Below this line is the original bounce.\n\n';
/** The envelope sender of a double bounce, and the sender that marks a bounce as one. */
export const doubleBounceSender = '#@[]';
/** A VERP sender ends with this. */
export const verpSuffix = '-@[]';

// ---- ours: the remote channel before qmail-rspawn exists (spec/send.md 6) ----

/** What qmail-rspawn-defer answers every command: a deferral, so remote mail stays queued. */
export const remoteDeferReport = 'ZRemote delivery is not available yet; message stays queued. (#4.3.0)\n';
/** The slot count it advertises (conf-spawn). */
export const remoteDeferSlots = 120;

export function assertSendLimits(): void {
  if (!(ossifiedSec * 1000 === ossifiedMs)) throw new Error('spec: ossifiedSec must equal limits.ossifiedMs');
  if (!(sleepTodoSec < sleepForeverSec && sleepCleanupSec < sleepForeverSec)) throw new Error('spec: sleeps below sleepForeverSec');
  if (!(controlDefaults.concurrencylocal <= spawnerSlotsMax && controlDefaults.concurrencyremote <= spawnerSlotsMax))
    throw new Error('spec: default concurrencies fit a spawner byte');
  if (!(cleanCommandBytesMin < cleanCommandBytesMax)) throw new Error('spec: clean command bounds');
  if (!(todoBatchMax >= 1 && reportMaxBytes > 2)) throw new Error('spec: batch and report bounds');
}
assertSendLimits();
