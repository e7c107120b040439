// What todo-proc tells qmail-send (spec/send.md 3): NUL-terminated records on fd 1, written in
// order: `L<line>\n` for the activity log, `D<L|R|B|X><id>` once a message is preprocessed and its
// todo entry durably gone, `X` when todo-proc exits. Writes go through a SerialWriter: a slow
// qmail-send never blocks preprocessing.

import type { Sys } from '../sys/types.ts';
import { formatLogLine, type LogEvent } from '../../spec/log.ts';
import { todoRecord, type TodoDoneKind } from '../../spec/send.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { SerialWriter } from '../shared/fd-stream.ts';

export class SendLink {
  private readonly out: SerialWriter;

  constructor(sys: Sys, onGone: () => void) {
    this.out = new SerialWriter(sys, 1, onGone);
  }

  log(e: LogEvent): void {
    this.record(`${todoRecord.log}${formatLogLine(e)}\n`);
  }

  done(kind: TodoDoneKind, id: number): void {
    this.record(`${todoRecord.done}${kind}${id}`);
  }

  exit(): void {
    this.record(todoRecord.exit);
  }

  /** A write failed: qmail-send is gone. */
  get gone(): boolean {
    return this.out.error !== null;
  }

  drain(): Promise<void> {
    return this.out.drain();
  }

  private record(text: string): void {
    void this.out.write(latin1Bytes(`${text}\0`));
  }
}
