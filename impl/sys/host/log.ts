// HostLog: structured diagnostics as pino JSON lines on fd 2, written synchronously so that a
// crash or exit never loses the line explaining it. qmail's activity log is not this (types.ts Log).

import { pino, type DestinationStream, type Logger } from 'pino';
import type { Log, LogLevel } from '../types.ts';

const levels: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
const defaultLevel = 'info';

export interface HostLogOptions {
  /** LOGLEVEL from the environment; unknown or missing means 'info'. */
  level: string | undefined;
  /** The program's name, on every line. */
  name: string;
  /** Where lines go; fd 2 by default. */
  dest?: DestinationStream & { flushSync?: () => void };
}

export class HostLog implements Log {
  private readonly logger: Logger;
  private readonly dest: DestinationStream & { flushSync?: () => void };

  constructor(opts: HostLogOptions) {
    const level = opts.level !== undefined && levels.has(opts.level) ? opts.level : defaultLevel;
    this.dest = opts.dest ?? pino.destination({ fd: 2, sync: true });
    this.logger = pino({ level, name: opts.name }, this.dest);
  }

  event(level: LogLevel, name: string, fields: Record<string, unknown> = {}): void {
    this.logger[level]({ ...fields, event: name });
  }

  /** Before exit: a synchronous destination has nothing buffered, but a test stream may. */
  flush(): void {
    try {
      this.dest.flushSync?.();
    } catch {
      // Nothing buffered (SonicBoom throws when it has not started), or fd 2 is gone: nothing to save.
    }
  }
}
