// The programs: every bundle of the build (dist/bin, the directory qmail-setup itself runs from)
// is copied to <home>/bin, except qmail-queue, whose bundle goes to <home>/libexec: bin/qmail-queue
// is the setuid helper that starts it (setuid-helper.ts, docs/setuid.md).

import { readFileOrNull } from '../shared/fdio.ts';
import type { FixContext } from '../queue-fix/context.ts';
import type { Want } from '../queue-fix/attributes.ts';
import type { Owners } from '../queue-fix/owners.ts';
import { installFile } from './installed-file.ts';
import { permanent } from './failure.ts';

export const queueBundle = 'qmail-queue';

/** Programs a build may not have yet, and the stand-in installed under their name until it does.
 *  Empty now that the build has qmail-rspawn; qmail-rspawn-defer is still built and installed under
 *  its own name (link bin/qmail-rspawn to it to keep remote mail queued). */
export const standIns: Readonly<Record<string, string>> = {};

/** Program names in the build directory (source maps and hidden files are not programs). */
export async function buildPrograms(ctx: FixContext, buildBin: string): Promise<string[]> {
  const names = (await ctx.sys.fs.readdir(buildBin)).filter((n) => !n.startsWith('.') && !n.endsWith('.map'));
  if (!names.includes(queueBundle)) throw permanent(`${buildBin} is not a build (no ${queueBundle}): run qmail-setup as dist/bin/qmail-setup after npm run build`);
  return names.sort();
}

export async function installPrograms(ctx: FixContext, owners: Owners, buildBin: string, want: Want): Promise<void> {
  const names = await buildPrograms(ctx, buildBin);
  const plan = names.map((name) => [name, name] as const);
  for (const [missing, standIn] of Object.entries(standIns))
    if (!names.includes(missing) && names.includes(standIn)) plan.push([missing, standIn]);
  for (const [name, source] of plan) {
    const bytes = await readFileOrNull(ctx.sys, `${buildBin}/${source}`);
    if (bytes === null) continue; // removed while we looked: a concurrent build
    await installFile(ctx, owners, name === queueBundle ? `libexec/${name}` : `bin/${name}`, bytes, want);
  }
}
