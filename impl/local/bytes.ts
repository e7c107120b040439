// Byte strings (impl/lib/latin1.ts): JS strings holding one byte per character, the representation
// of everything qmail-local reads from a .qmail file and writes in its reports, so that any byte in a
// path or an address goes through unchanged. Arguments arrive as JS strings (argv is UTF-8) and are
// turned into byte strings once; paths and commands go back to JS strings only at the Sys boundary.

import { latin1, latin1Bytes } from '../lib/latin1.ts';

export { latin1 };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Pure: byte string → bytes. */
export function bytesOf(bin: string): Uint8Array {
  return latin1Bytes(bin);
}

/** Any character outside ASCII: only then do a string and its byte string differ. */
const nonAscii = /[^\x00-\x7f]/;

/** Pure: a JS string (an argument) → its UTF-8 byte string. */
export function binOf(s: string): string {
  // ASCII (nearly every argument and path) is its own byte string: no encoding per delivery.
  return nonAscii.test(s) ? latin1(utf8.encode(s)) : s;
}

/** Pure: a byte string → the JS string Sys and argv take (UTF-8; a path is bytes on Linux). */
export function textOf(bin: string): string {
  return nonAscii.test(bin) ? utf8Decoder.decode(latin1Bytes(bin)) : bin;
}

/** Pure: C's view of a string: up to its first NUL. */
export function cstr(bin: string): string {
  const nul = bin.indexOf('\0');
  return nul < 0 ? bin : bin.slice(0, nul);
}
