// The activity log (../shared/spec/queue.md 3.8) on fd 0: one line per write, in order, never
// waited for by the loop. Lines are built by spec/log.ts's formatter from events whose address and
// report fields have been through logsafe(), so every line is in the grammar. With env QIDENT set
// (qscheduler's queue number), delivery numbers are written `<delid>.<QIDENT>`.

import type { Sys } from '../sys/types.ts';
import { formatLogLine, type DeliveryNumber, type LogEvent } from '../../spec/log.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { logsafe } from '../lib/logsafe.ts';
import { SerialWriter } from '../shared/fd-stream.ts';

export class ActivityLog {
  private readonly out: SerialWriter;
  private readonly qident: string | null;

  constructor(sys: Sys) {
    this.out = new SerialWriter(sys, 0);
    const q = sys.proc.self.env['QIDENT'];
    this.qident = q === undefined || q === '' ? null : logsafe(q);
  }

  delivery(n: number): DeliveryNumber {
    return { n, qident: this.qident };
  }

  line(e: LogEvent): void {
    this.raw(`${formatLogLine(e)}\n`);
  }

  /** A line todo-proc sent (its L record), verbatim; a missing \n is supplied. */
  raw(text: string): void {
    void this.out.write(latin1Bytes(text.endsWith('\n') ? text : `${text}\n`));
  }

  drain(): Promise<void> {
    return this.out.drain();
  }
}
