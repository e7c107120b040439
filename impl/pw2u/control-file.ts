// qmail's control_readfile for users/include, users/exclude and users/mailnames (notqmail
// control.c), and the constmap over it (impl/lib/constmap.ts: case-insensitive keys, the later
// entry wins, with flagColon the key is the text before the first ':').
//
// control_readfile keeps each line without its trailing LF/space/tab run, drops empty lines and
// lines starting with '#', and ends each with NUL; constmap then splits at NULs, so a NUL inside a
// line splits it too. Entries are one character per byte (impl/lib/latin1.ts).

import type { Sys } from '../sys/types.ts';
import { ConstMap } from '../lib/constmap.ts';
import { latin1 } from '../lib/latin1.ts';
import { readFileOrNull } from '../shared/fdio.ts';

/** The constmap entries of a control file's bytes. */
export function controlEntries(file: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < file.length) {
    const lf = file.indexOf(0x0a, start);
    const end = lf === -1 ? file.length : lf;
    let stop = end;
    while (stop > start && (file[stop - 1] === 0x20 || file[stop - 1] === 0x09)) stop--;
    if (stop > start && file[start] !== 0x23) out.push(...latin1(file.subarray(start, stop)).split('\0'));
    start = end + 1;
  }
  return out;
}

/** The file as a constmap; null when it does not exist. Other errors are thrown (SysError). */
export async function controlMap(sys: Sys, path: string, flagColon: boolean): Promise<ConstMap | null> {
  const bytes = await readFileOrNull(sys, path);
  return bytes === null ? null : new ConstMap(controlEntries(bytes), flagColon);
}
