// qsim replay <the flags of run> [--trace FILE]: reruns one seed and writes its full trace, one
// pino-shaped JSON line per event, syscalls included, to FILE (default stdout); then the summary and
// the trace hash, which is the hash `qsim run` printed for the same flags (the lines written are the
// lines hashed). With the trace on stdout the summary goes to stderr, so stdout stays JSON lines.

import type { CliHost } from './cli.ts';
import type { OutFile } from './host-io.ts';
import { parseArgs } from './args.ts';
import { runFlags, runOptsFrom } from './run-flags.ts';
import { runQueueCrash } from './scenarios/queue-crash.ts';
import { replayCommandFor } from './swarm.ts';

export const replayUsage = 'usage: qsim replay --seed N [--messages N] [--clients N] [--crashes N] [--profile P] [--split N] [--bigtodo] [--trace FILE]\n';

export async function replayCli(host: CliHost, argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, { ...runFlags, trace: 'string' });
  const opts = 'error' in parsed ? parsed : runOptsFrom(parsed.values);
  if ('error' in opts) {
    host.err(`qsim replay: ${opts.error}\n${replayUsage}`);
    return 2;
  }
  const path = 'error' in parsed ? undefined : (parsed.values['trace'] as string | undefined);
  if (path !== undefined && host.io === undefined) {
    host.err('qsim replay: this host cannot write files\n');
    return 2;
  }
  const out: OutFile = path === undefined || host.io === undefined ? { write: (t) => host.out(t), close: () => undefined } : host.io.openOut(path);
  const say = (t: string): void => (path === undefined ? host.err(t) : host.out(t));
  let lines = 0;
  const r = await runQueueCrash({ ...opts, keepTraceLines: 0, traceSink: (line) => {
    lines++;
    out.write(`${line}\n`);
  } });
  out.close();
  const c = r.counts;
  say(`qsim replay: seed ${r.seed}, commit ${host.commit}\n`);
  say(`  trace lines  ${lines}${path === undefined ? '' : ` in ${path}`}\n`);
  say(`  messages     ${c.attempted} (accepted ${c.accepted}, refused ${c.refused}, cut ${c.cut})\n`);
  say(`  events       ${r.events}\n  violations   ${r.violations.length}\n`);
  for (const v of r.violations.slice(0, 20)) say(`    ${v}\n`);
  say(`  trace hash   ${r.traceHash}\n`);
  say(`replay: ${replayCommandFor({ ...opts, split: opts.split ?? 23, bigtodo: opts.bigtodo ?? false })}\n`);
  return r.violations.length === 0 ? 0 : 1;
}
