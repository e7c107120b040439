// qmail-inject's header parsing (spec local.md 3.2): the header is the lines up to the first empty
// line; continuation lines start with space or tab; a `From ` line becomes `MBOX-Line: From ...`; the
// first line that is neither a field nor a continuation starts the body (an empty line goes before
// it on output). Pure; the header is one character per byte, the body stays bytes.

import { latin1 } from '../lib/latin1.ts';

export interface HeaderField {
  /** The whole field as written (continuations included), ending in \n. */
  text: string;
  /** The field name lowercased, trailing spaces and tabs removed. */
  name: string;
  /** Everything after the colon. */
  value: string;
  /** The field text up to and including the colon. */
  head: string;
}

export interface SplitMessage {
  fields: HeaderField[];
  body: Uint8Array;
}

const fieldName = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

export function splitMessage(msg: Uint8Array): SplitMessage {
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < msg.length) {
    const nl = msg.indexOf(0x0a, pos);
    const end = nl < 0 ? msg.length : nl + 1;
    let line = latin1(msg.subarray(pos, end));
    if (line === '\n') return { fields, body: msg.subarray(end) };
    const last = fields[fields.length - 1];
    if ((line[0] === ' ' || line[0] === '\t') && last !== undefined) {
      last.text += withNl(line);
      last.value += withNl(line);
      pos = end;
      continue;
    }
    if (line.startsWith('From ')) line = `MBOX-Line: ${line}`;
    const m = fieldName.exec(line);
    if (m === null) return { fields, body: msg.subarray(pos) };
    const head = line.slice(0, m[0].length);
    fields.push({ text: withNl(line), name: (m[1] as string).toLowerCase(), value: withNl(line.slice(head.length)), head });
    pos = end;
  }
  return { fields, body: msg.subarray(msg.length) };
}

function withNl(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}
