// The spawner's loop (notqmail spawn.c): the concurrency byte, then commands from fd 0, each checked
// and started at once; reports go to fd 1 as deliveries finish, in any order. A slot is in use from
// its command until its report is queued. EOF on fd 0 (or SIGTERM: ours) stops the reading; the
// deliveries in flight finish and are reported, the workers are retired, and lspawn exits 0.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { commandBytesMax, spawnConcurrency } from '../../spec/spawn.ts';
import { checkCommand, CommandReader, type SpawnCommand } from '../lib/spawn-command.ts';
import { UsersCdbCache } from '../shared/users-cdb.ts';
import { Tasks } from '../lib/tasks.ts';
import type { LspawnConfig } from './config.ts';
import { deliver, type DeliveryContext } from './delivery.ts';
import { WorkerPool, type PoolOptions } from './pool.ts';
import { ReportWriter } from './reports.ts';
import { Interruptible } from '../lib/interruptible.ts';

const enc = new TextEncoder();
const readChunkBytes = 4096;

export class Spawner {
  private readonly reports: ReportWriter;
  private readonly ctx: DeliveryContext;
  private readonly slots = new Set<number>();
  /** Deliveries in flight; a throw in one (a bug, not a classified failure) crashes lspawn. */
  private readonly inflight = new Tasks();

  constructor(
    private readonly sys: Sys,
    cfg: LspawnConfig,
    pool: Partial<PoolOptions> = {},
  ) {
    this.reports = new ReportWriter(sys, 1);
    const workers = new WorkerPool(sys, { program: cfg.workerProgram, env: cfg.workerEnv, ...pool });
    this.ctx = { sys, cfg, pool: workers, cache: new UsersCdbCache() };
  }

  get pool(): WorkerPool {
    return this.ctx.pool;
  }

  async run(): Promise<number> {
    await this.reports.hello(spawnConcurrency);
    let stopping = false;
    const stop = new Promise<void>((resolve) => {
      this.sys.proc.onSignal('SIGTERM', () => {
        stopping = true;
        this.sys.log.event('info', 'lspawn.sigterm', { inflight: this.inflight.size });
        resolve();
      });
    });
    const reader = new CommandReader(commandBytesMax);
    // A SIGTERM ends the reading like EOF; a bug in a delivery ends it with the throw.
    const reads = new Interruptible().interruptWith(stop, 0).interruptWith(this.inflight.failed, 0);
    while (!stopping) {
      const buf = new Uint8Array(readChunkBytes);
      const n = await reads.wait(this.readCommands(buf));
      if (n === 0) break;
      for (const cmd of reader.push(buf.subarray(0, n))) this.dispatch(cmd);
    }
    await this.inflight.settled();
    await this.reports.flushed();
    await this.ctx.pool.shutdown();
    return 0;
  }

  /** One read of fd 0; a read error ends the reading like EOF (spawn.c stops reading too). */
  private async readCommands(buf: Uint8Array): Promise<number> {
    try {
      return await this.sys.fs.read(0, buf, 0, buf.length, null);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      this.sys.log.event('warn', 'lspawn.command_read_failed', { code: e.code });
      return 0;
    }
  }

  private dispatch(cmd: SpawnCommand): void {
    const refused = checkCommand(cmd, (d) => this.slots.has(d));
    if (refused !== null) {
      this.reports.send(cmd.delnum, enc.encode(refused));
      return;
    }
    this.slots.add(cmd.delnum);
    this.inflight.add(
      deliver(this.ctx, cmd).then((report) => {
        // Freed before the report can reach qmail-send, which may reuse the slot at once.
        this.slots.delete(cmd.delnum);
        this.reports.send(cmd.delnum, report);
      }),
    );
  }
}
