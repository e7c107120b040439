// qmail-start's command line, as indimail's getopt("cds") reads it: options first (grouped or not,
// `--` ends them), then defaultdelivery, then the logger's argv. Pure.

import { defaultDeliveryDefault, sendOptions, todoOptions } from '../../spec/start.ts';

export interface StartOptions {
  /** Option letters in order of first appearance, each once (c, d, s). */
  flags: string[];
  defaultDelivery: string;
  /** The logger's argv (argv[0] found through PATH); empty: qmail-send logs to qmail-start's fd 1. */
  logger: string[];
}

export const usage = 'usage: qmail-start [-s|-cd] [defaultdelivery] [logger arg ...]';

/** argv without argv[0]. A letter other than c, d or s is an error (indimail ignores it; a typo
 *  should not start a different MTA than the one asked for). */
export function parseOptions(args: readonly string[]): StartOptions | { error: string } {
  const flags: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (const c of a.slice(1)) {
      if (!(todoOptions as readonly string[]).includes(c)) return { error: `illegal option -- ${c}` };
      if (!flags.includes(c)) flags.push(c);
    }
  }
  const rest = args.slice(i);
  return { flags, defaultDelivery: rest[0] ?? defaultDeliveryDefault, logger: rest.slice(1) };
}

/** The option arguments each daemon gets. */
export function flagsFor(flags: readonly string[], passed: readonly string[]): string[] {
  return flags.filter((f) => passed.includes(f)).map((f) => `-${f}`);
}

export const todoFlags = (flags: readonly string[]): string[] => flagsFor(flags, todoOptions);
export const sendFlags = (flags: readonly string[]): string[] => flagsFor(flags, sendOptions);
