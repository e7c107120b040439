// users/assign -> users/cdb records (qmail-newu), the lookup qmail-lspawn makes in users/cdb, and
// the six-field user record both produce (qmail-users(5); ../shared/spec/local.md 1.3).
//
// Lines, each ending in LF, up to the first line whose first byte is '.':
//   =local:user:uid:gid:homedir:dash:ext:     exactly `local` (any case)
//   +loc:user:uid:gid:homedir:dash:pre:       every address starting with `loc`; ext = pre + rest
// qmail-newu's exact rules: any first byte other than '+' means '='; the key is the text between
// the first byte and the first ':' (no ':' at all, or ':' first, is bad format); then 6 more ':'
// must follow, each turned into a NUL, and the text after the 6th is ignored; a NUL anywhere, or a
// last line without LF (unless it starts with '.'), is bad format.
// Records: key '!' + lower(local) + NUL for '=', '!' + lower(loc) for '+', both lowercased in
// ASCII only (case_lowerb); value = the six fields NUL-separated with no NUL after the last. Then
// one record with the empty key: the distinct last bytes of the non-empty '+' keys (the
// "wildchars"), taken from the line BEFORE lowercasing, as qmail does.

import type { UserRecord } from '../local/types.ts';
import type { CdbReader } from './cdb.ts';

const colon = 0x3a;
const nul = 0;
const plus = 0x2b;
const dot = 0x2e;
const bang = 0x21;
const fieldsPerRecord = 6;

/** case_lowerb: A-Z to a-z, every other byte unchanged. */
export function lowerAscii(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  for (let i = 0; i < out.length; i++) {
    const c = out[i] as number;
    if (c >= 0x41 && c <= 0x5a) out[i] = c + 0x20;
  }
  return out;
}

export type AssignLine =
  | { kind: 'end' }
  | { kind: 'format' }
  | { kind: 'record'; key: Uint8Array; value: Uint8Array; wildchar: number | null };

/** One line as getln gives it: the bytes including the LF when `matched`, else the partial last
 *  line (possibly empty) at end of file. */
export function assignLine(line: Uint8Array, matched: boolean): AssignLine {
  if (line.length > 0 && line[0] === dot) return { kind: 'end' };
  if (!matched || line.includes(nul)) return { kind: 'format' };
  const i = line.indexOf(colon);
  if (i <= 0) return { kind: 'format' };
  const wild = line[0] === plus;
  const key = new Uint8Array(i + (wild ? 0 : 1));
  key[0] = bang;
  key.set(line.subarray(1, i), 1);
  const data = Uint8Array.from(line.subarray(i + 1));
  let colons = 0;
  let end = 0;
  for (; end < data.length; end++) {
    if (data[end] !== colon) continue;
    data[end] = nul;
    if (++colons === fieldsPerRecord) break;
  }
  if (colons < fieldsPerRecord) return { kind: 'format' };
  return { kind: 'record', key: lowerAscii(key), value: data.subarray(0, end), wildchar: wild && i >= 2 ? (line[i - 1] as number) : null };
}

/** Collects qmail-newu's records line by line; records() adds the wildchars record last. */
export class AssignCompiler {
  private readonly wild: number[] = [];
  private done = false;

  constructor(private readonly onRecord: (key: Uint8Array, value: Uint8Array) => void) {}

  /** 'more': keep reading; 'end': the '.' line was seen; 'format': bad format (stop). */
  line(line: Uint8Array, matched: boolean): 'more' | 'end' | 'format' {
    if (this.done) throw new Error('AssignCompiler: line after the end');
    const r = assignLine(line, matched);
    if (r.kind === 'end') {
      this.done = true;
      this.onRecord(new Uint8Array(0), Uint8Array.from(this.wild));
      return 'end';
    }
    if (r.kind === 'format') return 'format';
    if (r.wildchar !== null && !this.wild.includes(r.wildchar)) this.wild.push(r.wildchar);
    this.onRecord(r.key, r.value);
    return 'more';
  }
}

/** The records qmail-newu writes for a whole users/assign, in order, or the 1-based number of the
 *  line that is bad format (the line after the last one when the '.' line is missing). */
export function parseAssign(bytes: Uint8Array): { records: [Uint8Array, Uint8Array][] } | { format: number } {
  const records: [Uint8Array, Uint8Array][] = [];
  const compiler = new AssignCompiler((k, v) => records.push([k, v]));
  let start = 0;
  for (let n = 1; ; n++) {
    const lf = bytes.indexOf(0x0a, start);
    const matched = lf !== -1;
    const end = matched ? lf + 1 : bytes.length;
    const r = compiler.line(bytes.subarray(start, end), matched);
    if (r === 'end') return { records };
    if (r === 'format') return { format: n };
    start = end;
  }
}

/** What a users/cdb lookup found: the stored value, with the original-case rest of the address
 *  appended for a wildcard match (the bytes qmail-lspawn calls nughde, before its final NUL). */
export type AssignMatch = { value: Uint8Array } | { none: true } | { noWildchars: true };

/** qmail-lspawn's nughde_get over users/cdb, for local (no NUL, as an address part cannot hold one).
 *  Probes '!' + lower(local) + NUL, then each shorter prefix of '!' + lower(local) that ends in a
 *  wildchar, and the bare '!'. Throws CdbError on a bad file. */
export function assignLookup(cdb: CdbReader, local: Uint8Array): AssignMatch {
  if (local.includes(nul)) throw new Error('assignLookup: local part contains NUL');
  const wildchars = cdb.find(new Uint8Array(0));
  if (wildchars === null) return { noWildchars: true };
  const lower = new Uint8Array(local.length + 2);
  lower[0] = bang;
  lower.set(lowerAscii(local), 1);
  const exact = cdb.find(lower);
  if (exact !== null) return { value: exact };
  for (let i = lower.length - 1; i >= 1; i--) {
    if (i !== 1 && !wildchars.includes(lower[i - 1] as number)) continue;
    const v = cdb.find(lower.subarray(0, i));
    if (v === null) continue;
    const rest = local.subarray(i - 1);
    const value = new Uint8Array(v.length + rest.length);
    value.set(v);
    value.set(rest, v.length);
    return { value };
  }
  return { none: true };
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** The user record in qmail-lspawn's nughde (a lookup's value, or qmail-getpw's output): six
 *  fields, each ended by NUL (one NUL is added after `bytes`, as stralloc_0 does); more than six
 *  are ignored; fewer is null (lspawn: QLX_USAGE). Fields decode as UTF-8. */
export function userRecordOf(bytes: Uint8Array, terminated: boolean): UserRecord | null {
  const full = terminated ? bytes : withNul(bytes);
  const fields: string[] = [];
  let start = 0;
  while (fields.length < fieldsPerRecord) {
    const end = full.indexOf(nul, start);
    if (end === -1) return null;
    fields.push(utf8.decode(full.subarray(start, end)));
    start = end + 1;
  }
  const [user, uid, gid, homedir, dash, ext] = fields as [string, string, string, string, string, string];
  return { user, uid, gid, homedir, dash, ext };
}

function withNul(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** qmail-getpw's output: the six fields, each followed by NUL. */
export function userRecordBytes(r: UserRecord): Uint8Array {
  return encoder.encode([r.user, r.uid, r.gid, r.homedir, r.dash, r.ext].map((f) => `${f}\0`).join(''));
}
