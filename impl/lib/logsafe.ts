// qmail's logsafe (nq:qsutil.c): what an address or a report becomes in the activity log. A newline
// becomes '/', and '%' or any byte below 33 or above 126 (space included) becomes '_', so that a
// logged field is one word of printable ASCII and a hostile address cannot forge a log line. Pure.

/** Input: bytes, or a string of one character per byte (impl/lib/latin1.ts). Stops at a NUL, as
 *  the C string does. */
export function logsafe(text: string | Uint8Array): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = typeof text === 'string' ? text.charCodeAt(i) : (text[i] as number);
    if (c === 0) break;
    if (c === 0x0a) out += '/';
    else if (c === 0x25 || c < 33 || c > 126) out += '_';
    else out += String.fromCharCode(c);
  }
  return out;
}
