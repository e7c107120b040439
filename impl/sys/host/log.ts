// HostLog: structured diagnostics as pino JSON lines on fd 2, written synchronously so that a
// crash or exit never loses the line explaining it. qmail's activity log is not this (types.ts Log).
//
// pino is loaded on the first event at or above the level, not at start: it is a third of a
// bundled program's start-up (about 25 ms of 60), and per-message programs such as qmail-queue
// usually log nothing. Events before it has loaded are kept in order and written once it has;
// settle() waits for that, and the runner calls it before every exit.

import type { DestinationStream, Logger } from 'pino';
import type { Log, LogLevel } from '../types.ts';

const rank: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const defaultLevel = 'info';

export interface HostLogOptions {
  /** LOGLEVEL from the environment; unknown or missing means 'info'. */
  level: string | undefined;
  /** The program's name, on every line. */
  name: string;
  /** Where lines go; fd 2 by default. */
  dest?: DestinationStream & { flushSync?: () => void };
  /** The fd for lines when no dest is given; null drops every line (a program whose fd 2 is a
   *  protocol pipe and that was given no DIAGFD). Default 2. */
  fd?: number | null;
}

type Pending = [LogLevel, string, Record<string, unknown>];

export class HostLog implements Log {
  private readonly level: string;
  private logger: Logger | null = null;
  private dest: (DestinationStream & { flushSync?: () => void }) | null = null;
  private loading: Promise<void> | null = null;
  private readonly pending: Pending[] = [];

  constructor(private readonly opts: HostLogOptions) {
    const wanted = opts.level !== undefined && opts.level in rank ? opts.level : defaultLevel;
    this.level = opts.dest === undefined && opts.fd === null ? 'silent' : wanted;
  }

  event(level: LogLevel, name: string, fields: Record<string, unknown> = {}): void {
    if ((rank[level] as number) < (rank[this.level] as number)) return;
    if (this.logger !== null) this.logger[level]({ ...fields, event: name });
    else {
      this.pending.push([level, name, fields]);
      this.loading ??= this.load();
    }
  }

  /** Resolves once every event so far has been written. */
  async settle(): Promise<void> {
    if (this.loading !== null) await this.loading;
  }

  /** Before exit: a synchronous destination has nothing buffered, but a test stream may. */
  flush(): void {
    try {
      this.dest?.flushSync?.();
    } catch {
      // Nothing buffered (SonicBoom throws when it has not started), or fd 2 is gone: nothing to save.
    }
  }

  private async load(): Promise<void> {
    const { pino } = await import('pino');
    this.dest = this.opts.dest ?? pino.destination({ fd: this.opts.fd ?? 2, sync: true });
    const logger = pino({ level: this.level, name: this.opts.name }, this.dest);
    for (const [level, name, fields] of this.pending.splice(0)) logger[level]({ ...fields, event: name });
    this.logger = logger;
  }
}
