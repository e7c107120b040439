// A writer for one stream fd that many producers share: whole records only, in the order queued,
// never interleaved; records that pile up while a write is in progress go out together in the next
// write (one syscall, one wake-up of the reader). A write error is reported once to onError, and
// every later record is dropped: the reader is gone.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { concat } from '../lib/envelope.ts';
import { writeAll } from './fdio.ts';

export class BatchWriter {
  private queued: Uint8Array[] = [];
  private draining: Promise<void> | null = null;
  private broken = false;

  constructor(
    private readonly sys: Sys,
    private readonly fd: Fd,
    private readonly onError: (e: SysError) => void | Promise<void>,
  ) {}

  get failed(): boolean {
    return this.broken;
  }

  /** Queues one record; returns at once. */
  send(record: Uint8Array): void {
    if (this.broken) return;
    this.queued.push(record);
    this.draining ??= this.drain();
  }

  /** Settles when everything queued so far is written (or dropped). */
  async flushed(): Promise<void> {
    while (this.draining !== null) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0 && !this.broken) {
      const batch = this.queued.length === 1 ? (this.queued[0] as Uint8Array) : concat(this.queued);
      this.queued = [];
      try {
        await writeAll(this.sys, this.fd, batch);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        this.broken = true;
        this.queued = [];
        await this.onError(e);
      }
    }
    this.draining = null;
  }
}
