// Installing one file so that a second run changes nothing: the bytes are compared first; a new
// version is written beside the old one, fsynced, given its owner and mode, renamed over it
// (atomic: a running program sees the old file or the new, never half of one), and the directory
// fsynced. An up-to-date file only has its owner and mode checked.

import { isSysError } from '../sys/errors.ts';
import { readFileOrNull, writeFileSynced } from '../shared/fdio.ts';
import { abs, parentOf, shown, type FixContext } from '../queue-fix/context.ts';
import { fixAttributes, setAttributes, type Want } from '../queue-fix/attributes.ts';
import type { Owners } from '../queue-fix/owners.ts';
import { octal } from '../queue-fix/report.ts';

/** Returns true when the file was (re)written. */
export async function installFile(ctx: FixContext, owners: Owners, rel: string, bytes: Uint8Array, want: Want): Promise<boolean> {
  const path = abs(ctx, rel);
  const old = await readFileOrNull(ctx.sys, path);
  if (old !== null && sameBytes(old, bytes)) {
    await fixAttributes(ctx, owners, rel, await ctx.sys.fs.stat(path), want);
    return false;
  }
  const tmpRel = `${parentRel(rel)}.${baseName(rel)}.new`;
  await writeFileSynced(ctx.sys, abs(ctx, tmpRel), bytes, 0o600);
  await placeFile(ctx, owners, tmpRel, rel, want);
  return true;
}

/** Gives tmpRel its owner and mode, then renames it to rel and makes the name durable. */
export async function placeFile(ctx: FixContext, owners: Owners, tmpRel: string, rel: string, want: Want): Promise<void> {
  await setAttributes(ctx, owners, tmpRel, want);
  await ctx.sys.fs.rename(abs(ctx, tmpRel), abs(ctx, rel));
  await ctx.sys.fs.syncDir(parentOf(abs(ctx, rel)));
  await ctx.report.line('fixed', `install ${shown(ctx, rel)}`, `${octal(want.mode)} ${want.owner.label}`);
}

export async function unlinkIfThere(ctx: FixContext, rel: string): Promise<void> {
  try {
    await ctx.sys.fs.unlink(abs(ctx, rel));
  } catch (e) {
    if (!isSysError(e, 'ENOENT')) throw e;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function parentRel(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i + 1);
}

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}
