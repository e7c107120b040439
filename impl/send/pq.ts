// The priority queues (nq:qmail-send.c pqadd, pqstart, pqfinish, pqrun): pqchan[c] holds messages
// with a local or remote file and the time of their next pass; pqdone those whose channel files
// are gone (messdone finishes them); pqfail stat failures, retried after SLEEP_SYSFAIL.
// Membership sets keep an id from entering a queue it is already in (or a job it is already in):
// todo-proc's D records and a rescan of info/ may name the same message.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { sleepSysfailSec, type Channel } from '../../spec/send.ts';
import { abs, chanDir, rel, statOrNull, type QueueDir } from './files.ts';
import type { Send } from './types.ts';

export function nowSec(sys: Sys): number {
  return Math.floor(sys.clock.nowMs() / 1000);
}

export function insertChan(s: Send, c: Channel, id: number, dt: number): void {
  const ch = s.chans[c];
  if (ch.members.has(id)) return;
  ch.members.add(id);
  ch.pq.insert({ id, dt });
  s.wake.notify();
}

export function insertDone(s: Send, id: number, dt: number): void {
  if (s.doneIds.has(id)) return;
  s.doneIds.add(id);
  s.pqdone.insert({ id, dt });
  s.wake.notify();
}

function insertFail(s: Send, id: number, dt: number): void {
  if (s.failIds.has(id)) return;
  s.failIds.add(id);
  s.pqfail.insert({ id, dt });
}

/** Send.chanAbsent's bit for todo/ID (the channels have 1 << channel). */
export const todoAbsent = 4;

/** Notes channel files of id known durably absent (Send.chanAbsent). */
export function noteAbsent(s: Send, id: number, bits: number): void {
  if (bits !== 0) s.chanAbsent.set(id, (s.chanAbsent.get(id) ?? 0) | bits);
}

/** Is the id anywhere already (a queue, a job, a messdone)? */
export function known(s: Send, id: number): boolean {
  return s.chans[0].members.has(id) || s.chans[1].members.has(id) || s.doneIds.has(id) || s.failIds.has(id);
}

/** pqadd: schedule a preprocessed message from its files. info without todo is S5; each channel
 *  file is scheduled at its mtime (pqfinish stored the next retry there); none left → pqdone. */
export async function pqadd(s: Send, id: number): Promise<void> {
  const { sys, layout } = s;
  let failed: QueueDir = 'info';
  try {
    if ((await statOrNull(sys, abs(layout, 'info', id))) === null) return; // someone yanking our chain
    failed = 'todo';
    if ((await statOrNull(sys, abs(layout, 'todo', id))) !== null) return; // look, ma, dad crashed writing info!
    const times: (number | null)[] = [];
    for (const c of [0, 1] as const) {
      failed = chanDir(c);
      const st = await statOrNull(sys, abs(layout, chanDir(c), id));
      times.push(st === null ? null : Math.floor(st.mtimeMs / 1000));
    }
    if (known(s, id)) return;
    times.forEach((dt, c) => {
      if (dt !== null) insertChan(s, c as Channel, id, dt);
    });
    if (times.every((t) => t === null)) insertDone(s, id, nowSec(sys));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'warning', warning: 'statLater', file: rel(layout, failed, id) });
    insertFail(s, id, nowSec(sys) + sleepSysfailSec);
  }
}

/** pqstart: every message under info/. */
export async function pqstart(s: Send): Promise<void> {
  for (let sub = 0; sub < s.layout.split; sub++) {
    let names: string[];
    try {
      names = await s.sys.fs.readdir(`${s.layout.dir}/info/${sub}`);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      s.log.line({ kind: 'alert', alert: 'opendir', file: `info/${sub}` });
      continue;
    }
    for (const name of names) if (/^[0-9]+$/.test(name) && Number.isSafeInteger(Number(name))) await pqadd(s, Number(name));
  }
}

/** The pqfail entry that is due, if any: pqadd it again. */
export async function pqfailDo(s: Send): Promise<void> {
  const pe = s.pqfail.min();
  if (pe === undefined || pe.dt > s.recent) return;
  s.pqfail.delmin();
  s.failIds.delete(pe.id);
  await pqadd(s, pe.id);
}

/** pqrun (SIGALRM): every channel entry is due now. */
export function pqrun(s: Send): void {
  for (const ch of s.chans) ch.pq.setAll(s.recent);
}

/** pqfinish: each pending pqchan time becomes its channel file's atime and mtime, so that a
 *  restart keeps the schedule. Not fsynced (qmail neither): a crash loses it, and the message is
 *  merely retried early. */
export async function pqfinish(s: Send): Promise<void> {
  for (const ch of s.chans) {
    for (let pe = ch.pq.delmin(); pe !== undefined; pe = ch.pq.delmin()) {
      const path = abs(s.layout, chanDir(ch.c), pe.id);
      try {
        await s.sys.fs.utimes(path, pe.dt * 1000, pe.dt * 1000);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        s.log.line({ kind: 'warning', warning: 'utime', file: rel(s.layout, chanDir(ch.c), pe.id) });
      }
    }
  }
}
