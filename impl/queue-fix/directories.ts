// Directories: create what is missing (durably: fsync of the parent after mkdir), repair owner and
// mode of what exists. The queue's own tree comes from spec/queue.ts queueDirs and the layout.

import { isSplit, queueDirs, type QueueLayout } from '../../spec/queue.ts';
import { abs, kindName, parentOf, shown, statOrNull, type FixContext } from './context.ts';
import { fixAttributes, setAttributes, type Want } from './attributes.ts';
import type { Owners } from './owners.ts';
import { octal } from './report.ts';

/** Makes `rel` a directory with the wanted owner and mode. Returns false when it is not (and will
 *  not be, even under -n) a directory: something else is in the way. */
export async function ensureDir(ctx: FixContext, owners: Owners, rel: string, want: Want): Promise<boolean> {
  const st = await statOrNull(ctx.sys, abs(ctx, rel));
  if (st === null) {
    await createDir(ctx, owners, rel, want);
    return true;
  }
  if (st.kind !== 'dir') {
    await ctx.report.line('cannot fix', `mkdir ${shown(ctx, rel)}`, `a ${kindName(st)} is in the way`);
    return false;
  }
  if (await fixAttributes(ctx, owners, rel, st, want)) await ctx.report.line('ok', shown(ctx, rel));
  return true;
}

async function createDir(ctx: FixContext, owners: Owners, rel: string, want: Want): Promise<void> {
  const detail = `${octal(want.mode)} ${want.owner.label}`;
  await ctx.report.repair(ctx.dryRun, `mkdir ${shown(ctx, rel)}`, detail);
  if (ctx.dryRun) return;
  const path = abs(ctx, rel);
  await ctx.sys.fs.mkdir(path, want.mode);
  // The new name must survive a crash before anything is put inside it.
  await ctx.sys.fs.syncDir(parentOf(path));
  await setAttributes(ctx, owners, rel, want);
  // The owner and mode are metadata of the directory itself: fsync it too.
  await ctx.sys.fs.syncDir(path);
}

/** Every directory of the queue, parents first, split subdirectories 0..split-1 where the layout
 *  splits. Returns the directories that could not be made. */
export async function fixQueueDirs(ctx: FixContext, owners: Owners, layout: QueueLayout): Promise<string[]> {
  const blocked: string[] = [];
  for (const spec of queueDirs) {
    const want: Want = { owner: owners.of(spec.owner), mode: spec.mode };
    // The queue itself and each split directory, when made now, spread their subdirectories over
    // block groups: pid/, intd/, todo/, ... each in a group of its own, and mess/0 ... likewise.
    const spreads = isSplit(spec, layout) || spec.name === '';
    const fresh = spreads && ctx.spread !== undefined && !ctx.dryRun && (await statOrNull(ctx.sys, abs(ctx, spec.name))) === null;
    if (!(await ensureDir(ctx, owners, spec.name, want))) {
      blocked.push(spec.name);
      // Nothing can be checked below a queue directory that is not a directory.
      if (spec.name === '') return blocked;
      continue;
    }
    if (fresh) await ctx.spread?.(abs(ctx, spec.name));
    if (!isSplit(spec, layout)) continue;
    for (let i = 0; i < layout.split; i++) {
      if (!(await ensureDir(ctx, owners, `${spec.name}/${i}`, want))) blocked.push(`${spec.name}/${i}`);
    }
  }
  return blocked;
}
