// Birth and death of simulated processes: starting a program's main, ending a process (fds
// closed, waiters woken, SIGCHLD), signals and their default actions, and power loss.

import type { ExitStatus, Program, Signal } from '../impl/sys/types.ts';
import { ProgramExit } from '../impl/sys/errors.ts';
import type { Kernel } from './kernel.ts';
import type { SimProcess } from './proc.ts';
import { assert } from './assert.ts';

/** Signals whose default action ends the process (the rest are ignored by default; SIGSTOP and
 *  SIGCONT are not modelled). */
const fatalByDefault: ReadonlySet<Signal> = new Set<Signal>([
  'SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGALRM', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGABRT',
]);

/** Runs main as p in an event; its result is p's exit code. */
export function startProgram(k: Kernel, p: SimProcess, main: Program): void {
  k.schedule(p, 'spawn', () => {
    const sys = p.sys;
    assert(sys !== null, 'process has its Sys before it starts');
    let ret: Promise<number>;
    try {
      ret = Promise.resolve(main(sys));
    } catch (e) {
      programThrew(k, p, e);
      return;
    }
    ret.then(
      (code) => mainReturned(k, p, code),
      (e: unknown) => programThrew(k, p, e),
    );
  });
}

function mainReturned(k: Kernel, p: SimProcess, code: unknown): void {
  if (!p.alive) return;
  if (!(typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255)) {
    programThrew(k, p, new Error(`main returned ${String(code)}, not an exit code 0..255`));
    return;
  }
  die(k, p, { code, signal: null });
}

/** An exception escaped p's code: ProgramExit is an exit, anything else a bug (SIGABRT). */
export function programThrew(k: Kernel, p: SimProcess, e: unknown): void {
  if (e instanceof ProgramExit) {
    if (p.alive) die(k, p, { code: e.code, signal: null });
    return;
  }
  k.recordBug(p, e);
  if (p.alive) die(k, p, { code: null, signal: 'SIGABRT' });
}

/** Ends p: its blocked syscalls never return, its fds close (peers see EOF or EPIPE, flocks go),
 *  its waiters learn the status and a parent with a SIGCHLD handler gets one. */
export function die(k: Kernel, p: SimProcess, status: ExitStatus): void {
  assert(p.alive, 'a process dies once');
  assert((status.code === null) !== (status.signal === null), 'exit status is a code or a signal');
  p.alive = false;
  p.status = status;
  k.procs.delete(p.pid);
  for (const cleanup of [...p.cleanups]) cleanup();
  p.cleanups.clear();
  for (const d of p.takeAllFds()) k.files.release(d);
  k.record(p.pid, 'proc.exit', { code: status.code, signal: status.signal });
  p.exited.wakeAll();
  notifyOutside(p, status);
  const parent = k.procs.get(p.ppid);
  if (parent !== undefined && (parent.handlers.get('SIGCHLD')?.length ?? 0) > 0) {
    k.schedule(parent, 'signal', () => deliverSignal(k, parent, 'SIGCHLD'));
  }
}

/** Power loss: every process stops where it is. No fd is closed (SimFs.crash invalidates every
 *  open file) and no handler runs. Returns how many died. */
export function killAll(k: Kernel): number {
  const victims = k.pids().map((pid) => k.procs.get(pid) as SimProcess);
  const status: ExitStatus = { code: null, signal: 'SIGKILL' };
  for (const p of victims) {
    p.alive = false;
    p.status = status;
    p.cleanups.clear();
    p.fds.clear();
    p.exited.clear();
  }
  k.procs.clear();
  for (const p of victims) notifyOutside(p, status);
  return victims.length;
}

/** Delivers sig to p now: SIGKILL always kills; handlers run if registered; else the default. */
export function deliverSignal(k: Kernel, p: SimProcess, sig: Signal): void {
  if (!p.alive) return;
  k.record(p.pid, 'proc.signal', { signal: sig });
  if (sig === 'SIGKILL') {
    die(k, p, { code: null, signal: sig });
    return;
  }
  const handlers = p.handlers.get(sig) ?? [];
  if (handlers.length > 0) {
    for (const h of [...handlers]) k.runAs(p, h);
    return;
  }
  if (fatalByDefault.has(sig)) die(k, p, { code: null, signal: sig });
}

function notifyOutside(p: SimProcess, status: ExitStatus): void {
  const waiters = p.outsideWaiters.splice(0);
  for (const w of waiters) w(status);
}
