// The flags that pick one queue-crash run, shared by `qsim replay` (and anything else that reruns a
// seed) with the defaults of `qsim run`.

import type { ArgKind } from './args.ts';
import type { CrashProfile } from './fs-api.ts';
import type { QueueCrashOpts } from './scenarios/queue-crash.ts';

export const runFlags: Record<string, ArgKind> = { seed: 'int', messages: 'int', clients: 'int', crashes: 'int', profile: 'string', split: 'int', bigtodo: 'flag', scenario: 'string' };

const profiles: readonly CrashProfile[] = ['posix', 'ext4-ordered', 'sync'];

/** The run's options from parsed flags; a seed is required (a replay replays something). */
export function runOptsFrom(a: Record<string, number | string | boolean>): QueueCrashOpts | { error: string } {
  const profile = (a['profile'] ?? 'posix') as CrashProfile;
  if (!profiles.includes(profile)) return { error: `unknown crash profile ${String(profile)}` };
  if ((a['scenario'] ?? 'queue-crash') !== 'queue-crash') return { error: `scenario ${String(a['scenario'])} cannot be replayed yet` };
  if (a['seed'] === undefined) return { error: '--seed is required' };
  return {
    seed: a['seed'] as number,
    messages: (a['messages'] as number | undefined) ?? 5000,
    clients: (a['clients'] as number | undefined) ?? 32,
    crashes: (a['crashes'] as number | undefined) ?? 20,
    profile,
    split: (a['split'] as number | undefined) ?? 23,
    bigtodo: a['bigtodo'] === true,
  };
}
