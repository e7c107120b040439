// Reports to qmail-send on fd 1: `slot byte, report, NUL`, whole records only, in the order they
// were finished; records that pile up during a write go out together (impl/shared/batch-writer.ts).
// A dead qmail-send (EPIPE, any write error) is ignored, as spawn.c's okwrite does: the deliveries
// still finish, and lspawn exits at EOF.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { BatchWriter } from '../shared/batch-writer.ts';
import { writeAll } from '../shared/fdio.ts';

export class ReportWriter {
  private readonly out: BatchWriter;

  constructor(
    private readonly sys: Sys,
    private readonly fd: Fd,
  ) {
    this.out = new BatchWriter(sys, fd, (e) => sys.log.event('warn', 'lspawn.report_write_failed', { code: e.code }));
  }

  /** The concurrency byte qmail-lspawn writes before anything else (a dead reader is ignored). */
  async hello(concurrency: number): Promise<void> {
    try {
      await writeAll(this.sys, this.fd, Uint8Array.of(concurrency));
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }

  /** Queues one report; returns at once. */
  send(delnum: number, report: Uint8Array): void {
    const rec = new Uint8Array(report.length + 2);
    rec[0] = delnum;
    rec.set(report, 1);
    this.out.send(rec);
  }

  flushed(): Promise<void> {
    return this.out.flushed();
  }
}
