// qmail-clean's commands (../shared/spec/queue.md 4.4): `foop/<ID>` removes a message (intd, then
// mess), `todo/<ID>` a preprocessed envelope (intd, then todo); with BIGTODO the todo form may name
// the split, `todo/<S>/<ID>`, and the id is read after the last '/' as indimail does. Pure.

import { cleanCommandBytesMax, cleanCommandBytesMin, cleanPrefix } from '../../spec/send.ts';

export type CleanCommand = { kind: 'message' | 'todo'; id: number } | { kind: 'bad' };

/** `line` is the command without its NUL; its length with the NUL must lie within the bounds. */
export function parseCleanCommand(line: string): CleanCommand {
  const len = line.length + 1;
  if (len < cleanCommandBytesMin || len > cleanCommandBytesMax) return { kind: 'bad' };
  const kind = line.startsWith(cleanPrefix.message) ? 'message' : line.startsWith(cleanPrefix.todo) ? 'todo' : null;
  if (kind === null) return { kind: 'bad' };
  const rest = line.slice(5);
  if (!/^([0-9]+\/)?[0-9]+$/.test(rest)) return { kind: 'bad' };
  const id = Number(rest.slice(rest.lastIndexOf('/') + 1));
  return Number.isSafeInteger(id) ? { kind, id } : { kind: 'bad' };
}
