// Owner and mode of an object that exists: compare with what is wanted, then chown before chmod
// (chown clears set-id bits, so the mode is applied last).

import type { Stat } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { abs, shown, type FixContext } from './context.ts';
import type { Ident, Owners } from './owners.ts';
import { octal } from './report.ts';

export interface Want {
  owner: Ident;
  mode: number;
}

/** Returns true when the object already had the wanted owner and mode. */
export async function fixAttributes(ctx: FixContext, owners: Owners, rel: string, st: Stat, want: Want): Promise<boolean> {
  const ownerOk = st.uid === want.owner.uid && (want.owner.gid === null || st.gid === want.owner.gid);
  const modeOk = (st.mode & 0o7777) === want.mode;
  if (!ownerOk) await fixOwner(ctx, owners, rel, st, want.owner);
  // After a chown the file is the wanted owner's; judge the chmod by that, not the old owner.
  const owner = !ownerOk && owners.canChown(want.owner) ? want.owner.uid : st.uid;
  if (!modeOk) await fixMode(ctx, rel, { ...st, uid: owner }, want.mode);
  if (!(ownerOk && modeOk) && !ctx.dryRun) await syncInode(ctx, abs(ctx, rel), st);
  return ownerOk && modeOk;
}

/** Makes a chown/chmod durable: under the posix crash model an inode's metadata survives a power
 *  loss only after an fsync of that inode (a sendmutex left root's after a crash stops qmail-send).
 *  A FIFO cannot be fsynced on Linux (EINVAL): its directory's fsync is the best there is. */
async function syncInode(ctx: FixContext, path: string, st: Pick<Stat, 'kind'>): Promise<void> {
  if (st.kind === 'dir') return ctx.sys.fs.syncDir(path);
  if (st.kind === 'file') {
    const fd = await ctx.sys.fs.open(path, O.RDONLY | O.NOFOLLOW);
    try {
      await ctx.sys.fs.fsync(fd);
    } finally {
      await ctx.sys.fs.close(fd);
    }
    return;
  }
  if (st.kind === 'fifo') {
    const fd = await ctx.sys.fs.open(path, O.RDONLY | O.NONBLOCK | O.NOFOLLOW);
    try {
      await ctx.sys.fs.fsync(fd);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      await ctx.sys.fs.syncDir(path.slice(0, path.lastIndexOf('/')) || '/');
    } finally {
      await ctx.sys.fs.close(fd);
    }
  }
}

async function fixOwner(ctx: FixContext, owners: Owners, rel: string, st: Stat, owner: Ident): Promise<void> {
  const action = `chown ${owner.label} ${shown(ctx, rel)}`;
  const was = `was ${st.uid}:${st.gid}`;
  if (!owners.canChown(owner)) return ctx.report.line('cannot fix', action, `${was}; not root`);
  if (ctx.dryRun) return ctx.report.line('would fix', action, was);
  await ctx.sys.fs.chown(abs(ctx, rel), owner.uid, owner.gid ?? st.gid);
  await ctx.report.line('fixed', action, was);
}

async function fixMode(ctx: FixContext, rel: string, st: Stat, mode: number): Promise<void> {
  const action = `chmod ${octal(mode)} ${shown(ctx, rel)}`;
  const { euid } = ctx.sys.proc.self;
  // Only the owner (or root) may chmod; a chown we could not make leaves the file someone else's.
  if (euid !== 0 && st.uid !== euid) return ctx.report.line('cannot fix', action, `was ${octal(st.mode)}; not the owner`);
  await ctx.report.repair(ctx.dryRun, action, `was ${octal(st.mode)}`);
  if (!ctx.dryRun) await ctx.sys.fs.chmod(abs(ctx, rel), mode);
}

/** After creating an object: give it its owner (if we may) and its exact mode (the umask may have
 *  cut bits at creation). */
export async function setAttributes(ctx: FixContext, owners: Owners, rel: string, want: Want): Promise<void> {
  const path = abs(ctx, rel);
  if (owners.canChown(want.owner)) {
    const st = await ctx.sys.fs.stat(path);
    if (st.uid !== want.owner.uid || (want.owner.gid !== null && st.gid !== want.owner.gid)) {
      await ctx.sys.fs.chown(path, want.owner.uid, want.owner.gid ?? st.gid);
    }
  } else {
    await ctx.report.line('cannot fix', `chown ${want.owner.label} ${shown(ctx, rel)}`, 'not root');
  }
  await ctx.sys.fs.chmod(path, want.mode);
  await syncInode(ctx, path, await ctx.sys.fs.stat(path));
}
