// qmail-send's side of todo-proc (spec/send.md 3): single command bytes to fd 7 (C, H, X, D, A),
// NUL-terminated records from fd 8: D<L|R|B|X><id> (a preprocessed message: into pqchan or pqdone
// now), L<line> (copied to the activity log), X (todo-proc is exiting). EOF, or X while qmail-send
// is not exiting: "lost todo-proc connection", and qmail-send exits too.

import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { NulRecords } from '../lib/nul-records.ts';
import { readTask, SerialWriter } from '../shared/fd-stream.ts';
import { todoDoneKind, todoRecord, todoRecordBytesMax } from '../../spec/send.ts';
import { insertChan, insertDone, noteAbsent, todoAbsent } from './pq.ts';
import { setExitAsap } from './state.ts';
import type { Send, TodoLink } from './types.ts';

export const todoOutFd = 7;
const logTag = todoRecord.log.charCodeAt(0);
export const todoInFd = 8;

export function newTodoLink(s: Pick<Send, 'sys'>, onGone: () => void): TodoLink {
  const out = new SerialWriter(s.sys, todoOutFd, onGone);
  return {
    alive: true,
    exiting: false,
    records: [],
    send: (command) => void out.write(latin1Bytes(command)),
  };
}

export function watchTodo(s: Send): void {
  const records = new NulRecords(todoRecordBytesMax);
  s.wake.background(
    readTask(
      s.sys,
      todoInFd,
      (piece) => {
        s.todo.records.push(...records.push(piece));
        s.wake.notify();
      },
      () => todoGone(s),
    ),
  );
}

export function todoGone(s: Send): void {
  if (!s.todo.alive) return;
  s.todo.alive = false;
  if (!s.exitAsap && !s.todo.exiting) s.log.line({ kind: 'alert', alert: 'lostTodo', file: null });
  setExitAsap(s);
}

export function handleTodoRecords(s: Send): void {
  for (let r = s.todo.records.shift(); r !== undefined; r = s.todo.records.shift()) {
    // A log line goes on as the bytes it came in (NulRecords gives each record its own array).
    if (r[0] === logTag) {
      s.log.rawBytes(r.subarray(1));
      continue;
    }
    const text = latin1(r);
    const tag = text[0];
    if (tag === todoRecord.exit) {
      if (!s.exitAsap) s.log.line({ kind: 'alert', alert: 'lostTodo', file: null });
      s.todo.exiting = true;
      setExitAsap(s);
    } else if (tag === todoRecord.done) done(s, text.slice(1));
  }
}

function done(s: Send, rest: string): void {
  const m = /^([LRBX])([0-9]{1,15})$/.exec(rest);
  if (m === null) return;
  const id = Number(m[2]);
  const kind = m[1];
  if (kind === todoDoneKind.local || kind === todoDoneKind.both) insertChan(s, 0, id, s.recent);
  if (kind === todoDoneKind.remote || kind === todoDoneKind.both) insertChan(s, 1, id, s.recent);
  if (kind === todoDoneKind.none) insertDone(s, id, s.recent);
  // What todo-proc did not make is durably absent (it removed any leftover before announcing), and
  // so is todo/ID (announced only once qmail-clean removed it durably).
  const made = kind === todoDoneKind.both ? 3 : kind === todoDoneKind.local ? 1 : kind === todoDoneKind.remote ? 2 : 0;
  noteAbsent(s, id, (3 & ~made) | todoAbsent);
}
