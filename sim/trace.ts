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
  // Two 32-bit polynomial lanes (see Lanes) make a 64-bit fingerprint without BigInt.
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
    // Every record is hashed as its line would be written, unbuilt where formatLine writes it by
    // hand; the line itself is built only when someone keeps or receives it (most syscalls: no one).
    let line: string | null = null;
    if (!this.mixRecord(tUs, pid, event, fields)) {
      line = formatLine(tUs, pid, event, fields);
      this.mix(line);
    }
    this.count++;
    if (!keep && this.sink === undefined) return;
    line ??= formatLine(tUs, pid, event, fields);
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

  /** 16 hex digits over every record so far, in order (each lane finalised, so that similar traces
   *  do not give similar-looking hashes). */
  hash(): string {
    return hex8(fmix(this.h1)) + hex8(fmix(this.h2));
  }

  /** mix(formatLine(...)) without the line, for fields formatLine writes by hand; false (nothing
   *  mixed) when a key needs the general way. Constant pieces (keys, event names, the record's own
   *  keys, digits) are mixed as precomputed maps of their whole text, one step each. */
  private mixRecord(tUs: number, pid: number, event: string, fields: Record<string, unknown> | undefined): boolean {
    ha = this.h1;
    hb = this.h2;
    mixMap(tOpen);
    mixMs(tUs);
    mixMap(pidKey);
    mixNumber(pid);
    mixMap(eventKey);
    mixConst(event);
    if (fields !== undefined) {
      for (const key in fields) {
        if (!Object.hasOwn(fields, key)) continue;
        if (key === 't' || key === 'pid' || key === 'event' || key === '__proto__' || isIndexKey(key)) return false;
        const v = fields[key];
        if (v === undefined) continue;
        mixChar(0x2c);
        mixConst(key);
        mixChar(0x3a);
        if (typeof v === 'string') mixJsonString(v);
        else if (typeof v === 'number') mixNumber(v);
        else mixText(jsonValue(v) as string);
      }
    }
    mixChar(0x7d);
    mixChar(0x0a);
    this.h1 = ha;
    this.h2 = hb;
    return true;
  }

  /** One line and its newline. */
  private mix(line: string): void {
    ha = this.h1;
    hb = this.h2;
    mixText(line);
    mixChar(0x0a);
    this.h1 = ha;
    this.h2 = hb;
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

// ---- the hash ----
//
// Each lane steps h -> h * M + c (mod 2^32) per UTF-16 unit c, with its own odd M. That step is
// affine, so the effect of a whole known text is one affine map h -> h * P + H, computed once and
// applied in one step: keys, event names, digit groups. The hash is the same as stepping through
// every character of the written line, which is what Trace.hashOf does with a trace file.

const m1 = 0x01000193;
const m2 = 0x5bd1e995;

/** The affine maps of one text in both lanes: [P1, H1, P2, H2]. */
type Lanes = Int32Array;

function lanesOf(text: string): Lanes {
  let p1 = 1;
  let q1 = 0;
  let p2 = 1;
  let q2 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    p1 = Math.imul(p1, m1);
    q1 = (Math.imul(q1, m1) + c) | 0;
    p2 = Math.imul(p2, m2);
    q2 = (Math.imul(q2, m2) + c) | 0;
  }
  return Int32Array.of(p1, q1, p2, q2);
}

// The running state of the lanes while one record or line is mixed (nothing awaits inside).
let ha = 0;
let hb = 0;

function mixMap(l: Lanes): void {
  ha = (Math.imul(ha, l[0] as number) + (l[1] as number)) | 0;
  hb = (Math.imul(hb, l[2] as number) + (l[3] as number)) | 0;
}

function mixChar(c: number): void {
  ha = (Math.imul(ha, m1) + c) | 0;
  hb = (Math.imul(hb, m2) + c) | 0;
}

function mixText(s: string, from = 0): void {
  let a = ha;
  let b = hb;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = (Math.imul(a, m1) + c) | 0;
    b = (Math.imul(b, m2) + c) | 0;
  }
  ha = a;
  hb = b;
}

const tOpen = lanesOf('{"t":');
const pidKey = lanesOf(',"pid":');
const eventKey = lanesOf(',"event":');

/** JSON.stringify(s)'s maps for the few strings that recur in every run (keys, event names). */
const consts = new Map<string, Lanes>();
const constsMax = 4096;

function mixConst(s: string): void {
  let l = consts.get(s);
  if (l === undefined) {
    if (consts.size >= constsMax) {
      mixJsonString(s);
      return;
    }
    l = lanesOf(JSON.stringify(s));
    consts.set(s, l);
  }
  mixMap(l);
}

/** Maps of the decimal texts: 0..999 as String(n), and as three digits with leading zeros. */
const plainDigits = Array.from({ length: 1000 }, (_, n) => lanesOf(String(n)));
const paddedDigits = Array.from({ length: 1000 }, (_, n) => lanesOf(String(n).padStart(3, '0')));
/** `.` and 1..999 µs as msOf writes them after the ms (three digits, trailing zeros dropped). */
const fractions = Array.from({ length: 1000 }, (_, us) => lanesOf(`.${String(us).padStart(3, '0').replace(/0+$/, '')}`));

/** Mixes String(n) of a non-negative safe integer, three digits at a time. */
function mixUint(n: number): void {
  if (n < 1000) {
    mixMap(plainDigits[n] as Lanes);
    return;
  }
  const low = n % 1000;
  mixUint((n - low) / 1000);
  mixMap(paddedDigits[low] as Lanes);
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
  if (us !== 0) mixMap(fractions[us] as Lanes);
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
    a = (Math.imul(a, m1) + c) | 0;
    b = (Math.imul(b, m2) + c) | 0;
  }
  ha = a;
  hb = b;
  mixChar(0x22);
}

/** Murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
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
