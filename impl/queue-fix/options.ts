// queue-fix's command line: queue-fix [-n] [-v] [-u] [queuedir]

export interface QueueFixOptions {
  dryRun: boolean;
  verbose: boolean;
  /** -u: every owner is the invoking user (queues for simulation and tests). */
  selfOwned: boolean;
  queueDir: string | null;
}

export const usage = 'queue-fix: usage: queue-fix [-n] [-v] [-u] [queuedir]\n';

/** Pure: argv without argv[0]. Flags may be bundled (-nv); "--" ends the flags. */
export function parseOptions(args: readonly string[]): QueueFixOptions | null {
  const opts: QueueFixOptions = { dryRun: false, verbose: false, selfOwned: false, queueDir: null };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (const c of a.slice(1)) {
      if (c === 'n') opts.dryRun = true;
      else if (c === 'v') opts.verbose = true;
      else if (c === 'u') opts.selfOwned = true;
      else return null;
    }
  }
  const rest = args.slice(i);
  if (rest.length > 1) return null;
  if (rest.length === 1) opts.queueDir = rest[0] === '' ? null : (rest[0] as string);
  return opts;
}
