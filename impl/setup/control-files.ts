// control/: the installation's queue settings (read back by impl/shared/queue-config.ts) and `me`.
// An option given on the command line is written; an option left out keeps what is there, and
// only a missing file gets the default. So a second run with the same options changes nothing.

import type { Sys } from '../sys/types.ts';
import { autoSplit, parseBigtodo, parseSplit } from '../../spec/queue.ts';
import { readControlLine } from '../shared/fdio.ts';
import type { FixContext } from '../queue-fix/context.ts';
import type { Want } from '../queue-fix/attributes.ts';
import type { Owners } from '../queue-fix/owners.ts';
import { installFile } from './installed-file.ts';
import { temporary } from './failure.ts';

export interface QueueSettings {
  split: number;
  bigtodo: boolean;
}

const ascii = new TextEncoder();

export async function writeControls(
  ctx: FixContext,
  owners: Owners,
  want: Want,
  asked: { split: number | null; bigtodo: boolean },
): Promise<QueueSettings> {
  const oldSplit = await readControlLine(ctx.sys, `${ctx.root}/control/conf-split`);
  const oldBig = await readControlLine(ctx.sys, `${ctx.root}/control/conf-bigtodo`);
  const split = asked.split ?? (oldSplit === null ? autoSplit : parseSplit(oldSplit.trim()));
  if (split === null) throw temporary(`control/conf-split is not a split: ${oldSplit}`);
  const bigtodo = asked.bigtodo || (oldBig !== null && parseBigtodo(oldBig));
  const line = (s: string): Uint8Array => ascii.encode(`${s}\n`);
  if (asked.split !== null || oldSplit === null) await installFile(ctx, owners, 'control/conf-split', line(String(split)), want);
  if (asked.bigtodo || oldBig === null) await installFile(ctx, owners, 'control/conf-bigtodo', line(bigtodo ? '1' : '0'), want);
  await writeMe(ctx, owners, want);
  return { split, bigtodo };
}

/** control/me: this host's name, as qmail's config script writes it, only when absent. */
async function writeMe(ctx: FixContext, owners: Owners, want: Want): Promise<void> {
  if ((await readControlLine(ctx.sys, `${ctx.root}/control/me`)) !== null) return;
  const name = await hostName(ctx.sys);
  await installFile(ctx, owners, 'control/me', ascii.encode(`${name}\n`), want);
}

async function hostName(sys: Sys): Promise<string> {
  const name = (await readControlLine(sys, '/proc/sys/kernel/hostname'))?.trim() ?? '';
  if (name === '') throw temporary('cannot tell this host name for control/me (/proc/sys/kernel/hostname)');
  return name;
}
