// Leftovers: files of a message whose companion is missing (spec/queue.md 6.1, 6.2). They are
// reported, never removed here: qmail-send's cleanup (impl/shared/leftovers.ts) removes the ones
// that a crash leaves in the protocol's own states, and the others need a human.
//
//   todo without mess     queued envelope with no message (not reachable; lost directory update)
//   intd without mess     envelope under construction of a message that is gone
//   info without mess     preprocessed message with no message file (qmail-qread: trouble)
//   local/remote without info, bounce without info   not reachable under the protocol (6.2)

import { shown, type FixContext } from './context.ts';
import type { MessageIndex } from './message-files.ts';

const companions: readonly [string, string][] = [
  ['todo', 'mess'],
  ['intd', 'mess'],
  ['info', 'mess'],
  ['local', 'info'],
  ['remote', 'info'],
  ['bounce', 'info'],
];

export async function reportLeftovers(ctx: FixContext, index: MessageIndex): Promise<void> {
  for (const [dir, needs] of companions) {
    const have = index.get(dir);
    const other = index.get(needs);
    // A directory that was not scanned (missing under -n, blocked) proves nothing either way.
    if (have === undefined || other === undefined) continue;
    for (const [id, rel] of [...have].sort((a, b) => a[0] - b[0])) {
      if (!other.has(id)) await ctx.report.line('warning', `${shown(ctx, rel)}: ${dir} without ${needs}`, 'left for qmail-send or a human');
    }
  }
}
