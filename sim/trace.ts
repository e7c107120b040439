// The run's trace: pino-shaped JSON lines `{"t":<virtual ms>,"pid":..,"event":"..",...}` and a
// running hash over every line, kept or not. Two runs of one seed must give the same hash; the
// simulator compares hashes instead of storing whole traces.

export interface TraceOptions {
  /** Keep the most recent lines only: at least this many, at most twice as many (the hash covers
   *  every line). Default: all. */
  keepLines?: number;
  /** Store syscall completions as lines; when false they are still hashed. */
  syscalls?: boolean;
  /** Receives every line as it is recorded, kept or not, syscalls included (qsim replay writes the
   *  full trace through it). */
  sink?: (line: string) => void;
  /** Called with every record as fields, kept or not, before it is formatted (a scenario watching
   *  spawns from outside the world). It only looks: it must not act on the world. */
  observe?: (pid: number, event: string, fields: Readonly<Record<string, unknown>> | undefined) => void;
}

export class Trace {
  readonly lines: string[] = [];
  readonly syscalls: boolean;
  private readonly keepLines: number;
  private readonly sink: ((line: string) => void) | undefined;
  private readonly observe: TraceOptions['observe'];
  // Two independent 32-bit FNV-1a style lanes make a 64-bit fingerprint without BigInt.
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private count = 0;

  constructor(opts: TraceOptions = {}) {
    this.keepLines = opts.keepLines ?? Number.POSITIVE_INFINITY;
    this.syscalls = opts.syscalls ?? true;
    this.sink = opts.sink;
    this.observe = opts.observe;
  }

  /** Number of records hashed so far (kept or not). */
  get records(): number {
    return this.count;
  }

  record(tUs: number, pid: number, event: string, fields?: Record<string, unknown>, keep = true): void {
    this.observe?.(pid, event, fields);
    const rec: Record<string, unknown> = { t: tUs / 1000, pid, event };
    // A field may not overwrite the record's own keys: `t` from a program becomes `_t`.
    if (fields !== undefined) for (const [key, v] of Object.entries(fields)) rec[Object.hasOwn(rec, key) ? `_${key}` : key] = v;
    const line = JSON.stringify(rec, jsonSafe);
    this.mix(line);
    this.count++;
    this.sink?.(line);
    if (!keep) return;
    this.lines.push(line);
    // Trimmed in batches so that a bounded trace costs O(1) per record on average.
    if (this.lines.length >= 2 * this.keepLines) this.lines.splice(0, this.lines.length - this.keepLines);
  }

  /** The hash of a trace written out as lines (qsim replay's file, newlines dropped): equals hash(). */
  static hashOf(lines: Iterable<string>): string {
    const t = new Trace({ keepLines: 0 });
    for (const line of lines) t.mix(line);
    return t.hash();
  }

  /** 16 hex digits over every record so far, in order. */
  hash(): string {
    return hex8(this.h1) + hex8(this.h2);
  }

  private mix(line: string): void {
    let a = this.h1;
    let b = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    }
    this.h1 = Math.imul(a ^ 0x0a, 0x01000193) >>> 0;
    this.h2 = (Math.imul(b ^ 0x0a, 0x5bd1e995) ^ (b >>> 13)) >>> 0;
  }
}

function hex8(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

/** Makes log fields JSON-safe and stable: bigint as a string, bytes as a short summary, errors by
 *  name and message (never a stack: stacks carry file positions, which are not the run's business). */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return { bytes: value.length };
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  return value;
}
