// qmail-send's main loop (nq:qmail-send.c main; ../shared/spec/queue.md 3.2) as an event loop.
// Each turn: note the time; SIGALRM and SIGHUP work; todo-proc's records; the spawners' reports;
// one pass step per channel as far as slots allow; a due pqfail entry; due messdones; the cleanup.
// Then it waits (wakeup.ts) for the next report, record, finished write or task, signal, or the
// earliest time something is due: never busy. It ends when exitasap is set and no delivery of a
// live channel and no background task is left.

import { SysError } from '../sys/errors.ts';
import { sleepForeverSec, todoCommand, type Channel } from '../../spec/send.ts';
import { ConstMap } from '../lib/constmap.ts';
import type { Controls } from '../shared/controls.ts';
import { cleanupOnce } from './cleanup.ts';
import { handleReports } from './deliveries.ts';
import { messdone, messdoneMax } from './messdone.ts';
import { passDo, passMayOpen } from './passes.ts';
import { nowSec, pqfailDo, pqrun } from './pq.ts';
import { task } from './state.ts';
import { handleTodoRecords } from './todo-link.ts';
import type { Send } from './types.ts';

const channelIds: readonly Channel[] = [0, 1];

export async function runLoop(s: Send, ctl: Controls): Promise<void> {
  while (!(s.exitAsap && canExit(s))) {
    s.log.hold();
    s.recent = nowSec(s.sys);
    if (s.runAsap) {
      s.runAsap = false;
      pqrun(s);
    }
    if (s.readAsap) {
      s.readAsap = false;
      await reread(s, ctl);
    }
    handleTodoRecords(s);
    for (const ch of s.chans) handleReports(s, ch);
    for (const c of channelIds) await passDo(s, c);
    if (!s.exitAsap) {
      await pqfailDo(s);
      startMessdones(s);
      startCleanup(s);
    }
    s.log.release();
    await s.wake.wait(s.sys, timeoutMs(s));
  }
  s.log.release();
}

/** del_canexit, plus our background tasks (marks, job closes, messdones) having finished. */
function canExit(s: Send): boolean {
  return s.chans.every((ch) => !ch.alive || ch.used === 0) && s.tasks.size === 0;
}

function startMessdones(s: Send): void {
  for (let pe = s.pqdone.min(); pe !== undefined && pe.dt <= s.recent && s.messdoneRunning < messdoneMax; pe = s.pqdone.min()) {
    s.pqdone.delmin();
    const id = pe.id;
    s.messdoneRunning++;
    task(s, async () => {
      try {
        await messdone(s, id);
      } finally {
        s.messdoneRunning--;
      }
    });
  }
}

function startCleanup(s: Send): void {
  if (s.cleanupRunning || s.recent < s.cleanupTime) return;
  s.cleanupRunning = true;
  task(s, async () => {
    try {
      await cleanupOnce(s);
    } finally {
      s.cleanupRunning = false;
    }
  });
}

/** How long to wait: until the earliest thing due that the loop could act on, at most a day. */
function timeoutMs(s: Send): number {
  let wakeup = s.recent + sleepForeverSec;
  const at = (dt: number | undefined): void => {
    if (dt !== undefined && dt < wakeup) wakeup = dt;
  };
  if (!s.exitAsap) {
    for (const c of channelIds) if (passMayOpen(s, c)) at(s.chans[c].pq.min()?.dt);
    at(s.pqfail.min()?.dt);
    if (s.messdoneRunning < messdoneMax) at(s.pqdone.min()?.dt);
    if (!s.cleanupRunning) at(s.cleanupTime);
  }
  return Math.max(0, wakeup * 1000 - s.sys.clock.nowMs());
}

/** SIGHUP: locals and virtualdomains again (nothing else, as qmail); todo-proc rereads too. */
async function reread(s: Send, ctl: Controls): Promise<void> {
  if (s.todo.alive) s.todo.send(todoCommand.reread);
  let locals: string[] | null;
  try {
    locals = await ctl.readfile('locals', true);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    locals = null;
  }
  if (locals === null) {
    s.log.line({ kind: 'alert', alert: 'rereadLocals', file: null });
    return;
  }
  let vdoms: string[] | null;
  try {
    vdoms = await ctl.readfile('virtualdomains', false);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'alert', alert: 'rereadVirtualdomains', file: null });
    return;
  }
  s.cfg.locals = new ConstMap(locals, false);
  s.cfg.virtualdomains = new ConstMap(vdoms ?? [], true);
}
