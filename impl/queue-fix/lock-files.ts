// The files of queue/lock (spec/queue.ts queueFiles): tcpto (1024 NUL bytes), sendmutex (empty),
// and trigger, which must be a FIFO: qmail-send selects on it and qmail-queue writes one byte into
// it. A regular file there would make every trigger pull a silent no-op, so it is replaced.

import { O } from '../sys/types.ts';
import { queueFiles, type QueueFileSpec } from '../../spec/queue.ts';
import { writeAll } from '../shared/fdio.ts';
import { abs, kindName, parentOf, shown, statOrNull, type FixContext } from './context.ts';
import { fixAttributes, setAttributes, type Want } from './attributes.ts';
import type { Owners } from './owners.ts';
import { octal } from './report.ts';

export async function fixLockFiles(ctx: FixContext, owners: Owners): Promise<void> {
  for (const spec of queueFiles) await fixLockFile(ctx, owners, spec);
}

async function fixLockFile(ctx: FixContext, owners: Owners, spec: QueueFileSpec): Promise<void> {
  const want: Want = { owner: owners.of(spec.owner), mode: spec.mode };
  const rel = spec.name;
  const st = await statOrNull(ctx.sys, abs(ctx, rel));
  if (st !== null && st.kind === 'dir') {
    await ctx.report.line('cannot fix', `${spec.kind === 'fifo' ? 'mkfifo' : 'create'} ${shown(ctx, rel)}`, 'a directory is in the way');
    return;
  }
  const wantKind = spec.kind === 'fifo' ? 'fifo' : 'file';
  if (st !== null && st.kind !== wantKind) {
    // The wrong kind of object holds the name (a file where the FIFO belongs): remove it.
    await ctx.report.repair(ctx.dryRun, `rm ${shown(ctx, rel)}`, `a ${kindName(st)}, not a ${spec.kind === 'fifo' ? 'FIFO' : 'regular file'}`);
    if (!ctx.dryRun) await ctx.sys.fs.unlink(abs(ctx, rel));
  }
  if (st === null || st.kind !== wantKind) {
    await createLockFile(ctx, owners, spec, want);
    return;
  }
  const sound = await fixAttributes(ctx, owners, rel, st, want);
  if (spec.kind === 'zeros' && st.size !== spec.bytes) {
    // tcpto is qmail-rspawn's cache and sendmutex only a lock: a wrong size is odd, not harmful,
    // and rewriting tcpto under a running qmail-rspawn would race with it. Report only.
    await ctx.report.line('warning', `${shown(ctx, rel)} has ${st.size} bytes, expected ${spec.bytes}`, 'not changed');
  } else if (sound) {
    await ctx.report.line('ok', shown(ctx, rel));
  }
}

async function createLockFile(ctx: FixContext, owners: Owners, spec: QueueFileSpec, want: Want): Promise<void> {
  const rel = spec.name;
  const what = spec.kind === 'fifo' ? `mkfifo ${shown(ctx, rel)}` : `create ${shown(ctx, rel)}`;
  const size = spec.kind !== 'zeros' ? '' : spec.bytes > 0 ? `${spec.bytes} zero bytes, ` : 'empty, ';
  await ctx.report.repair(ctx.dryRun, what, `${size}${octal(want.mode)} ${want.owner.label}`);
  if (ctx.dryRun) return;
  const path = abs(ctx, rel);
  if (spec.kind === 'fifo') await ctx.sys.fs.mkfifo(path, want.mode);
  else await createZeros(ctx, path, spec.bytes, want.mode);
  await setAttributes(ctx, owners, rel, want);
  await ctx.sys.fs.syncDir(parentOf(path));
}

/** qmail's z(): N NUL bytes, fsynced before the name is made durable. */
async function createZeros(ctx: FixContext, path: string, bytes: number, mode: number): Promise<void> {
  const fd = await ctx.sys.fs.open(path, O.WRONLY | O.CREAT | O.EXCL, mode);
  try {
    await writeAll(ctx.sys, fd, new Uint8Array(bytes));
    await ctx.sys.fs.fsync(fd);
  } finally {
    await ctx.sys.fs.close(fd);
  }
}
