// One todo entry → info/S/ID, local/S/ID, remote/S/ID (nq:qmail-send.c todo_do, §3.3 of
// ../shared/spec/queue.md), up to and including the fsync of each file. The directory fsyncs, the
// todo removal and the announcement to qmail-send are the batch's (batch.ts), so that a group of
// messages shares them. Queue state stays S4 (todo present) throughout: a crash anywhere here
// leaves todo/ID, and the next scan removes whatever this left and starts again.
//
// Steps: open todo/ID; stat mess/S/ID (its size is logged); create info O_EXCL ("new msg"); copy F
// (and indimail's h and e records) to info ("info msg"); classify each T with rewrite() into local
// or remote, each created O_EXCL; unlink the unused channel's file if an earlier attempt left one;
// write and fsync info, then each channel file. A file an earlier attempt left is unlinked before
// its own is created (createFresh): qmail unlinks all three first, to the same end. Any failure
// logs qmail's warning and gives up on the message for this scan.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import type { LogEvent, WarningName } from '../../spec/log.ts';
import { messageFileModes, messagePath, type QueueLayout } from '../../spec/queue.ts';
import { concat, record } from '../lib/envelope.ts';
import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { logsafe } from '../lib/logsafe.ts';
import { rewrite, type RewriteControls } from '../lib/rewrite.ts';
import { readAll, unlinkIfThere, writeAll } from '../shared/fdio.ts';
import type { PoolTaker } from '../shared/file-pool.ts';

/** A todo file larger than this is not read (qmail-queue writes at most a few bytes per recipient
 *  over 1003-byte addresses; this bounds a hostile or corrupt one). */
export const todoBytesMax = 64 * 1024 * 1024;

export interface TodoCtx {
  sys: Sys;
  layout: QueueLayout;
  controls: RewriteControls;
  log: (e: LogEvent) => void;
  /** Recycled files for info, local and remote (impl/shared/file-pool.ts); none: each is created. */
  pool?: PoolTaker;
}

export interface Prepared {
  id: number;
  local: boolean;
  remote: boolean;
  /** Directories whose entries changed: each must be synced before todo/ID goes. */
  dirs: Set<string>;
}

class GiveUp extends Error {
  constructor(
    readonly warning: WarningName,
    readonly file: string,
  ) {
    super(`${warning} ${file}`);
  }
}

const chanDirs = ['local', 'remote'] as const;

export async function preprocess(ctx: TodoCtx, id: number): Promise<Prepared | null> {
  const open: Fd[] = [];
  try {
    return await run(ctx, id, open);
  } catch (e) {
    if (!(e instanceof GiveUp)) throw e;
    ctx.log({ kind: 'warning', warning: e.warning, file: e.file });
    return null;
  } finally {
    for (const fd of open) await ctx.sys.fs.close(fd).catch(() => undefined);
  }
}

/** A Sys step whose SysError becomes qmail's warning about `file`. */
async function step<T>(warning: WarningName, file: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SysError) throw new GiveUp(warning, file);
    throw e;
  }
}

async function run(ctx: TodoCtx, id: number, open: Fd[]): Promise<Prepared> {
  const { sys, layout } = ctx;
  const rel = (dir: string): string => messagePath(dir, id, layout);
  const abs = (dir: string): string => `${layout.dir}/${rel(dir)}`;
  const todoFd = await step('open', rel('todo'), () => sys.fs.open(abs('todo'), O.RDONLY));
  open.push(todoFd);
  const messBytes = (await step('stat', rel('mess'), () => sys.fs.stat(abs('mess')))).size;
  const prepared: Prepared = { id, local: false, remote: false, dirs: new Set([parent(abs('info'))]) };
  // Files taken from the pool still hold their last message's bytes: their old length, so that
  // only a file that was longer is cut once written (an ftruncate is a threadpool round trip).
  const oldSize = new Map<Fd, number>();
  const create = async (dir: string): Promise<Fd> => {
    const taken = await step('create', rel(dir), async () => (await ctx.pool?.takeAt(abs(dir))) ?? null);
    const fd = taken?.fd ?? (await createFresh(ctx, rel(dir), abs(dir)));
    open.push(fd);
    prepared.dirs.add(parent(abs(dir)));
    if (taken !== null && ctx.pool !== undefined) {
      oldSize.set(fd, taken.size);
      prepared.dirs.add(ctx.pool.dir);
    }
    return fd;
  };
  const put = async (file: string, fd: Fd, bytes: Uint8Array): Promise<void> => {
    await step('write', file, () => writeAll(sys, fd, bytes));
    if ((oldSize.get(fd) ?? 0) > bytes.length) await step('write', file, () => sys.fs.ftruncate(fd, bytes.length));
    await step('fsync', file, () => sys.fs.fsync(fd));
  };
  const infoFd = await create('info');
  ctx.log({ kind: 'new', id, queue: null });
  const todo = await step('read', rel('todo'), () => readAll(sys, todoFd, todoBytesMax));
  const out = classify(ctx, id, todo, messBytes);
  for (const [i, dir] of chanDirs.entries()) {
    if (out.chan[i] !== null) out.chanFd[i] = await create(dir);
    else if (await step('unlink', rel(dir), () => removeLeftover(sys, abs(dir)))) prepared.dirs.add(parent(abs(dir)));
  }
  await put(rel('info'), infoFd, concat(out.info));
  for (const [i, dir] of chanDirs.entries()) {
    const fd = out.chanFd[i];
    const recs = out.chan[i];
    if (fd === null || fd === undefined || recs === null || recs === undefined) continue;
    await put(rel(dir), fd, concat(recs));
  }
  prepared.local = out.chan[0] !== null;
  prepared.remote = out.chan[1] !== null;
  return prepared;
}

interface Classified {
  info: Uint8Array[];
  chan: [Uint8Array[] | null, Uint8Array[] | null];
  chanFd: [Fd | null, Fd | null];
}

/** The records of a todo file, sorted into info and the channel files; logs "info msg". */
function classify(ctx: TodoCtx, id: number, todo: Uint8Array, messBytes: number): Classified {
  const out: Classified = { info: [], chan: [null, null], chanFd: [null, null] };
  let uid = 0;
  let pid = 0;
  let start = 0;
  // A last record without its NUL is ignored, as qmail's getln loop does.
  for (let nul = todo.indexOf(0); nul !== -1; nul = todo.indexOf(0, start)) {
    const rec = todo.subarray(start, nul);
    start = nul + 1;
    const tag = String.fromCharCode(rec[0] ?? 0);
    const body = rec.subarray(1);
    if (tag === 'u') uid = leadingDecimal(body);
    else if (tag === 'p') pid = leadingDecimal(body);
    else if (tag === 'h' || tag === 'e') out.info.push(record(rec[0] as number, body));
    else if (tag === 'F') {
      out.info.push(record(0x46, body));
      ctx.log({ kind: 'info', id, bytes: messBytes, from: logsafe(body), qp: pid, uid, queue: null });
    } else if (tag === 'T') {
      const r = rewrite(latin1(body), ctx.controls);
      const c = r.channel === 'local' ? 0 : 1;
      (out.chan[c] ??= []).push(record(0x54, latin1Bytes(r.address)));
    } else throw new GiveUp('unknownRecord', messagePath('todo', id, ctx.layout));
  }
  return out;
}

/** scan_ulong: the leading digits, 0 when there are none. */
function leadingDecimal(b: Uint8Array): number {
  let n = 0;
  for (const c of b) {
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return Number.isSafeInteger(n) ? n : 0;
}


const createFlags = O.WRONLY | O.CREAT | O.EXCL;

/** A new empty file at path, O_EXCL. A leftover of an earlier attempt (EEXIST: rare) is unlinked
 *  and the file created again, which leaves the same names as qmail's unlink-then-create without
 *  a failing unlink per file in the usual case. Its directory is synced by the batch either way. */
async function createFresh(ctx: TodoCtx, file: string, path: string): Promise<Fd> {
  const mode = messageFileModes['info']?.mode;
  try {
    return await ctx.sys.fs.open(path, createFlags, mode);
  } catch (e) {
    if (!isSysError(e, 'EEXIST')) {
      if (e instanceof SysError) throw new GiveUp('create', file);
      throw e;
    }
  }
  await step('unlink', file, () => unlinkIfThere(ctx.sys, path));
  return step('create', file, () => ctx.sys.fs.open(path, createFlags, mode));
}

/** For a channel this attempt does not use: unlinkIfThere, with a look first. Nearly always there
 *  is nothing (a first attempt), and an lstat on the event loop costs far less than an unlink's
 *  threadpool round trip that fails ENOENT. No one else makes these names while todo/ID exists
 *  (qmail-send leaves an id with a todo/ alone), so the answer cannot go stale between the look
 *  and the unlink; an entry that did vanish meanwhile is ENOENT there. */
async function removeLeftover(sys: Sys, path: string): Promise<boolean> {
  try {
    await sys.fs.lstat(path);
  } catch (e) {
    if (isSysError(e, 'ENOENT')) return false;
    throw e;
  }
  return unlinkIfThere(sys, path);
}

function parent(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
