// qmail-local's command line (../shared/spec/local.md 2.1): options n and N as sgetopt parses them
// (bundled, `--` ends them, anything else is an illegal option), then exactly eight arguments.

import { illegalOption, usageText } from '../../spec/local.ts';
import type { LocalArgs } from './types.ts';

export type ParsedArgs = { args: LocalArgs } | { usage: string[] };

/** Pure: argv[0] is the program's name. The usage answer lists the lines to print on stderr. */
export function parseArgv(argv: readonly string[]): ParsedArgs {
  let dryRun = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      i++; // sgetopt: `--anything` ends the options and is consumed
      break;
    }
    for (const c of a.slice(1)) {
      if (c === 'n') dryRun = true;
      else if (c === 'N') dryRun = false;
      else return { usage: [illegalOption(progName(argv[0]), c), usageText] };
    }
  }
  const rest = argv.slice(i);
  if (rest.length !== 8) return { usage: [usageText] };
  const [user, homedir, local, dash, ext, domain, sender, defaultDelivery] = rest as [string, string, string, string, string, string, string, string];
  return { args: { user, homedir, local, dash, ext, domain, sender, defaultDelivery, dryRun } };
}

function progName(argv0: string | undefined): string {
  const p = argv0 ?? '';
  return p.slice(p.lastIndexOf('/') + 1);
}
