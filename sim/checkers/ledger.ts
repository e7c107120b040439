// The acknowledgement ledger: what each client was told, checked against what the queue holds.
// Safety rule (issue 2): every run whose qmail-queue exited 0 is queued exactly once, with the message
// and envelope byte-identical; a run refused with an exit code is not queued; a run cut off by a crash
// is either fully queued or gone.

import type { QueueReport } from './queue-state.ts';
import { generateMessage, indexOf } from '../workload.ts';
import type { ExitStatus } from '../../impl/sys/types.ts';

export type Outcome = 'running' | 'ok' | 'refused' | 'cut';

export interface LedgerCounts {
  attempted: number;
  accepted: number;
  refused: number;
  cut: number;
  cutButQueued: number;
}

export class QueueLedger {
  private readonly runs = new Map<number, { outcome: Outcome; code: number | null; uid: number }>();

  constructor(private readonly seed: number) {}

  begin(index: number, uid: number): void {
    if (this.runs.has(index)) throw new Error(`ledger: index ${index} submitted twice`);
    this.runs.set(index, { outcome: 'running', code: null, uid });
  }

  finish(index: number, status: ExitStatus): void {
    const run = this.runs.get(index);
    if (run === undefined || run.outcome !== 'running') throw new Error(`ledger: finish of ${index} not running`);
    run.code = status.code;
    run.outcome = status.code === 0 ? 'ok' : status.signal === null ? 'refused' : 'cut';
  }

  /** A power loss: every run still going was cut off; the client never learnt its fate. */
  powerLoss(): void {
    for (const run of this.runs.values()) if (run.outcome === 'running') run.outcome = 'cut';
  }

  outcome(index: number): Outcome | undefined {
    return this.runs.get(index)?.outcome;
  }

  check(report: QueueReport): { violations: string[]; checks: number; counts: LedgerCounts } {
    const violations: string[] = [];
    let checks = 0;
    const seen = new Map<number, number>();
    for (const m of report.queued) {
      checks++;
      const index = indexOf(m.body);
      if (index === null) {
        violations.push(`message ${m.id}: not a generated message`);
        continue;
      }
      seen.set(index, (seen.get(index) ?? 0) + 1);
      violations.push(...this.compare(index, m));
      checks += 4;
    }
    const counts: LedgerCounts = { attempted: this.runs.size, accepted: 0, refused: 0, cut: 0, cutButQueued: 0 };
    for (const [index, run] of this.runs) {
      checks++;
      const n = seen.get(index) ?? 0;
      if (run.outcome === 'running') violations.push(`run ${index}: still running at the check`);
      if (run.outcome === 'ok') counts.accepted++;
      if (run.outcome === 'refused') counts.refused++;
      if (run.outcome === 'cut') counts.cut++;
      if (run.outcome === 'cut' && n === 1) counts.cutButQueued++;
      if (run.outcome === 'ok' && n !== 1) violations.push(`run ${index}: qmail-queue exited 0 but the message is queued ${n} times`);
      if (run.outcome === 'refused' && n !== 0) violations.push(`run ${index}: refused (exit ${run.code}) but queued`);
      if (run.outcome === 'cut' && n > 1) violations.push(`run ${index}: queued ${n} times`);
    }
    return { violations, checks, counts };
  }

  private compare(index: number, m: QueueReport['queued'][number]): string[] {
    const run = this.runs.get(index);
    if (run === undefined) return [`message ${m.id}: index ${index} was never submitted`];
    const want = generateMessage(this.seed, index);
    const out: string[] = [];
    if (!bytesEqual(m.body, want.message)) out.push(`message ${m.id} (run ${index}): body differs from what was submitted`);
    if (!bytesEqual(m.intd.sender, want.envelope.sender)) out.push(`message ${m.id} (run ${index}): sender differs`);
    const rcpts = m.intd.recipients;
    if (rcpts.length !== want.envelope.recipients.length || rcpts.some((r, i) => !bytesEqual(r, want.envelope.recipients[i] as Uint8Array)))
      out.push(`message ${m.id} (run ${index}): recipients differ`);
    if (m.intd.uid !== run.uid) out.push(`message ${m.id} (run ${index}): intd uid ${m.intd.uid}, submitter ${run.uid}`);
    if (!m.receivedLine.includes(`invoked by uid ${run.uid});`) && run.uid >= 1000)
      out.push(`message ${m.id} (run ${index}): Received line does not name uid ${run.uid}`);
    return out;
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
