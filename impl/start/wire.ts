// The ten pipes of indimail's qmail-start (spec/start.ts), made the way Node can make them: a child
// started with 'pipe' fds leaves the other end with us; that end (an fd number) is then given to the
// sibling that talks to it, and our copy is closed, so that each peer sees EOF when the other dies
// (pitfall 12: a copy kept here would keep every pipe open). Order: the logger, the spawners and
// both qmail-cleans first (each with 'pipe' on fds 0 and 1), then todo-proc with its qmail-clean's
// ends as fds 2 and 3, then qmail-send with everyone's ends as fds 1..8.
//
//   qmail-send  0 log  1 -> lspawn 0  2 <- lspawn 1  3 -> rspawn 0  4 <- rspawn 1
//               5 -> clean 0  6 <- clean 1  7 -> todo-proc 0  8 <- todo-proc 1
//   todo-proc   2 -> its clean 0  3 <- its clean 1
//   logger      0 <- qmail-send 0, 1 = our fd 1

import type { Child, ExitStatus, Fd, FdSpec, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { DaemonRole } from '../../spec/start.ts';
import { helperFds, sendFds, todoFds } from '../../spec/start.ts';
import type { Launch, Plan } from './plan.ts';

export interface Running {
  role: DaemonRole;
  label: string;
  pid: number;
  /** Settles with the exit status; `status` is set by then. */
  done: Promise<ExitStatus>;
  status: ExitStatus | null;
}

/** Which daemon failed to start, and why. */
export class StartFailure extends Error {
  constructor(
    readonly label: string,
    readonly error: SysError,
  ) {
    super(`unable to start ${label}: ${error.code}`);
  }
}

/** Starts every daemon; each one started is pushed onto `started` at once (so that a failure later
 *  can stop it). Throws StartFailure. Our copies of the pipe ends are closed in every case. */
export async function startAll(sys: Sys, plan: Plan, started: Running[]): Promise<Running> {
  const ours: Fd[] = [];
  const spawn = async (l: Launch, fds: FdSpec[]): Promise<Child> => {
    const child = await spawnOne(sys, l, fds);
    started.push(running(l, child));
    for (const fd of Object.values(child.fds)) ours.push(fd);
    return child;
  };
  try {
    const helper: FdSpec[] = ['pipe', 'pipe', helperFds.diagnostics];
    const log = plan.logger === null ? 1 : ((await spawn(plan.logger, ['pipe', 1, helperFds.diagnostics])).fds[0] as Fd);
    const lspawn = await spawn(plan.lspawn, helper);
    const rspawn = await spawn(plan.rspawn, helper);
    const clean = await spawn(plan.cleanSend, helper);
    const todoClean = await spawn(plan.cleanTodo, helper);
    const todo = await spawn(plan.todo, fdsOf(todoFds, {
      fromSend: 'pipe', toSend: 'pipe', toClean: end(todoClean, 0), fromClean: end(todoClean, 1),
    }));
    await spawn(plan.send, fdsOf(sendFds, {
      log,
      toLspawn: end(lspawn, 0), fromLspawn: end(lspawn, 1),
      toRspawn: end(rspawn, 0), fromRspawn: end(rspawn, 1),
      toClean: end(clean, 0), fromClean: end(clean, 1),
      toTodo: end(todo, 0), fromTodo: end(todo, 1),
    }));
    return started[started.length - 1] as Running; // qmail-send
  } finally {
    for (const fd of ours) await closeQuietly(sys, fd);
  }
}

async function spawnOne(sys: Sys, l: Launch, fds: FdSpec[]): Promise<Child> {
  try {
    return await sys.proc.spawn(l.path, l.argv, { env: { ...l.env }, ...l.creds, fds });
  } catch (e) {
    if (e instanceof SysError) throw new StartFailure(l.label, e);
    throw e;
  }
}

function running(l: Launch, child: Child): Running {
  const r: Running = { role: l.role, label: l.label, pid: child.pid, status: null, done: Promise.resolve({ code: null, signal: null }) };
  r.done = child.wait().then((s) => {
    r.status = s;
    return s;
  });
  return r;
}

/** Our end of the pipe on the child's fd i. */
function end(child: Child, i: number): Fd {
  const fd = child.fds[i];
  if (fd === undefined) throw new Error(`qmail-start: no pipe end for fd ${i} of pid ${child.pid}`);
  return fd;
}

/** A named fd table (spec/start.ts) as spawn's array, every fd given. */
function fdsOf<K extends string>(table: Readonly<Record<K, number>>, specs: Readonly<Record<K, FdSpec>>): FdSpec[] {
  const out: FdSpec[] = [];
  for (const [name, fd] of Object.entries(table) as [K, number][]) out[fd] = specs[name];
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) throw new Error(`qmail-start: fd ${i} missing from the table`);
  return out;
}

async function closeQuietly(sys: Sys, fd: Fd): Promise<void> {
  try {
    await sys.fs.close(fd);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  }
}
