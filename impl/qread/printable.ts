// qmail-qread's out(): every byte outside 32..126 is shown as '_', so that a queue file cannot put
// control characters on an operator's terminal.

const underscore = 0x5f;

/** Pure: a copy of bytes with each non-printable byte replaced by '_'. */
export function printable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    out[i] = c >= 32 && c <= 126 ? c : underscore;
  }
  return out;
}

/** Pure: the bytes up to (not including) the first NUL, as C's string functions see them. */
export function cString(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}
