// `qsim run --check-determinism`: the seed once more; the two trace hashes must be equal (FoundationDB's
// unseed check, madsim's MADSIM_TEST_CHECK_DETERMINISM). A difference is a bug in the simulator or
// ambient nondeterminism in the code under test; `qsim replay --trace` of each run shows where.

import type { CliHost } from './cli.ts';
import { runQueueCrash, type QueueCrashOpts } from './scenarios/queue-crash.ts';

/** Runs opts again and compares with the first run's hash; true when they match. */
export async function sameTraceTwice(host: CliHost, opts: QueueCrashOpts, first: { traceHash: string; events: number }): Promise<boolean> {
  const second = await runQueueCrash(opts);
  if (second.traceHash === first.traceHash && second.events === first.events) {
    host.out(`determinism: the second run gave the same trace (hash ${first.traceHash}, ${first.events} events)\n`);
    return true;
  }
  host.out(`NONDETERMINISM: seed ${opts.seed} gave two traces\n  first run   hash ${first.traceHash}, ${first.events} events\n  second run  hash ${second.traceHash}, ${second.events} events\n`);
  return false;
}
