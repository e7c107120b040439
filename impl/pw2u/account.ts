// qmail-pw2u's pure parts: a passwd line's fields, and the users/assign lines an accepted account
// or a subusers line becomes (notqmail qmail-pw2u.c doaccount, dosubuser). Everything is bytes:
// names and homes pass through unchanged.

export interface Account {
  user: Uint8Array;
  /** The uid field as written, and its value as scan_ulong reads it (leading digits, mod 2^64). */
  uidText: Uint8Array;
  uid: bigint;
  gidText: Uint8Array;
  home: Uint8Array;
}

const colon = 0x3a;

/** user:password:uid:gid:gecos:home:shell. null when the line holds a NUL or has fewer than six
 *  ':' (the shell field may be empty, but its ':' must be there). */
export function parseAccount(line: Uint8Array): Account | null {
  if (line.includes(0)) return null;
  const fields: Uint8Array[] = [];
  let start = 0;
  while (fields.length < 6) {
    const c = line.indexOf(colon, start);
    if (c === -1) return null;
    fields.push(line.subarray(start, c));
    start = c + 1;
  }
  const [user, , uidText, gidText, , home] = fields as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return { user, uidText, uid: scanUlong(uidText), gidText, home };
}

/** scan_ulong: the value of the leading decimal digits (0 when there are none), as C's unsigned
 *  long wraps. */
export function scanUlong(b: Uint8Array): bigint {
  let v = 0n;
  for (const c of b) {
    if (c < 0x30 || c > 0x39) break;
    v = (v * 10n + BigInt(c - 0x30)) & 0xffff_ffff_ffff_ffffn;
  }
  return v;
}

export function hasUpper(b: Uint8Array): boolean {
  return b.some((c) => c >= 0x41 && c <= 0x5a);
}

/** ":user:uid:gid:home:" (qmail's uugh): the fields every line of this account shares. */
export function uugh(a: Account): Uint8Array {
  return join([[colon], a.user, [colon], a.uidText, [colon], a.gidText, [colon], a.home, [colon]]);
}

/** The lines for an accepted account: the catch-all "+:" line when it is the alias user, then for
 *  each mail name "=name" + uugh + "::" and, with a break char, "+name<break>" + uugh + dash + ":". */
export function accountLines(a: Account, u: Uint8Array, names: Uint8Array[], isAlias: boolean, dashColon: Uint8Array, breakByte: number | null): Uint8Array {
  const parts: ArrayLike<number>[] = [];
  if (isAlias) parts.push(ascii('+'), u, dashColon, ascii(':\n'));
  for (const name of names) {
    parts.push(ascii('='), name, u, ascii('::\n'));
    if (breakByte !== null) parts.push(ascii('+'), name, [breakByte], u, dashColon, ascii(':\n'));
  }
  return join(parts);
}

/** The mail names of a users/mailnames value (or the user name): ':'-separated, empty ones skipped. */
export function mailNames(value: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(colon, start);
    if (end === -1) end = value.length;
    if (end > start) out.push(value.subarray(start, end));
    start = end + 1;
  }
  return out;
}

export interface Subuser {
  sub: Uint8Array;
  user: Uint8Array;
  pre: Uint8Array;
}

/** sub:user:pre: — the pieces qmail reads, in its order: null when sub or user lacks its ':';
 *  pre null when only pre lacks its ':' (qmail looks the user up before that check). */
export function parseSubuser(line: Uint8Array): { sub: Uint8Array; user: Uint8Array; pre: Uint8Array | null } | null {
  const a = line.indexOf(colon);
  if (a === -1) return null;
  const b = line.indexOf(colon, a + 1);
  if (b === -1) return null;
  const c = line.indexOf(colon, b + 1);
  return { sub: line.subarray(0, a), user: line.subarray(a + 1, b), pre: c === -1 ? null : line.subarray(b + 1, c) };
}

/** "=sub" + uugh + dash + "pre:" and, with a break char, "+sub<break>" + uugh + dash + "pre-:". */
export function subuserLines(s: Subuser, u: Uint8Array, dashColon: Uint8Array, breakByte: number | null): Uint8Array {
  const parts: ArrayLike<number>[] = [ascii('='), s.sub, u, dashColon, s.pre, ascii(':\n')];
  if (breakByte !== null) parts.push(ascii('+'), s.sub, [breakByte], u, dashColon, s.pre, ascii('-:\n'));
  return join(parts);
}

const encoder = new TextEncoder();

export function ascii(s: string): Uint8Array {
  return encoder.encode(s);
}

export function join(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
