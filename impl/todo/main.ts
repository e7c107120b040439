// todo-proc: preprocess queued messages for qmail-send (indimail's split of qmail-send's todo_do).
//
// Usage:   todo-proc [-s|-c|-d] [QUEUEDIR]   -s and -c watch lock/trigger (the only mode here);
//          -d (POSIX message queues) is refused as indimail refuses it without librt.
// Runs as: qmails (qmail-start's table), beside qmail-send.
// Input:   fd 0, single bytes from qmail-send: C (must come first), H reread controls, X exit,
//          D detach (stop announcing), A attach. lock/trigger (a FIFO: a byte means "look now").
//          todo/[S/]ID, mess/S/ID (size only), control/{me,envnoathost,locals,percenthack,
//          virtualdomains}.
// Output:  fd 1, NUL-terminated records to qmail-send: L<log line>, D<L|R|B|X><id>, X.
//          fds 2 and 3: its own qmail-clean (todo/[S/]ID commands, replies).
//          info/S/ID, local/S/ID, remote/S/ID (spec/queue.md 1; classification impl/lib/rewrite.ts),
//          made from recycled files of pool/ where it has some (impl/shared/file-pool.ts).
// Exit:    0 after X once qmail-send has closed fd 0; 1 when qmail-send went away without X; 100
//          for a bad first byte or -d; 111 when the queue or the controls cannot be read.
// Environment: QMAILHOME, QUEUEDIR, CONFSPLIT, BIGTODO.
// Crash safety: batch.ts. A message is announced (D) only after its files, their directory entries
//          and the removal of todo/ID are all durable; until then todo/ID exists and the next scan
//          rebuilds everything from it.

import type { Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { LogEvent } from '../../spec/log.ts';
import { splitOf, type QueueLayout } from '../../spec/queue.ts';
import { doneKindOf, sleepTodoSec, todoBatchesInFlight, todoBatchMax, todoCommand } from '../../spec/send.ts';
import type { RewriteControls } from '../lib/rewrite.ts';
import { CleanClient } from '../shared/clean-client.ts';
import { Controls } from '../shared/controls.ts';
import { withDirGroupCommit } from '../shared/dir-sync.ts';
import { PoolTaker } from '../shared/file-pool.ts';
import { readTask } from '../shared/fd-stream.ts';
import { qmailHome, queueLayout } from '../shared/queue-config.ts';
import { readRewriteControls } from '../shared/rewrite-controls.ts';
import { Wakeup } from '../shared/wakeup.ts';
import { runBatch } from './batch.ts';
import type { Prepared } from './preprocess.ts';
import { SendLink } from './records.ts';
import { scanTodo } from './scan.ts';

const exitDialect = 100;
const exitCannotStart = 111;
/** indimail's pausedir: how long to wait after todo/ could not be read. */
const opendirRetrySec = 10;

interface Todo {
  sys: Sys;
  layout: QueueLayout;
  queueName: string;
  controls: Controls;
  rewrite: RewriteControls;
  link: SendLink;
  wake: Wakeup;
  sendAlive: boolean;
  triggered: boolean;
  reread: boolean;
  exitAsap: boolean;
  detached: boolean;
  pool: PoolTaker;
}

export async function main(sysIn: Sys): Promise<number> {
  // The batches in flight sync the same info/S, local/S and pool/ at once: callers that arrive
  // during one directory fsync share the next (impl/shared/dir-sync.ts; durability as before).
  const sys = withDirGroupCommit(sysIn);
  const wake = new Wakeup();
  const link = new SendLink(sys, () => wake.notify());
  const alert = async (text: string, code: number): Promise<number> => {
    link.log({ kind: 'program', level: 'alert', program: 'todo-proc', text });
    await link.drain();
    return code;
  };
  const flags = sys.proc.self.argv.slice(1).filter((a) => a.startsWith('-')).join('');
  let home: string;
  let layout: QueueLayout;
  try {
    home = qmailHome(sys);
    const l = await queueLayout(sys, home);
    if ('error' in l) return alert(`queue: cannot start: ${l.error} ${l.detail}`, exitCannotStart);
    layout = l;
  } catch {
    return alert('queue: cannot start: unable to find the qmail home', exitCannotStart);
  }
  const queueName = layout.dir.slice(layout.dir.lastIndexOf('/') + 1);
  if (flags.includes('d')) return alert(`${queueName}: dynamic queue not supported`, exitDialect);
  const controls = new Controls(sys, home);
  const rewrite = await readRewriteControls(controls).catch((e: unknown) => {
    if (e instanceof SysError) return null;
    throw e;
  });
  if (rewrite === null) return alert(`${queueName}: cannot start: unable to read controls or out of memory`, exitCannotStart);
  try {
    await sys.proc.chdir(layout.dir);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return alert(`${queueName}: cannot start: unable to switch to queue directory`, exitCannotStart);
  }
  sys.proc.umask(0o077);
  const first = await readFirstByte(sys);
  if (first !== todoCommand.start) {
    if (first === null) return exitDialect;
    link.log({ kind: 'program', level: 'warn', program: 'todo-proc', text: `${queueName}: qmail-send speaks an obscure dialect` });
    await link.drain();
    return exitDialect;
  }
  const t: Todo = {
    sys, layout, queueName, controls, rewrite, link, wake,
    sendAlive: true, triggered: false, reread: false, exitAsap: false, detached: false,
    pool: PoolTaker.forQueue(sys, layout.dir),
  };
  link.log({ kind: 'todoStart', pid: sys.proc.self.pid, queueDir: layout.dir, split: layout.split, chunk: todoBatchMax, bigtodo: layout.bigtodo });
  return run(t);
}

async function readFirstByte(sys: Sys): Promise<string | null> {
  const b = new Uint8Array(1);
  try {
    return (await sys.fs.read(0, b, 0, 1, null)) === 1 ? String.fromCharCode(b[0] as number) : null;
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
}

function watch(t: Todo): CleanClient {
  const { sys, wake } = t;
  sys.proc.onSignal('SIGTERM', () => {
    t.exitAsap = true;
    wake.notify();
  });
  sys.proc.onSignal('SIGHUP', () => {
    t.reread = true;
    wake.notify();
  });
  wake.background(watchCommands(t));
  wake.background(watchTrigger(t));
  return new CleanClient(sys, 2, 3, wake, () => {
    t.link.log({ kind: 'program', level: 'alert', program: 'todo-proc', text: `${t.queueName}: oh no! lost qmail-clean connection! dying...` });
    t.exitAsap = true;
    wake.notify();
  });
}

function watchCommands(t: Todo): Promise<void> {
  return readTask(
    t.sys,
    0,
    (piece) => {
      for (const b of piece) command(t, String.fromCharCode(b));
      t.wake.notify();
    },
    () => {
      t.sendAlive = false;
      t.wake.notify();
    },
  );
}

function command(t: Todo, c: string): void {
  if (c === todoCommand.reread) t.reread = true;
  else if (c === todoCommand.exit) t.exitAsap = true;
  else if (c === todoCommand.detach) t.detached = true;
  else if (c === todoCommand.attach) t.detached = false;
  else t.link.log({ kind: 'program', level: 'warn', program: 'todo-proc', text: `${t.queueName}: qmail-send speaks an obscure dialect` });
}

/** lock/trigger opened O_RDWR: reads block until a qmail-queue writes its byte (we count as a writer
 *  ourselves, so there is never an EOF), and a writer's O_NONBLOCK open finds a reader. Every byte
 *  read marks "scan again"; a byte that comes during a scan causes one more scan, which is what
 *  qmail's close-and-reopen before each scan achieves. No trigger at all: the timer still scans. */
async function watchTrigger(t: Todo): Promise<void> {
  let fd: number;
  try {
    fd = await t.sys.fs.open(`${t.layout.dir}/lock/trigger`, O.RDWR);
  } catch (e) {
    if (e instanceof SysError) return;
    throw e;
  }
  await readTask(
    t.sys,
    fd,
    () => {
      t.triggered = true;
      t.wake.notify();
    },
    () => undefined,
  );
}

async function run(t: Todo): Promise<number> {
  const { sys, wake } = t;
  const clean = watch(t);
  let nextTodoRun = nowSec(sys);
  let sentExit = false;
  for (;;) {
    if (!t.sendAlive || t.link.gone) {
      await t.link.drain();
      return t.exitAsap ? 0 : 1;
    }
    if (t.reread) await reread(t);
    if (t.exitAsap) {
      if (!sentExit) t.link.exit();
      sentExit = true;
      await wake.wait(sys, null); // until qmail-send closes fd 0
      continue;
    }
    if (t.triggered || nowSec(sys) >= nextTodoRun) {
      t.triggered = false;
      nextTodoRun = nowSec(sys) + sleepTodoSec;
      if (!(await scanOnce(t, clean))) nextTodoRun = nowSec(sys) + opendirRetrySec;
    }
    await wake.wait(sys, t.triggered ? 0 : nextTodoRun * 1000 - sys.clock.nowMs());
  }
}

/** One scan, in batches; stops early when told to exit. False if todo/ could not be read. */
async function scanOnce(t: Todo, clean: CleanClient): Promise<boolean> {
  const scan = await scanTodo(t.sys, t.layout, t.queueName);
  for (const e of scan.log) t.link.log(e);
  bySplit(scan.ids, t.layout.split);
  const ctx = { sys: t.sys, layout: t.layout, controls: t.rewrite, log: (e: LogEvent) => t.link.log(e), pool: t.pool };
  const out = {
    done: (p: Prepared) => {
      if (!t.detached) t.link.done(doneKindOf(p.local, p.remote), p.id);
    },
    cleanDied: () => {
      t.exitAsap = true;
    },
  };
  // Up to todoBatchesInFlight batches at once: a batch spends most of its time waiting for its
  // fsync rounds, and batches share nothing but directories (whose fsyncs may overlap) and
  // qmail-clean's pipe (its commands are pipelined). Each message still follows batch.ts's order.
  const running = new Set<Promise<void>>();
  for (let i = 0; i < scan.ids.length; i += todoBatchMax) {
    if (t.exitAsap || !t.sendAlive || t.link.gone) break;
    const b: Promise<void> = runBatch(ctx, clean, scan.ids.slice(i, i + todoBatchMax), out).finally(() => running.delete(b));
    running.add(b);
    if (running.size >= todoBatchesInFlight) await Promise.race(running);
  }
  await Promise.all(running);
  return !scan.failed;
}

/** A large scan in split order (readdir's order is arbitrary anyway: ext4 gives hash order): a
 *  batch of todoBatchMax ids then touches one or two info/S and local/S rather than nearly all of
 *  them, so that its directory fsyncs serve many messages each; qmail-send's removals, which follow
 *  the same order, share theirs (dir-sync.ts), and qmail-clean's groups touch fewer mess/S. */
function bySplit(ids: number[], split: number): void {
  if (ids.length > todoBatchMax) ids.sort((a, b) => splitOf(a, split) - splitOf(b, split) || a - b);
}

async function reread(t: Todo): Promise<void> {
  t.reread = false;
  try {
    const r = await readRewriteControls(t.controls);
    if (r !== null) {
      t.rewrite = r;
      return;
    }
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  }
  t.link.log({ kind: 'alert', alert: 'rereadLocals', file: null });
}

function nowSec(sys: Sys): number {
  return Math.floor(sys.clock.nowMs() / 1000);
}
