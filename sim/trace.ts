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
    // A line nobody keeps or receives (most syscalls) is hashed as it would be written, unbuilt.
    if (!keep && this.sink === undefined && plainKeys(fields)) {
      this.mixRecord(tUs, pid, event, fields);
      this.count++;
      return;
    }
    const line = formatLine(tUs, pid, event, fields);
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

  /** mix(formatLine(...)) for fields formatLine writes by hand (plainKeys), without the line. */
  private mixRecord(tUs: number, pid: number, event: string, fields: Record<string, unknown> | undefined): void {
    ha = this.h1;
    hb = this.h2;
    mixText('{"t":');
    mixMs(tUs);
    mixText(',"pid":');
    mixNumber(pid);
    mixText(',"event":');
    mixJsonString(event);
    if (fields !== undefined) {
      for (const key in fields) {
        if (!Object.hasOwn(fields, key)) continue;
        const v = fields[key];
        if (v === undefined) continue;
        mixChar(0x2c);
        mixJsonString(key);
        mixChar(0x3a);
        if (typeof v === 'string') mixJsonString(v);
        else if (typeof v === 'number') mixNumber(v);
        else mixText(jsonValue(v) as string);
      }
    }
    mixChar(0x7d);
    this.h1 = Math.imul(ha ^ 0x0a, 0x01000193) >>> 0;
    this.h2 = (Math.imul(hb ^ 0x0a, 0x5bd1e995) ^ (hb >>> 13)) >>> 0;
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

/** The record as one JSON line: `{"t":..,"pid":..,"event":..,...fields}`. Every record is formatted
 *  (the hash covers it), so the usual shape, flat fields with plain names, is written by hand; the
 *  bytes are those of JSON.stringify(record, jsonSafe), which the rare other shapes still use. */
export function formatLine(tUs: number, pid: number, event: string, fields: Record<string, unknown> | undefined): string {
  let line = `{"t":${msOf(tUs)},"pid":${jsonNumber(pid)},"event":${JSON.stringify(event)}`;
  if (fields === undefined) return `${line}}`;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    // A key the record already has, an index-like key (JS puts those first) or __proto__: the general way.
    if (key === 't' || key === 'pid' || key === 'event' || key === '__proto__' || isIndexKey(key)) return formatGeneral(tUs, pid, event, fields);
    const v = jsonValue(fields[key]);
    if (v !== undefined) line += `,${JSON.stringify(key)}:${v}`;
  }
  return `${line}}`;
}

/** Whether formatLine writes these fields by hand (no key it must write the general way). */
function plainKeys(fields: Record<string, unknown> | undefined): boolean {
  if (fields === undefined) return true;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    if (key === 't' || key === 'pid' || key === 'event' || key === '__proto__' || isIndexKey(key)) return false;
  }
  return true;
}

// The running state of Trace.mixRecord's lanes (one record at a time: nothing awaits inside).
let ha = 0;
let hb = 0;

function mixChar(c: number): void {
  ha = Math.imul(ha ^ c, 0x01000193);
  hb = Math.imul(hb ^ c, 0x5bd1e995) ^ (hb >>> 15);
}

function mixText(s: string, from = 0): void {
  let a = ha;
  let b = hb;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  ha = a;
  hb = b;
}

/** Mixes the decimal digits of a non-negative safe integer, as String(n) writes them. */
function mixUint(n: number): void {
  let p = 1;
  while (p * 10 <= n) p *= 10;
  for (; p >= 1; p /= 10) {
    const d = Math.floor(n / p);
    mixChar(48 + d);
    n -= d * p;
  }
}

/** Mixes jsonNumber(n). */
function mixNumber(n: number): void {
  if (Number.isSafeInteger(n) && n >= 0) mixUint(n);
  else mixText(jsonNumber(n));
}

/** Mixes msOf(tUs). */
function mixMs(tUs: number): void {
  if (!(Number.isSafeInteger(tUs) && tUs >= 0 && tUs < 2 ** 43)) {
    mixText(msOf(tUs));
    return;
  }
  const us = tUs % 1000;
  mixUint((tUs - us) / 1000);
  if (us === 0) return;
  const d3 = us % 10;
  const d2 = ((us - d3) / 10) % 10;
  mixChar(0x2e);
  mixChar(48 + (us - d2 * 10 - d3) / 100);
  if (d2 !== 0 || d3 !== 0) mixChar(48 + d2);
  if (d3 !== 0) mixChar(48 + d3);
}

/** Mixes JSON.stringify(s): plain characters as they are; from the first one JSON escapes (a quote,
 *  a backslash, a control character, any surrogate), the rest as JSON.stringify writes it. */
function mixJsonString(s: string): void {
  mixChar(0x22);
  let a = ha;
  let b = hb;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      ha = a;
      hb = b;
      mixText(JSON.stringify(s.slice(i)), 1);
      return;
    }
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  ha = a;
  hb = b;
  mixChar(0x22);
}

function formatGeneral(tUs: number, pid: number, event: string, fields: Record<string, unknown>): string {
  const rec: Record<string, unknown> = { t: tUs / 1000, pid, event };
  // A field may not overwrite the record's own keys: `t` from a program becomes `_t`.
  for (const [key, v] of Object.entries(fields)) rec[Object.hasOwn(rec, key) ? `_${key}` : key] = v;
  return JSON.stringify(rec, jsonSafe);
}

/** One field's value as JSON.stringify(record, jsonSafe) writes it; undefined: the key is left out. */
function jsonValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return jsonNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object':
      return v === null ? 'null' : JSON.stringify(v, jsonSafe);
    default:
      return JSON.stringify(jsonSafe('', v));
  }
}

/** String(tUs / 1000) from integer arithmetic: below 2^43 µs (278 years) the quotient's shortest
 *  decimal is the exact one, at most three decimals without trailing zeros. */
function msOf(tUs: number): string {
  if (!(Number.isSafeInteger(tUs) && tUs >= 0 && tUs < 2 ** 43)) return jsonNumber(tUs / 1000);
  const us = tUs % 1000;
  const ms = (tUs - us) / 1000;
  if (us === 0) return String(ms);
  const frac = us < 10 ? `00${us}` : us < 100 ? `0${us}` : String(us);
  return `${ms}.${frac.charCodeAt(2) !== 48 ? frac : frac.charCodeAt(1) !== 48 ? frac.slice(0, 2) : frac.slice(0, 1)}`;
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(key) >>> 0) === key && key !== '4294967295';
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
