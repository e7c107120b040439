// The environment qmail-start gives its daemons: its own, with NODE_OPTIONS cut down to heap sizes.
//
// A daemon's fd 1 is a protocol channel (qmail-send's commands to qmail-lspawn, qmail-lspawn's and
// qmail-clean's answers to qmail-send). Many Node and V8 options print to stdout from the first
// instant of the process, before any of our code runs: --trace-gc a line per collection,
// --perf-basic-prof and --prof V8's code log when the working directory is not writable. One such
// line on qmail-send's fd 1 and qmail-lspawn reads garbage commands, which it answers with permanent
// failures ("messid has nonnumerics"): seen, every local delivery of a queue bounced. So only the
// heap-size options, which print nothing, pass; the rest are dropped with a warning. The programs
// the daemons run for deliveries see the environment without them too; the delivery workers get a
// NODE_OPTIONS of their own anyway (impl/lspawn/config.ts).

/** Options that may pass: they only size V8's heap (dashes or underscores, as V8 accepts both). */
const heapSize = /^--max[-_](?:old|semi)[-_]space[-_]size=\d+$/;

export interface DaemonEnv {
  env: Record<string, string>;
  /** The NODE_OPTIONS entries left out, for qmail-start's warning. */
  dropped: string[];
}

export function daemonEnv(env: Readonly<Record<string, string>>): DaemonEnv {
  const out = { ...env };
  const options = env['NODE_OPTIONS'];
  if (options === undefined) return { env: out, dropped: [] };
  const words = options.split(/\s+/).filter((w) => w !== '');
  const kept = words.filter((w) => heapSize.test(w));
  const dropped = words.filter((w) => !heapSize.test(w));
  if (kept.length > 0) out['NODE_OPTIONS'] = kept.join(' ');
  else delete out['NODE_OPTIONS'];
  return { env: out, dropped };
}
