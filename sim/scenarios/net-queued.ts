// Telling apart the messages one qmail-queued queued, for net-crash's ledger (rule 6 of
// sim/checkers/delivery.ts). A qmail-queue process queues one message, so its pid (`qp` in the
// Received line and in qmail-send's `info msg ... qp P`) names that message; a qmail-queued queues
// every message of its listener under its own pid. qmail's bytes stay as they are: the world
// watches from outside instead.
//
// When qmail-queued logs `queue.accepted` (enqueue returned 0: mess, intd and todo are durable, and
// nothing else has run since), the world reads the new mess file: its X-Sim-Index names the message,
// and it notes where the activity log then ended. An `info msg ID ... qp P` line later in the log
// is about the latest commit of ID by P before it (an ID is an inode number, reused only once the
// message is gone, and its `info msg` follows its commit); its size must match. The instance is
// then `P#index`, the key copies of that message are looked up by (delivery.ts endRunOf). An
// `info msg` of a qmail-queued's qp with no such commit (its todo link survived a power loss that
// came before the reply) is left unnamed: that copy goes unchecked by rule 6, nothing more.

import type { Kernel } from '../kernel.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { messagePath } from '../../spec/queue.ts';
import type { InstanceOf, LogPlace } from '../checkers/send-state.ts';
import { latin1 } from '../../impl/lib/latin1.ts';

interface Commit extends LogPlace {
  qp: number;
  bytes: number;
  index: number | null;
}

const before = (a: LogPlace, b: LogPlace): boolean => a.log < b.log || (a.log === b.log && a.offset <= b.offset);

export class QueuedInstances {
  /** Queue id -> its commits by qmail-queued processes, in order. */
  private readonly commits = new Map<number, Commit[]>();
  /** Pids that ran qmail-queued. */
  private readonly queuedPids = new Set<number>();
  /** How many commits were observed (a run's figure, and a test's check that the path ran). */
  count = 0;
  /** `info msg` lines of a qmail-queued's qp: named after a commit, or left unnamed. */
  named = 0;
  unnamed = 0;
  /** Violations seen while watching. */
  readonly problems: string[] = [];

  constructor(
    private readonly k: Kernel,
    private readonly q: QueueLayout,
    /** Where the activity log ends now (the current run's log and its length). */
    private readonly logPlace: () => LogPlace,
  ) {}

  /** For the trace's observe: only looks (the fs through peek), never acts. */
  observe(pid: number, event: string, fields: Readonly<Record<string, unknown>> | undefined): void {
    if (event === 'proc.spawn' && fields?.['program'] === 'qmail-queued') this.queuedPids.add(fields['child'] as number);
    if (event !== 'queue.accepted' || !this.queuedPids.has(pid)) return;
    const id = fields?.['id'] as number;
    const mess = this.k.fs.peekFile(`${this.q.dir}/${messagePath('mess', id, this.q)}`);
    if (mess === null) {
      this.problems.push(`qmail-queued ${pid} reported message ${id} queued, and mess/ has no such file`);
      return;
    }
    const index = /\nX-Sim-Index: ([0-9]+)\n/.exec(latin1(mess));
    const c: Commit = { ...this.logPlace(), qp: pid, bytes: mess.length, index: index === null ? null : Number(index[1]) };
    const list = this.commits.get(id);
    if (list === undefined) this.commits.set(id, [c]);
    else list.push(c);
    this.count++;
  }

  /** copyEnds' instanceOf: a qmail-queue's qp names its message; a qmail-queued's needs its commit. */
  readonly instanceOf: InstanceOf = (at, e) => {
    if (!this.queuedPids.has(e.qp)) return String(e.qp);
    const list = this.commits.get(e.id) ?? [];
    let last: Commit | undefined;
    for (const c of list) if (before(c, at)) last = c;
    if (last === undefined || last.qp !== e.qp || last.bytes !== e.bytes || last.index === null) {
      this.unnamed++;
      return null;
    }
    this.named++;
    return `${e.qp}#${last.index}`;
  };
}
