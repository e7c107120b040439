// The remote spawner's loop (notqmail spawn.c with qmail-rspawn.c): the concurrency byte, then
// commands from fd 0, each checked and started at once; reports go to fd 1 as deliveries finish, in
// any order. EOF on fd 0 (or SIGTERM) stops the reading; deliveries in flight finish and are
// reported; then exit 0.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { commandBytesMax, spawnConcurrency } from '../../spec/spawn.ts';
import { checkCommand, CommandReader, type SpawnCommand } from '../lib/spawn-command.ts';
import { Tasks } from '../lib/tasks.ts';
import { ReportWriter } from '../lspawn/reports.ts';
import type { RspawnConfig } from './config.ts';
import { deliverRemote } from './delivery.ts';
import { Interruptible } from '../lib/interruptible.ts';

const enc = new TextEncoder();
const readChunkBytes = 4096;

export async function runSpawner(sys: Sys, cfg: RspawnConfig): Promise<number> {
  const reports = new ReportWriter(sys, 1);
  const slots = new Set<number>();
  const inflight = new Tasks();
  await reports.hello(spawnConcurrency);
  let stopping = false;
  const stop = new Promise<number>((resolve) => {
    sys.proc.onSignal('SIGTERM', () => {
      stopping = true;
      resolve(0);
    });
  });
  const dispatch = (cmd: SpawnCommand): void => {
    const refused = checkCommand(cmd, (d) => slots.has(d));
    if (refused !== null) return reports.send(cmd.delnum, enc.encode(refused));
    slots.add(cmd.delnum);
    inflight.add(
      deliverRemote(sys, cfg, cmd).then((report) => {
        slots.delete(cmd.delnum); // before qmail-send can see the report and reuse the slot
        reports.send(cmd.delnum, report);
      }),
    );
  };
  const reader = new CommandReader(commandBytesMax);
  // Not Promise.race against stop and inflight.failed: they rarely settle, and each race would
  // leave a reaction on them for the life of the process (impl/lib/interruptible.ts).
  const reads = new Interruptible().interruptWith(stop, 0).interruptWith(inflight.failed, 0);
  while (!stopping) {
    const buf = new Uint8Array(readChunkBytes);
    const n = await reads.wait(readCommands(sys, buf));
    if (n === 0) break;
    for (const cmd of reader.push(buf.subarray(0, n))) dispatch(cmd);
  }
  await inflight.settled();
  await reports.flushed();
  return 0;
}

/** One read of fd 0; a read error ends the reading like EOF (spawn.c stops reading too). */
async function readCommands(sys: Sys, buf: Uint8Array): Promise<number> {
  try {
    return await sys.fs.read(0, buf, 0, buf.length, null);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    sys.log.event('warn', 'rspawn.command_read_failed', { code: e.code });
    return 0;
  }
}
