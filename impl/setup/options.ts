// qmail-setup's command line:
//   qmail-setup --home DIR [--create-users] [--split N] [--bigtodo] [--node PATH]

import { parseSplit } from '../../spec/queue.ts';

export interface SetupOptions {
  home: string;
  createUsers: boolean;
  /** null: keep control/conf-split (151 when there is none). */
  split: number | null;
  /** true: BIGTODO on; false: keep control/conf-bigtodo (0 when there is none). */
  bigtodo: boolean;
  /** Absolute path of node for the setuid helper; null: the first node on PATH. */
  node: string | null;
}

export const usage = 'qmail-setup: usage: qmail-setup --home DIR [--create-users] [--split N] [--bigtodo] [--node PATH]\n';

/** Paths compiled into the setuid helper as C string literals, and given to useradd: plain
 *  characters only, so that no quoting is ever needed. */
export const safePath = /^\/[A-Za-z0-9._+/-]*$/;

/** Pure: argv without argv[0]; null on any mistake. */
export function parseSetupOptions(args: readonly string[]): SetupOptions | null {
  let home: string | null = null;
  const opts = { createUsers: false, split: null as number | null, bigtodo: false, node: null as string | null };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = splitFlag(args[i] as string);
    const value = (): string | null => inline ?? (args[++i] as string | undefined) ?? null;
    if (flag === '--create-users' && inline === null) opts.createUsers = true;
    else if (flag === '--bigtodo' && inline === null) opts.bigtodo = true;
    else if (flag === '--home') home = value();
    else if (flag === '--node') opts.node = value();
    else if (flag === '--split') {
      const v = value();
      opts.split = v === null ? null : parseSplit(v);
      if (opts.split === null) return null;
    } else return null;
  }
  if (home === null || !safePath.test(home) || home === '/') return null;
  if (opts.node !== null && !safePath.test(opts.node)) return null;
  return { home: home.replace(/\/+$/, ''), ...opts };
}

function splitFlag(arg: string): [string, string | null] {
  const eq = arg.indexOf('=');
  return eq < 0 ? [arg, null] : [arg.slice(0, eq), arg.slice(eq + 1)];
}
