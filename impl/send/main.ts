// qmail-send: deliver the preprocessed queue, schedule retries, bounce, and log it all.
//
// Usage:   qmail-send [-s|-d] [QUEUEDIR]        (arguments are only for ps; indimail passes them)
// Runs as: qmails (qmail-start's table), started with its helpers already wired:
// Input:   fd 2 reports from qmail-lspawn, fd 4 from the remote spawner (first, one byte each: its
//          slot count); fd 6 qmail-clean's replies; fd 8 todo-proc's records (D, L, X).
//          info/, local/, remote/, bounce/, mess/ (bounces), control/ (spec/send.md 1).
// Output:  fd 0 the activity log (../shared/spec/queue.md 3.8, spec/log.ts); fd 1 and fd 3
//          delivery commands; fd 5 qmail-clean commands (foop/ID); fd 7 todo-proc's bytes (C, H, X).
//          Bounces through qmail-queue. Signals: HUP rereads locals and virtualdomains (and tells
//          todo-proc), ALRM retries everything now, TERM exits after the deliveries in flight,
//          USR1/USR2 detach/attach todo-proc.
// Exit:    0 after `status: exiting`; 111 when it cannot start (the alert says why).
// Environment: QMAILHOME, QUEUEDIR, CONFSPLIT, BIGTODO; QIDENT (delivery numbers D.QIDENT);
//          QMAILQUEUE for bounces.
// Crash safety (spec/send.md 5): a channel file is durably unlinked before info is; info durably
//          before foop; a failure block is appended and fsynced before its recipient is marked;
//          a bounce is queued (qmail-queue exit 0) before bounce/ID is unlinked, and that unlink is
//          synced before info goes. The D mark itself is not fsynced: qmail's 6.3 window.

import { withDirGroupCommit } from '../shared/dir-sync.ts';
import { Semaphore } from '../lib/semaphore.ts';
import { bounceQueueMax } from './messdone.ts';
import { bounceIds } from './bounce.ts';
import type { Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { CannotStartReason } from '../../spec/log.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { spawnerSlotsMax, todoCommand, type Channel } from '../../spec/send.ts';
import { Prioq } from '../lib/prioq.ts';
import { CleanClient } from '../shared/clean-client.ts';
import { PoolGiver } from '../shared/file-pool.ts';
import { Controls } from '../shared/controls.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { Wakeup } from '../shared/wakeup.ts';
import { ActivityLog } from './activity-log.ts';
import { readSendConfig, type SendConfig } from './config.ts';
import { runLoop } from './loop.ts';
import { nowSec, pqfinish, pqstart } from './pq.ts';
import { newChannel, spawnDied, watchReports } from './spawners.ts';
import { setExitAsap, status } from './state.ts';
import { newTodoLink, todoGone, todoOutFd, watchTodo } from './todo-link.ts';
import { writeAll } from '../shared/fdio.ts';
import type { ChannelState, Send } from './types.ts';

const exitCannotStart = 111;
/** Spawner fds: [commands out, reports in] per channel. */
const spawnerFds: Readonly<Record<Channel, [number, number]>> = { 0: [1, 2], 1: [3, 4] };
const cleanFds = [5, 6] as const;

class CannotStart extends Error {
  constructor(readonly reason: CannotStartReason) {
    super(reason);
  }
}

export async function main(sysIn: Sys): Promise<number> {
  // Many job closes and messdones sync the same local/S, remote/S and info/S at once: callers that
  // arrive during one directory fsync share the next (impl/shared/dir-sync.ts; durability as before).
  const sys = withDirGroupCommit(sysIn);
  const log = new ActivityLog(sys);
  try {
    const s = await start(sys, log);
    await runLoop(s, new Controls(sys, s.home));
    await Promise.all([...s.tasks]);
    await pqfinish(s);
    log.line({ kind: 'exiting' });
  } catch (e) {
    if (!(e instanceof CannotStart)) throw e;
    log.line({ kind: 'cannotStart', reason: e.reason });
    await log.drain();
    return exitCannotStart;
  }
  await log.drain();
  return 0;
}

async function start(sys: Sys, log: ActivityLog): Promise<Send> {
  const { home, layout } = await findQueue(sys);
  const ctl = new Controls(sys, home);
  const cfg = await readSendConfig(ctl).catch((e: unknown) => {
    if (e instanceof SysError) return null;
    throw e;
  });
  if (cfg === null) throw new CannotStart('controls');
  await sys.proc.chdir(layout.dir).catch((e: unknown) => {
    if (e instanceof SysError) throw new CannotStart('queue');
    throw e;
  });
  sys.proc.umask(0o077);
  await lockMutex(sys, layout);
  const slots = [await spawnerSlots(sys, spawnerFds[0][1]), await spawnerSlots(sys, spawnerFds[1][1])];
  await startTodo(sys);
  const pool = await PoolGiver.open(sys, layout.dir);
  const s = assemble(sys, home, layout, cfg, log, slots as [number, number], pool);
  s.bounceMayExist = await bounceIds(s);
  catchSignals(s);
  for (const ch of s.chans) watchReports(s, ch);
  watchTodo(s);
  await pqstart(s);
  status(s);
  return s;
}

async function findQueue(sys: Sys): Promise<{ home: string; layout: QueueLayout }> {
  let home: string;
  try {
    home = qmailHome(sys); // throws only for a setuid start outside an installation
  } catch {
    throw new CannotStart('home');
  }
  await sys.proc.chdir(home).catch((e: unknown) => {
    if (e instanceof SysError) throw new CannotStart('home');
    throw e;
  });
  const layout = await queueLayout(sys, home);
  if ('error' in layout) throw new CannotStart('queue');
  return { home, layout };
}

/** lock/sendmutex, flock'd for the life of the process: one qmail-send per queue. */
async function lockMutex(sys: Sys, layout: QueueLayout): Promise<void> {
  let fd: number;
  try {
    fd = await sys.fs.open(`${layout.dir}/lock/sendmutex`, O.WRONLY | O.NONBLOCK);
  } catch (e) {
    if (e instanceof SysError) throw new CannotStart('mutex');
    throw e;
  }
  try {
    await sys.fs.lock(fd, false);
  } catch (e) {
    if (e instanceof SysError) throw new CannotStart('running');
    throw e;
  }
}

/** The spawner's first byte: how many deliveries it runs at once. */
async function spawnerSlots(sys: Sys, fd: number): Promise<number> {
  const b = new Uint8Array(1);
  try {
    if ((await sys.fs.read(fd, b, 0, 1, null)) === 1) return b[0] as number;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  }
  throw new CannotStart('spawn');
}

/** C to todo-proc: it starts scanning todo/. */
async function startTodo(sys: Sys): Promise<void> {
  try {
    await writeAll(sys, todoOutFd, Uint8Array.of(todoCommand.start.charCodeAt(0)));
  } catch (e) {
    if (e instanceof SysError) throw new CannotStart('todo');
    throw e;
  }
}

function assemble(
  sys: Sys, home: string, layout: QueueLayout, cfg: SendConfig, log: ActivityLog, slots: [number, number], pool: PoolGiver,
): Send {
  const wake = new Wakeup();
  const concurrency = ([0, 1] as const).map((c) => Math.min(cfg.concurrency[c], slots[c], spawnerSlotsMax));
  const channel = (c: Channel): ChannelState =>
    newChannel({ sys }, c, spawnerFds[c][0], spawnerFds[c][1], concurrency[c] as number, () => spawnDied(s, s.chans[c]));
  // The callbacks below run only after reads complete, when s is long initialised.
  const s: Send = {
    sys, home, layout, cfg, log, wake,
    recent: nowSec(sys),
    chans: [channel(0), channel(1)],
    pqdone: new Prioq(), doneIds: new Set(), chanAbsent: new Map(), pqfail: new Prioq(), failIds: new Set(),
    jobsMax: (concurrency[0] as number) + (concurrency[1] as number), jobsOpen: 0, masterDelid: 1,
    exitAsap: false, runAsap: false, readAsap: false,
    clean: new CleanClient(sys, cleanFds[0], cleanFds[1], wake, () => {
      log.line({ kind: 'alert', alert: 'lostClean', file: null });
      setExitAsap(s);
    }),
    todo: newTodoLink({ sys }, () => todoGone(s)), pool,
    tasks: new Set(), messdoneRunning: 0,
    cleanupTime: nowSec(sys), cleanupRunning: false,
    bounceUnsynced: new Set(), bounceMayExist: null, bounceChains: new Map(), bounceQueueing: new Semaphore(bounceQueueMax),
  };
  return s;
}

function catchSignals(s: Send): void {
  const on = (sig: 'SIGTERM' | 'SIGHUP' | 'SIGALRM' | 'SIGUSR1' | 'SIGUSR2', f: () => void): void => {
    s.sys.proc.onSignal(sig, () => {
      f();
      s.wake.notify();
    });
  };
  on('SIGTERM', () => setExitAsap(s));
  on('SIGALRM', () => (s.runAsap = true));
  on('SIGHUP', () => (s.readAsap = true));
  on('SIGUSR1', () => {
    if (s.todo.alive) s.todo.send(todoCommand.detach);
  });
  on('SIGUSR2', () => {
    if (!s.todo.alive) return;
    s.todo.send(todoCommand.attach);
    s.wake.background(pqstart(s));
  });
}
