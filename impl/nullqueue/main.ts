// qmail-nullqueue: accept a message and throw it away (indimail: "disappear a message"). A
// qmail-queue replacement for NULLQUEUE and QMAILQUEUE, for tests and sinks.
//
// Usage:   qmail-nullqueue     (message on fd 0, envelope on fd 1, as qmail-queue)
// Runs as: whoever calls it; it touches no file.
// Input:   fd 0 read to EOF, then fd 1 read to EOF; both discarded, the envelope unchecked.
// Exit:    0 always once both are read; 54 read error (qq.tempReadError); 52 when DEATH passes
//          before the input ends (qq.tempTimeout), as qmail-queue.
// Crash safety: nothing is stored, so there is nothing to lose, and the caller is told 0 only
//          after it has written everything.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qq } from '../../spec/exit-codes.ts';
import { deathMs, ioChunkBytes } from '../../spec/limits.ts';

export async function main(sys: Sys): Promise<number> {
  const cancelDeath = sys.clock.timer(deathMs, () => sys.proc.exit(qq.tempTimeout));
  try {
    await drain(sys, 0);
    await drain(sys, 1);
  } catch (e) {
    if (e instanceof SysError) return qq.tempReadError;
    throw e;
  } finally {
    cancelDeath();
  }
  return qq.ok;
}

async function drain(sys: Sys, fd: Fd): Promise<void> {
  const buf = new Uint8Array(ioChunkBytes);
  while ((await sys.fs.read(fd, buf, 0, buf.length, null)) > 0);
}
