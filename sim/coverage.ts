// Coverage marks: which rare paths a run reached, seen from outside the daemons (issue 5, item 4).
// A random scenario that passes says little if it never came near the path that matters (a power
// loss during recovery, a double bounce, an ENOSPC at qmail-queue): the report lists every mark of
// the registry below, reached (with a count) or never reached, and swarm reports add them up.
//
// Nothing here reaches into impl/: a CoverageWatch looks at the trace (observe: every spawn, exit,
// signal, syscall error, power loss, clock step), and the scenario adds what the activity logs,
// the ledger and its own driver saw (marksFromLogs, marksFromLedger, mark()).

import { parseLogLine, type LogEvent } from '../spec/log.ts';
import type { LedgerCounts } from './checkers/delivery.ts';

/** The registry: every mark a scenario may reach, with what it means. */
export const coverageMarks = {
  'power-loss': 'a power loss struck the running MTA',
  'power-loss-in-recovery': 'a power loss struck while queue-fix ran or within a minute of a boot',
  'queue-fix-repaired': 'queue-fix changed the queue after a power loss',
  'daemon-killed': 'kill -9 of qmail-send, todo-proc, qmail-lspawn or a qmail-clean',
  'start-exit-111': 'qmail-start exited 111 after one of its daemons died',
  'worker-killed-mid-delivery': 'a delivery worker was killed while it delivered',
  'daemon-exit-111': 'a daemon exited 111 itself (not killed: an error, or a peer that died)',
  'duplicate-delivery': 'a copy delivered twice across a fault (the 6.3 window)',
  'duplicate-bounce': 'a failure bounced twice across a fault (the 6.3 window)',
  bounce: 'a bounce was queued',
  'double-bounce': 'a bounce of a bounce went to postmaster',
  'triple-bounce': 'a triple bounce was discarded',
  'deferred-then-delivered': 'a local delivery deferred, then delivered on a retry',
  'local-deferral-retried': 'a local delivery deferred three times or more (the retry schedule ran)',
  'remote-deferral': 'a remote delivery deferred',
  'queue-lifetime-bounce': 'a deferral past queuelifetime became a bounce',
  'local-concurrency-full': 'qmail-send used every local delivery slot',
  'ossified-cleanup': "qmail-clean removed a mess file qmail-send's OSSIFIED sweep had just found ossified",
  'pid-leftover-swept': 'qmail-clean removed a pid/ leftover',
  'enospc-qmail-queue': 'qmail-queue met ENOSPC',
  'enospc-delivery': 'a delivery met ENOSPC',
  'qq-tempfail': 'a client got a temporary failure from qmail-queue',
  'eio-daemon': 'qmail-send, todo-proc, qmail-clean or a spawner met EIO',
  'eio-delivery': 'a delivery met EIO',
  'clock-back': 'the wall clock stepped backwards',
  'clock-forward': 'the wall clock stepped forwards',
  'program-deferred': 'a .qmail program exited 111',
  'program-bounced': 'a .qmail program exited 100',
  'program-slow': 'a .qmail program ran for more than an hour',
  'log-warning': "qmail-send logged a warning (each warning's name is its own extra mark)",
  'log-alert': 'qmail-send logged an alert',
} as const;

export type MarkName = keyof typeof coverageMarks;

/** Reached marks and their counts: registry names, plus extras such as `warning: <name>`. */
export type CoverageCounts = Record<string, number>;

export class Coverage {
  readonly counts: CoverageCounts = {};

  mark(name: MarkName | `warning: ${string}` | `alert: ${string}`, n = 1): void {
    if (n > 0) this.counts[name] = (this.counts[name] ?? 0) + n;
  }

  reached(name: string): boolean {
    return (this.counts[name] ?? 0) > 0;
  }
}

/** Reached and never-reached marks of the registry, and the extras reached, sorted. */
export function coverageRows(counts: CoverageCounts): { reached: [string, number][]; never: string[] } {
  const names = Object.keys(coverageMarks);
  const reached = names.filter((n) => (counts[n] ?? 0) > 0).map((n): [string, number] => [n, counts[n] as number]);
  const extras = Object.keys(counts).filter((n) => !names.includes(n) && (counts[n] ?? 0) > 0).sort();
  return { reached: [...reached, ...extras.map((n): [string, number] => [n, counts[n] as number])], never: names.filter((n) => !((counts[n] ?? 0) > 0)) };
}

/** Adds coverage counts (swarm and merge: across seeds). */
export function mergeCoverage(all: readonly (CoverageCounts | undefined)[]): CoverageCounts {
  const out: CoverageCounts = {};
  for (const c of all) for (const [k, n] of Object.entries(c ?? {})) out[k] = (out[k] ?? 0) + n;
  return out;
}

/** The terminal table's lines. */
export function coverageText(counts: CoverageCounts): string {
  const { reached, never } = coverageRows(counts);
  const width = Math.max(8, ...reached.map(([n]) => n.length));
  const lines = reached.map(([n, c]) => `  + ${n.padEnd(width)}  ${c}`);
  return `coverage marks: ${reached.length} reached, ${never.length} never reached\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}${never.length > 0 ? `  never: ${never.join(', ')}\n` : ''}`;
}

const deliveryPrograms = new Set(['qmail-local-worker', 'qmail-local']);
const daemonPrograms = new Set(['qmail-send', 'todo-proc', 'qmail-clean', 'qmail-lspawn', 'qmail-rspawn']);
const todoId = /(?:^|\/)todo\/(?:[0-9]+\/)?([0-9]+)$/;
const infoId = /(?:^|\/)info\/(?:[0-9]+\/)?([0-9]+)$/;
const mutating = new Set(['sys.unlink', 'sys.rename', 'sys.link', 'sys.mkdir', 'sys.rmdir', 'sys.chmod', 'sys.chown', 'sys.open']);

/** Watches the trace (install with watch()): which program each pid runs, syscall errors by
 *  program, queue-fix's changes, qmail-clean's unlinks, clock steps, power losses, program runs. */
export class CoverageWatch {
  private readonly program = new Map<number, string>();
  private readonly parent = new Map<number, number>();
  /** When qmail-send's OSSIFIED sweep last found each message ossified (by queue id). */
  private readonly sweptAt = new Map<number, number>();
  private readonly noInfoAt = new Map<number, number>();
  /** Start times of programs of interest (.qmail programs), to see slow ones. */
  private readonly started = new Map<number, number>();
  /** Set by the scenario: a boot or queue-fix began at this virtual ms (power-loss-in-recovery). */
  recoveryUntilMs = -1;

  constructor(
    readonly cov: Coverage,
    private readonly nowMs: () => number,
    /** Program names whose runs are .qmail programs (their exits are marked). */
    private readonly dotQmailPrograms: ReadonlySet<string> = new Set(),
  ) {}

  observe(pid: number, event: string, fields: Readonly<Record<string, unknown>> | undefined): void {
    if (event === 'proc.spawn' && fields !== undefined) {
      const child = fields['child'] as number;
      this.program.set(child, String(fields['program']));
      this.parent.set(child, pid);
      if (this.dotQmailPrograms.has(String(fields['program']))) this.started.set(child, this.nowMs());
      return;
    }
    if (event === 'kernel.power_loss') {
      this.cov.mark('power-loss');
      if (this.nowMs() <= this.recoveryUntilMs) this.cov.mark('power-loss-in-recovery');
      return;
    }
    if (event === 'kernel.clock_step') {
      const ms = Number(fields?.['ms'] ?? 0);
      if (ms < 0) this.cov.mark('clock-back');
      if (ms > 0) this.cov.mark('clock-forward');
      return;
    }
    if (event === 'proc.exit') this.exited(pid, fields);
    if (!event.startsWith('sys.') || fields === undefined) return;
    const program = this.program.get(pid) ?? '';
    const err = fields['err'];
    if (err === 'ENOSPC' || err === 'EIO') this.syscallError(pid, program, err);
    if (err === undefined && program === 'queue-fix' && mutating.has(event) && (event !== 'sys.open' || this.creates(fields))) this.cov.mark('queue-fix-repaired');
    if (err === undefined && event === 'sys.unlink' && program === 'qmail-clean') this.cleanUnlink(String(fields['path'] ?? ''));
    // qmail-send's OSSIFIED sweep (findOssified) looks for todo/ID last, only for an old mess file
    // with no info: ENOENT there means the sweep is about to remove the message.
    // (messdone stats todo/ID too, but never info/ID first: the sweep's pair is info, then todo.)
    if (err === 'ENOENT' && event === 'sys.stat' && program === 'qmail-send') {
      const path = String(fields['path'] ?? '');
      const info = infoId.exec(path);
      if (info !== null) this.noInfoAt.set(Number(info[1]), this.nowMs());
      const todo = todoId.exec(path);
      const at = todo === null ? undefined : this.noInfoAt.get(Number(todo[1]));
      if (todo !== null && at !== undefined && this.nowMs() - at <= 1000) this.sweptAt.set(Number(todo[1]), this.nowMs());
    }
  }

  private creates(fields: Readonly<Record<string, unknown>>): boolean {
    // queue-fix opening for reading changes nothing; O_CREAT (0o100) may.
    return (Number(fields['flags'] ?? 0) & 0o100) !== 0;
  }

  private exited(pid: number, fields: Readonly<Record<string, unknown>> | undefined): void {
    const program = this.program.get(pid) ?? '';
    const code = fields?.['code'];
    const start = this.started.get(pid);
    if (start !== undefined) {
      if (code === 111) this.cov.mark('program-deferred');
      if (code === 100) this.cov.mark('program-bounced');
      if (this.nowMs() - start > 3_600_000) this.cov.mark('program-slow');
      this.started.delete(pid);
    }
    if (code === 111 && daemonPrograms.has(program)) this.cov.mark('daemon-exit-111');
  }

  private syscallError(pid: number, program: string, err: 'ENOSPC' | 'EIO'): void {
    if (program === 'qmail-queue') {
      if (err === 'ENOSPC') this.cov.mark('enospc-qmail-queue');
      return;
    }
    if (this.underDelivery(pid)) this.cov.mark(err === 'ENOSPC' ? 'enospc-delivery' : 'eio-delivery');
    else if (err === 'EIO' && daemonPrograms.has(program)) this.cov.mark('eio-daemon');
  }

  private underDelivery(pid: number): boolean {
    for (let p: number | undefined = pid, n = 0; p !== undefined && n < 32; p = this.parent.get(p), n++) {
      if (deliveryPrograms.has(this.program.get(p) ?? '')) return true;
    }
    return false;
  }

  private cleanUnlink(path: string): void {
    // qmail-clean works in the queue directory: paths are relative (mess/S/ID, pid/PID.TIME.N).
    const m = /(?:^|\/)(mess|pid)\/(?:[0-9]+\/)?([0-9][0-9.]*)$/.exec(path);
    if (m === null) return;
    if (m[1] === 'pid') {
      this.cov.mark('pid-leftover-swept');
      return;
    }
    // Removed within a minute of the sweep finding it ossified: the sweep's foop.
    const at = this.sweptAt.get(Number(m[2]));
    if (at !== undefined && this.nowMs() - at <= 60_000) this.cov.mark('ossified-cleanup');
    this.sweptAt.delete(Number(m[2]));
  }
}

/** Marks from the activity logs of every boot: bounces (double, triple), deferrals then successes,
 *  long local retry chains, remote deferrals, dying bounces, full local concurrency, warnings and
 *  alerts. */
export function marksFromLogs(cov: Coverage, logs: readonly string[]): void {
  const senderOf = new Map<number, string>();
  const deferrals = new Map<string, number>();
  for (const text of logs) {
    const starts = new Map<number, { id: number; channel: string; recipient: string }>();
    for (const line of text.split('\n')) {
      const e = parseLogLine(line);
      if ('error' in e) continue;
      logEvent(cov, e, { senderOf, deferrals, starts });
    }
  }
}

interface LogMemory {
  senderOf: Map<number, string>;
  deferrals: Map<string, number>;
  starts: Map<number, { id: number; channel: string; recipient: string }>;
}

function logEvent(cov: Coverage, e: LogEvent, m: LogMemory): void {
  switch (e.kind) {
    case 'info':
      m.senderOf.set(e.id, e.from);
      return;
    case 'bounce':
      cov.mark('bounce');
      // A bounce of a message from <> is the double bounce (to postmaster); qmail logs the
      // triple case separately.
      if (m.senderOf.get(e.id) === '') cov.mark('double-bounce');
      return;
    case 'triple':
      cov.mark('triple-bounce');
      return;
    case 'status':
      if (e.local.limit > 0 && e.local.used >= e.local.limit) cov.mark('local-concurrency-full');
      return;
    case 'warning':
      cov.mark('log-warning');
      cov.mark(`warning: ${e.warning}`);
      return;
    case 'alert':
      cov.mark('log-alert');
      cov.mark(`alert: ${e.alert}`);
      return;
    case 'starting':
      m.starts.set(e.delivery.n, { id: e.id, channel: e.channel, recipient: e.recipient });
      return;
    case 'delivery':
      delivery(cov, e, m);
      return;
    default:
  }
}

function delivery(cov: Coverage, e: Extract<LogEvent, { kind: 'delivery' }>, m: LogMemory): void {
  const s = m.starts.get(e.delivery.n);
  if (s === undefined) return;
  const key = `${s.id} ${s.recipient}`;
  if (e.result === 'deferral') {
    if (s.channel === 'remote') cov.mark('remote-deferral');
    const n = (m.deferrals.get(key) ?? 0) + 1;
    m.deferrals.set(key, n);
    if (s.channel === 'local' && n === 3) cov.mark('local-deferral-retried');
  }
  if (e.result === 'success' && s.channel === 'local' && (m.deferrals.get(key) ?? 0) > 0) cov.mark('deferred-then-delivered');
  if (e.result === 'failure' && e.report.replace(/_/g, ' ').includes('in the queue too long')) cov.mark('queue-lifetime-bounce');
}

/** Marks from the delivery ledger's counts. */
export function marksFromLedger(cov: Coverage, c: LedgerCounts): void {
  cov.mark('duplicate-delivery', c.duplicateDeliveries);
  cov.mark('duplicate-bounce', c.duplicateBounces);
}
