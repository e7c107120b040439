// Scripted spawners for tests of qmail-send: real sim programs speaking the spawn protocol
// (../shared/spec/queue.md 4.1-4.2) whose answer to each delivery comes from a script, and which
// record every delivery they are asked for (time, channel, message bytes, sender, recipient,
// answer) into a list the test reads. They never touch the queue beyond reading mess/S/ID.
//
// A script decides per delivery: the report (K, Z or D + text) and how long the delivery takes.
// Reports go back in completion order; writes to a qmail-send that is gone are dropped, as spawn.c
// does; at end of input the spawner waits for its deliveries and exits 0.

import type { Program, Sys } from '../impl/sys/types.ts';
import { SysError } from '../impl/sys/errors.ts';
import { readFileOrNull, writeAll } from '../impl/shared/fdio.ts';
import { latin1, latin1Bytes } from '../impl/lib/latin1.ts';
import { CommandReader } from '../impl/lib/spawn-command.ts';
import { commandBytesMax } from '../spec/spawn.ts';

export interface SpawnRequest {
  channel: 'local' | 'remote';
  /** S/ID as sent. */
  messid: string;
  sender: string;
  recipient: string;
  /** The message file's bytes (null if it could not be read). */
  message: Uint8Array | null;
  /** Wall-clock ms when the command arrived. */
  atMs: number;
  /** How many times this spawner has seen this (messid, recipient) before. */
  attempt: number;
}

export interface SpawnAnswer {
  /** 'K' | 'Z' | 'D' + text (without the NUL). */
  report: string;
  delayMs: number;
}

export interface SpawnRecord extends SpawnRequest {
  report: string;
  /** Wall-clock ms when the report was written (or dropped). */
  doneMs: number;
  /** False when qmail-send was gone and the report was dropped. */
  reported: boolean;
  /** The boot generation the spawner belonged to (SpawnerWorld.epoch at its start). */
  epoch: number;
}

export type SpawnScript = (r: SpawnRequest) => SpawnAnswer;

/** Shared state of the fake spawners of one world: the records and the current boot epoch. */
export class SpawnerWorld {
  readonly records: SpawnRecord[] = [];
  epoch = 0;
}

export function fakeSpawner(world: SpawnerWorld, channel: 'local' | 'remote', script: SpawnScript, slots = 120): Program {
  return async (sys: Sys) => {
    const epoch = world.epoch;
    const home = sys.proc.self.env['QMAILHOME'] ?? '/var/qmail';
    let gone = !(await okWrite(sys, Uint8Array.of(slots)));
    const seen = new Map<string, number>();
    const running = new Set<Promise<void>>();
    const reader = new CommandReader(commandBytesMax);
    const buf = new Uint8Array(16_384);
    for (;;) {
      let n = 0;
      try {
        n = await sys.fs.read(0, buf, 0, buf.length, null);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
      }
      if (n === 0) break;
      for (const cmd of reader.push(buf.subarray(0, n))) {
        const messid = latin1(cmd.messid);
        const recipient = latin1(cmd.recipient);
        const key = `${messid}\0${recipient}`;
        const attempt = seen.get(key) ?? 0;
        seen.set(key, attempt + 1);
        const message = await readFileOrNull(sys, `${home}/queue/mess/${messid}`).catch(() => null);
        const req: SpawnRequest = { channel, messid, sender: latin1(cmd.sender), recipient, message, atMs: sys.clock.nowMs(), attempt };
        const answer = script(req);
        const p = (async () => {
          if (answer.delayMs > 0) await sys.clock.sleep(answer.delayMs);
          const ok = !gone && (await okWrite(sys, latin1Bytes(`${String.fromCharCode(cmd.delnum)}${answer.report}\0`)));
          if (!ok) gone = true;
          world.records.push({ ...req, report: answer.report, doneMs: sys.clock.nowMs(), reported: ok, epoch });
        })();
        running.add(p);
        void p.finally(() => running.delete(p));
      }
    }
    await Promise.all([...running]);
    return 0;
  };
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
