// Bytes as strings of one character per byte (latin1), the way qmail's C code sees addresses and
// reports: every byte survives a round trip, and string operations (lastIndexOf, slice) are
// byte operations. Pure.

const ascii = new TextDecoder('utf-8');

/** The string of these bytes, one character per byte. */
export function latin1(bytes: Uint8Array): string {
  // Pure ASCII (nearly always) decodes the same as UTF-8, where the decoder is many times faster
  // than building the string from char codes (a simulator's checker reads megabytes of logs).
  if (bytes.length > 64 && isAscii(bytes)) return ascii.decode(bytes);
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7f) return false;
  return true;
}

/** The bytes of a one-character-per-byte string; a character above 255 is a bug of the caller. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`latin1Bytes: character ${c} at ${i} is not a byte`);
    out[i] = c;
  }
  return out;
}

/** byte_rchr: the index of the last `c` in s[0, n), or n when there is none. */
export function rchr(s: string, n: number, c: string): number {
  for (let i = n - 1; i >= 0; i--) if (s[i] === c) return i;
  return n;
}
