// The files of the messages: owner and mode (spec/queue.ts messageFileModes; the group is left as
// the writer made it), and place: a message file belongs at messagePath(dir, id, layout). Files in
// the wrong split subdirectory, in a subdirectory the layout does not use (split lowered), or flat
// where the layout splits (BIGTODO turned on) and the reverse are moved (qmail-upq); a subdirectory
// the layout does not use is removed once empty. Nothing is ever deleted: removing message data is
// qmail-send's and qmail-clean's job.

import type { Stat } from '../sys/types.ts';
import { isSplit, messageFileModes, messagePath, queueDirs, type QueueDirSpec, type QueueLayout } from '../../spec/queue.ts';
import { abs, kindName, parentOf, shown, sortedEntries, statOrNull, type FixContext } from './context.ts';
import { fixAttributes, type Want } from './attributes.ts';
import { anyGroup, type Owners } from './owners.ts';
import type { Mover } from './moves.ts';

/** Where each message's files are once the moves are done: directory name → id → relative path. */
export type MessageIndex = Map<string, Map<number, string>>;

interface Scan {
  ctx: FixContext;
  owners: Owners;
  layout: QueueLayout;
  mover: Mover;
  spec: QueueDirSpec;
  want: Want;
  found: Map<number, string>;
  /** Paths that should be directories but are something else (already reported). */
  blocked: readonly string[];
}

const messageNumber = /^(0|[1-9][0-9]{0,15})$/;

export async function fixMessageFiles(
  ctx: FixContext,
  owners: Owners,
  layout: QueueLayout,
  mover: Mover,
  skip: readonly string[],
): Promise<MessageIndex> {
  const index: MessageIndex = new Map();
  for (const spec of queueDirs) {
    const modes = messageFileModes[spec.name];
    if (modes === undefined || skip.includes(spec.name)) continue;
    const found = new Map<number, string>();
    index.set(spec.name, found);
    const want: Want = { owner: anyGroup(owners.of(modes.owner)), mode: modes.mode };
    // Under -n a missing directory was reported as "would fix: mkdir"; it holds nothing.
    if ((await statOrNull(ctx.sys, abs(ctx, spec.name))) === null) continue;
    await scanTop({ ctx, owners, layout, mover, spec, want, found, blocked: skip });
  }
  return index;
}

async function scanTop(s: Scan): Promise<void> {
  const dir = s.spec.name;
  for (const name of await sortedEntries(s.ctx.sys, abs(s.ctx, dir))) {
    const rel = `${dir}/${name}`;
    if (s.blocked.includes(rel)) continue;
    const st = await statOrNull(s.ctx.sys, abs(s.ctx, rel));
    if (st === null) continue; // removed under us by a running qmail: nothing to check
    if (st.kind === 'dir' && messageNumber.test(name) && dir !== 'pid') await scanSubdir(s, rel, Number(name));
    else await checkFile(s, rel, name, st);
  }
}

async function scanSubdir(s: Scan, rel: string, n: number): Promise<void> {
  const used = isSplit(s.spec, s.layout) && n < s.layout.split;
  let movable = true;
  for (const name of await sortedEntries(s.ctx.sys, abs(s.ctx, rel))) {
    const st = await statOrNull(s.ctx.sys, abs(s.ctx, `${rel}/${name}`));
    if (st === null) continue;
    if (!(await checkFile(s, `${rel}/${name}`, name, st))) movable = false;
  }
  if (!used) await removeUnusedSubdir(s, rel, movable);
}

/** Checks one entry; returns true when it is a message file that is (or will be) where it belongs. */
async function checkFile(s: Scan, rel: string, name: string, st: Stat): Promise<boolean> {
  const { ctx } = s;
  if (st.kind !== 'file') {
    await ctx.report.line('warning', `unexpected ${kindName(st)} ${shown(ctx, rel)}`, 'not changed');
    return false;
  }
  if (await fixAttributes(ctx, s.owners, rel, st, s.want)) await ctx.report.line('ok', shown(ctx, rel));
  if (s.spec.name === 'pid') return true; // pid/<pid>.<time>.<seq>: no message number yet
  // Recycled files: pool/'s slot numbers and qpool/'s inode numbers are not message numbers.
  if (s.spec.name === 'pool' || s.spec.name === 'qpool') return true;
  if (!messageNumber.test(name)) {
    await ctx.report.line('warning', `unexpected file ${shown(ctx, rel)}`, 'not a message number; not changed');
    return false;
  }
  const id = Number(name);
  const home = messagePath(s.spec.name, id, s.layout);
  const moved = rel === home || (await s.mover.move(rel, home));
  s.found.set(id, moved ? home : rel);
  return moved;
}

async function removeUnusedSubdir(s: Scan, rel: string, movable: boolean): Promise<void> {
  const { ctx } = s;
  const why = isSplit(s.spec, s.layout) ? `not used with split ${s.layout.split}` : 'not used without BIGTODO';
  if (ctx.dryRun) {
    if (movable) await ctx.report.line('would fix', `rmdir ${shown(ctx, rel)}`, why);
    else await ctx.report.line('warning', `directory ${shown(ctx, rel)} ${why}`, 'not empty; not changed');
    return;
  }
  const left = await ctx.sys.fs.readdir(abs(ctx, rel));
  if (left.length > 0) {
    await ctx.report.line('warning', `directory ${shown(ctx, rel)} ${why}`, 'not empty; not changed');
    return;
  }
  await ctx.sys.fs.rmdir(abs(ctx, rel));
  await ctx.sys.fs.syncDir(parentOf(abs(ctx, rel)));
  await ctx.report.line('fixed', `rmdir ${shown(ctx, rel)}`, why);
}
