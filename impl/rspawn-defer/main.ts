// qmail-rspawn-defer: the remote channel's spawner until qmail-rspawn exists. It speaks the spawn
// protocol (../shared/spec/queue.md 4.1-4.3) and answers every delivery at once with a deferral,
// so remote recipients stay queued (retried on qmail's schedule, bounced after queuelifetime as
// any deferral is) and nothing is lost. qmail-start runs it in qmail-rspawn's place.
//
// Usage:   qmail-rspawn-defer [QUEUEDIR]
// Runs as: qmailr.
// Input:   fd 0 commands from qmail-send: [slot] S/ID \0 sender \0 recipient \0.
// Output:  fd 1: first one byte, the slot count; then per command [slot] + remoteDeferReport + \0.
// Exit:    0 at end of input (writes to a qmail-send that is gone are dropped, as spawn.c does).
// Crash safety: it keeps no state; a deferral changes nothing in the queue.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { commandBytesMax } from '../../spec/spawn.ts';
import { remoteDeferReport, remoteDeferSlots } from '../../spec/send.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { CommandReader } from '../lib/spawn-command.ts';
import { writeAll } from '../shared/fdio.ts';

export async function main(sys: Sys): Promise<number> {
  let peerGone = !(await okWrite(sys, Uint8Array.of(remoteDeferSlots)));
  const reader = new CommandReader(commandBytesMax);
  const buf = new Uint8Array(16_384);
  for (;;) {
    let n: number;
    try {
      n = await sys.fs.read(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e instanceof SysError) return 0;
      throw e;
    }
    if (n === 0) return 0;
    const replies = reader.push(buf.subarray(0, n)).map((cmd) => `${String.fromCharCode(cmd.delnum)}${remoteDeferReport}\0`);
    if (replies.length > 0 && !peerGone) peerGone = !(await okWrite(sys, latin1Bytes(replies.join(''))));
  }
}

async function okWrite(sys: Sys, bytes: Uint8Array): Promise<boolean> {
  try {
    await writeAll(sys, 1, bytes);
    return true;
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
}
