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

/** Program names in the build directory (source maps and hidden files are not programs). */
export async function buildPrograms(ctx: FixContext, buildBin: string): Promise<string[]> {
  const names = (await ctx.sys.fs.readdir(buildBin)).filter((n) => !n.startsWith('.') && !n.endsWith('.map'));
  if (!names.includes(queueBundle)) throw permanent(`${buildBin} is not a build (no ${queueBundle}): run qmail-setup as dist/bin/qmail-setup after npm run build`);
  return names.sort();
}

export async function installPrograms(ctx: FixContext, owners: Owners, buildBin: string, want: Want): Promise<void> {
  for (const name of await buildPrograms(ctx, buildBin)) {
    const bytes = await readFileOrNull(ctx.sys, `${buildBin}/${name}`);
    if (bytes === null) continue; // removed while we looked: a concurrent build
    await installFile(ctx, owners, name === queueBundle ? `libexec/${name}` : `bin/${name}`, bytes, want);
  }
}
