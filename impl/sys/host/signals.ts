// Node's signal names -> ours. Node reports a child's death signal by name ('SIGSEGV').

import type { DeathSignal, Signal } from '../types.ts';

const known: ReadonlySet<string> = new Set<Signal | DeathSignal>([
  'SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGALRM', 'SIGINT', 'SIGCHLD', 'SIGPIPE', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP',
  'SIGCONT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGXCPU', 'SIGXFSZ',
  'SIGSYS', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSTKFLT',
]);

/** Linux's alias names, folded. Real-time signals have no name in Node and nothing in qmail sends
 *  them; they are reported as SIGKILL (killed, cause outside our world). */
export function signalOf(name: string): Signal | DeathSignal {
  if (name === 'SIGIOT') return 'SIGABRT';
  if (name === 'SIGPOLL') return 'SIGIO';
  return known.has(name) ? (name as Signal | DeathSignal) : 'SIGKILL';
}
