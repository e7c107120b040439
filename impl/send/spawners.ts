// The spawn protocol, qmail-send's side (../shared/spec/queue.md 4.1-4.3): a command per delivery
// to fd 1 (local) or 3 (remote), reports back on fd 2 or 4.
//
//   command  [slot byte] S/ID \0 sender \0 recipient \0     (sender VERP-expanded)
//   report   [slot byte] K|Z|D text \0
//
// A new delivery starts when a slot is free. qmail also waits until the previous command has left
// its one-command comm buffer; here the channel's SerialWriter keeps the commands in order and
// joins those of one loop turn into one write(2) (one command per busy slot, so the queue is
// bounded by the concurrency): several deliveries start in one turn instead of one per turn.
// (queue.md 4.3's one-command flow control is qmail's; the spawner sees the same byte stream.)
// A report line ends at a NUL only once it holds more than one byte (slot 0 is a NUL), and keeps
// at most REPORTMAX bytes.
// EOF on the report fd or EPIPE on the command fd: the spawner is dead; qmail-send stops starting
// work and exits once the live channel's deliveries are done.

import type { Fd } from '../sys/types.ts';
import { channelNames, reportMaxBytes, type Channel } from '../../spec/send.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { logsafe } from '../lib/logsafe.ts';
import { Prioq } from '../lib/prioq.ts';
import { verpSender } from '../lib/verp.ts';
import { readTask, SerialWriter } from '../shared/fd-stream.ts';
import { rel } from './files.ts';
import { setExitAsap, status } from './state.ts';
import type { ChannelState, Job, Send } from './types.ts';

export function newChannel(s: Pick<Send, 'sys'>, c: Channel, outFd: Fd, inFd: Fd, concurrency: number, onDeath: () => void): ChannelState {
  return {
    c, inFd, concurrency, used: 0, alive: true, line: [], reports: [], pass: null,
    out: new SerialWriter(s.sys, outFd, onDeath),
    slots: Array.from({ length: concurrency }, () => null),
    pq: new Prioq(),
    members: new Set(),
  };
}

/** Starts reading reports; complete ones are queued on the channel for the loop. */
export function watchReports(s: Send, ch: ChannelState): void {
  s.wake.background(
    readTask(
      s.sys,
      ch.inFd,
      (piece) => {
        for (const b of piece) addReportByte(ch, b);
        s.wake.notify();
      },
      () => spawnDied(s, ch),
    ),
  );
}

function addReportByte(ch: ChannelState, b: number): void {
  if (b === 0 && ch.line.length > 1) {
    ch.reports.push(Uint8Array.from(ch.line));
    ch.line = [];
    return;
  }
  if (ch.line.length < reportMaxBytes) ch.line.push(b);
}

export function spawnDied(s: Send, ch: ChannelState): void {
  if (!ch.alive) return;
  ch.alive = false;
  s.log.line({ kind: 'alert', alert: 'lostSpawn', file: null });
  setExitAsap(s);
}

/** del_avail: may this channel start a delivery now? */
export function delAvail(ch: ChannelState): boolean {
  return ch.alive && ch.used < ch.concurrency;
}

/** del_start: a free slot gets the recipient at mpos of the job's channel file. */
export function delStart(s: Send, job: Job, mpos: number, recip: string): void {
  const ch = s.chans[job.channel];
  if (!delAvail(ch)) return;
  const slot = ch.slots.indexOf(null);
  if (slot < 0) return;
  const delid = s.masterDelid++;
  ch.slots[slot] = { job, delid, mpos, recip };
  job.refs++;
  ch.used++;
  const messid = rel(s.layout, 'mess', job.id).slice('mess/'.length);
  const cmd = latin1Bytes(`${String.fromCharCode(slot)}${messid}\0${verpSender(job.sender, recip)}\0${recip}\0`);
  s.wake.background(
    ch.out.write(cmd).then((ok) => {
      if (!ok) spawnDied(s, ch);
    }),
  );
  s.log.line({ kind: 'starting', delivery: s.log.delivery(delid), id: job.id, channel: channelNames[job.channel], recipient: logsafe(recip), queue: null });
  status(s);
}
