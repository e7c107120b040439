// A .qmail file's instructions (../shared/spec/local.md 2.4; qmail-local.c main): split at LF (a
// missing final LF added), trailing spaces and tabs stripped, then by first byte: blank (fatal on
// the first line, else ignored), `#` comment, `.` or `/` a file (maildir when it ends in `/`, else
// mbox), `|` a program, `+list` forward-only (other `+` lines ignored), `&` or anything else a
// forward. Pure; byte strings in and out. A NUL inside a line ends the path, command or address
// there (C strings), while -n prints the whole line, as qmail does.

import { cstr } from './bytes.ts';

export type Instruction =
  | { kind: 'blankFirst' }
  | { kind: 'mbox'; path: string; said: string }
  | { kind: 'maildir'; path: string; said: string }
  | { kind: 'program'; command: string; said: string }
  | { kind: 'forward'; address: string; said: string }
  | { kind: 'forwardOnly' };

export interface Commands {
  /** The text to run, ending in LF. */
  text: string;
  /** False when defaultdelivery replaced an empty file: the file's x bit no longer counts. */
  fileCounts: boolean;
}

/** Pure: an empty or missing file means defaultdelivery (aliasempty); a final LF is added. */
export function commandsOf(file: string | null, defaultDelivery: string): Commands {
  const empty = file === null || file === '';
  const text = empty ? defaultDelivery : file;
  return { text: text.endsWith('\n') ? text : `${text}\n`, fileCounts: !empty };
}

/** Pure: one line (without its LF) → its instruction, or null for a line that does nothing. */
export function instructionOf(line: string, first: boolean): Instruction | null {
  const s = line.replace(/[ \t]+$/, '');
  const c = s.length === 0 ? '\0' : s[0];
  switch (c) {
    case '\0':
      return first ? { kind: 'blankFirst' } : null;
    case '#':
      return null;
    case '.':
    case '/':
      return { kind: s.endsWith('/') ? 'maildir' : 'mbox', path: cstr(s), said: s };
    case '|':
      return { kind: 'program', command: cstr(s.slice(1)), said: s.slice(1) };
    case '+':
      return cstr(s.slice(1)) === 'list' ? { kind: 'forwardOnly' } : null;
    case '&':
      return { kind: 'forward', address: cstr(s.slice(1)), said: s.slice(1) };
    default:
      return { kind: 'forward', address: cstr(s), said: s };
  }
}

/** Pure: the instructions of a text ending in LF, in file order. */
export function parseDotQmail(text: string): Instruction[] {
  const out: Instruction[] = [];
  let start = 0;
  for (let lf = text.indexOf('\n'); lf >= 0; lf = text.indexOf('\n', start)) {
    const ins = instructionOf(text.slice(start, lf), start === 0);
    if (ins !== null) out.push(ins);
    start = lf + 1;
  }
  return out;
}
