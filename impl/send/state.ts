// Small state changes shared across qmail-send's files: the status line, exitasap, background
// tasks that exit must wait for.

import type { Send } from './types.ts';
import { todoCommand } from '../../spec/send.ts';

/** `status: local u/l remote u/l[ exitasap]`, after every delivery start and end. */
export function status(s: Send): void {
  const [l, r] = s.chans;
  s.log.line({
    kind: 'status', local: { used: l.used, limit: l.concurrency }, remote: { used: r.used, limit: r.concurrency },
    exitasap: s.exitAsap, held: [false, false], delayedJobs: null, queue: null,
  });
}

/** Stop starting work; todo-proc is told to exit too. */
export function setExitAsap(s: Send): void {
  if (s.exitAsap) return;
  s.exitAsap = true;
  if (s.todo.alive) s.todo.send(todoCommand.exit);
  s.wake.notify();
}

/** Runs work beside the loop; exit waits for it; a bug in it crashes qmail-send. */
export function task(s: Send, work: () => Promise<void>): void {
  const p = work().finally(() => {
    s.tasks.delete(p);
    s.wake.notify();
  });
  s.tasks.add(p);
  s.wake.background(p);
}
