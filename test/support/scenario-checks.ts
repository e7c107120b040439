// Checks that every crash scenario's tests make alike: one seed run twice gives the same trace (and
// the next seed another one), and `qsim run` prints its verdict and the line that replays it; and
// the fsync-less Sys their negative tests run a daemon on.

import { expect } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { runCli } from '../../sim/cli.ts';

export async function expectDeterministic<O extends { seed: number }>(run: (o: O) => Promise<{ traceHash: string; events: number }>, opts: O): Promise<void> {
  const a = await run(opts);
  const b = await run(opts);
  const c = await run({ ...opts, seed: opts.seed + 1 });
  expect(b.traceHash).toBe(a.traceHash);
  expect(b.events).toBe(a.events);
  expect(c.traceHash).not.toBe(a.traceHash);
}

/** `qsim ARGV` (a run with every invariant holding) and its replay line, `replay: COMMAND`. */
export async function expectQsimRunReplays(argv: string[], command: string): Promise<void> {
  let out = '';
  const code = await runCli({ argv, out: (t) => { out += t; }, err: (t) => { out += t; }, wallMs: () => 0, freshSeed: () => 1, commit: 'test' });
  expect(code, out).toBe(0);
  expect(out).toContain('every invariant held');
  expect(out).toContain(`replay: ${command}`);
}

/** The same Sys with fsync and directory fsync doing nothing: the bug the negative tests inject. */
export function withoutSyncs(sys: Sys): Sys {
  const fs = new Proxy(sys.fs, {
    get(target, prop, receiver) {
      if (prop === 'syncDir' || prop === 'fsync') return async () => undefined;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ...sys, fs };
}
