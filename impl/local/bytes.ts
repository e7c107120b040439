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

/** Pure: a JS string (an argument) → its UTF-8 byte string. */
export function binOf(s: string): string {
  return latin1(utf8.encode(s));
}

/** Pure: a byte string → the JS string Sys and argv take (UTF-8; a path is bytes on Linux). */
export function textOf(bin: string): string {
  return utf8Decoder.decode(latin1Bytes(bin));
}

/** Pure: C's view of a string: up to its first NUL. */
export function cstr(bin: string): string {
  const nul = bin.indexOf('\0');
  return nul < 0 ? bin : bin.slice(0, nul);
}
