// Bounces (nq:qmail-send.c addbounce, injectbounce; ../shared/spec/queue.md 3.7).
//
// addbounce: a failure block is appended to bounce/ID and fsynced (and, when the file is new, the
// bounce/ directory too) before the recipient is marked done: a crash then cannot lose a failure
// whose D mark survived. It retries every 10 s, as qmail does, until the append works.
//
// injectbounce (from messdone, once every recipient is done): bounce/ID and the message, queued
// through qmail-queue as qmails (so "invoked for bounce"). A bounce is single (to the sender), double
// (sender empty: from #@[] to doublebounceto@doublebouncehost) or discarded (sender #@[]). Only
// after qmail-queue exited 0 is bounce/ID unlinked, and its directory synced before messdone goes
// on: a crash in between sends the bounce twice (the 6.3 window), never not at all, and no stale
// bounce/ID can outlive its message and join the next one that gets its inode number.

import type { Fd } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { isSysError, SysError } from '../sys/errors.ts';
import { bounceAppendRetrySec, doubleBounceSender } from '../../spec/send.ts';
import { messageFileModes } from '../../spec/queue.ts';
import { bounceBlock, bounceHeads } from '../lib/bounce-text.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { bounceTarget } from '../lib/verp.ts';
import { writeAll } from '../shared/fdio.ts';
import { queueMessage } from '../shared/qq-client.ts';
import { abs, getInfo, parentOf, rel, statOrNull } from './files.ts';
import type { Send } from './types.ts';

/** Appends one failure block; appends to one bounce/ID run one after another. */
export function addBounce(s: Send, id: number, recip: string, report: string): Promise<void> {
  s.bounceMayExist?.add(id);
  const block = latin1Bytes(bounceBlock(recip, report, s.cfg.virtualdomains));
  const prev = s.bounceChains.get(id) ?? Promise.resolve();
  const next = prev.then(() => appendUntilDone(s, id, block));
  s.bounceChains.set(id, next);
  return next.finally(() => {
    if (s.bounceChains.get(id) === next) s.bounceChains.delete(id);
  });
}

async function appendUntilDone(s: Send, id: number, block: Uint8Array): Promise<void> {
  while (!(await appendOnce(s, id, block))) {
    s.log.line({ kind: 'alert', alert: 'bounceAppend', file: null });
    await s.sys.clock.sleep(bounceAppendRetrySec * 1000);
  }
}

/** One try: append, fsync, sync the directory if the file is new. A failed try is cut back to
 *  the size it had, so a retry never repeats half a block. */
async function appendOnce(s: Send, id: number, block: Uint8Array): Promise<boolean> {
  const path = abs(s.layout, 'bounce', id);
  let fd: Fd;
  try {
    fd = await s.sys.fs.open(path, O.WRONLY | O.APPEND | O.CREAT | O.NONBLOCK, messageFileModes['bounce']?.mode);
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
  let size = 0;
  try {
    size = (await s.sys.fs.fstat(fd)).size;
    await writeAll(s.sys, fd, block);
    await s.sys.fs.fsync(fd);
    if (size === 0) await s.sys.fs.syncDir(parentOf(path));
    return true;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await s.sys.fs.ftruncate(fd, size).catch(() => undefined);
    return false;
  } finally {
    await s.sys.fs.close(fd).catch(() => undefined);
  }
}

/** injectbounce: true when there is nothing left to bounce for this message. As qmail, bounce/ID
 *  is looked at first and info read only when there is a bounce to send (most messages have none). */
export async function injectBounce(s: Send, id: number): Promise<boolean> {
  // Most messages have no bounce/ID, and qmail-send knows which may: no stat (a failing one) each.
  if (s.bounceMayExist !== null && !s.bounceMayExist.has(id)) return bounceGone(s, id);
  const bouncePath = abs(s.layout, 'bounce', id);
  let size: number;
  try {
    const st = await statOrNull(s.sys, bouncePath);
    if (st === null) {
      s.bounceMayExist?.delete(id);
      return await bounceGone(s, id);
    }
    size = st.size;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'warning', warning: 'stat', file: rel(s.layout, 'bounce', id) });
    return false;
  }
  const info = await getInfo(s.sys, s.layout, id);
  if (info === null) return false;
  const sender = bounceTarget(info.sender);
  // An empty bounce/ID names no failure: only a crash between its creation and its first fsync
  // leaves one (the failure's D mark came after that fsync, so the recipient is tried again).
  if (size === 0) s.sys.log.event('info', 'send.empty_bounce', { id });
  else if (sender === doubleBounceSender) s.log.line({ kind: 'triple', id });
  else if (!(await queueBounce(s, id, sender))) return false;
  try {
    await s.sys.fs.unlink(bouncePath);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    if (!isSysError(e, 'ENOENT')) {
      s.log.line({ kind: 'warning', warning: 'unlink', file: rel(s.layout, 'bounce', id) });
      return false;
    }
  }
  s.bounceMayExist?.delete(id);
  s.bounceUnsynced.add(id);
  return bounceGone(s, id);
}

/** The ids of bounce/ at start (Send.bounceMayExist); null when it cannot be read. */
export async function bounceIds(s: Send): Promise<Set<number> | null> {
  try {
    const names = await s.sys.fs.readdir(`${s.layout.dir}/bounce`);
    return new Set(names.filter((n) => /^[0-9]{1,15}$/.test(n)).map(Number));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return null;
  }
}

/** No bounce/ID: true, once an unlink of ours that is still pending has been synced. */
async function bounceGone(s: Send, id: number): Promise<boolean> {
  if (!s.bounceUnsynced.has(id)) return true;
  try {
    await s.sys.fs.syncDir(`${s.layout.dir}/bounce`);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'warning', warning: 'fsync', file: 'bounce' });
    return false;
  }
  s.bounceUnsynced.delete(id);
  return true;
}

/** The bounce message through qmail-queue; logs "bounce msg"; false when it was not queued. */
function queueBounce(s: Send, id: number, sender: string): Promise<boolean> {
  return s.bounceQueueing.with(() => runQueueBounce(s, id, sender));
}

async function runQueueBounce(s: Send, id: number, sender: string): Promise<boolean> {
  const single = sender !== '';
  const recipient = single ? sender : s.cfg.doublebounceto;
  const heads = bounceHeads({ bouncefrom: s.cfg.bouncefrom, bouncehost: s.cfg.bouncehost, recipient, sender, nowMs: s.sys.clock.nowMs() });
  const fds: Fd[] = [];
  try {
    for (const dir of ['bounce', 'mess'] as const) fds.push(await s.sys.fs.open(abs(s.layout, dir, id), O.RDONLY));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    for (const fd of fds) await s.sys.fs.close(fd).catch(() => undefined);
    s.log.line({ kind: 'warning', warning: 'inject', file: null });
    return false;
  }
  const [bounceFd, messFd] = fds as [Fd, Fd];
  try {
    const message = concatSource(s, [latin1Bytes(heads.head), bounceFd, latin1Bytes(heads.middle), messFd]);
    const envelope = { sender: latin1Bytes(single ? '' : doubleBounceSender), recipients: [latin1Bytes(recipient)] };
    const r = await queueMessage(s.sys, message, envelope, { home: s.home });
    if (r.pid === null) {
      s.log.line({ kind: 'warning', warning: 'startQueue', file: null });
      return false;
    }
    if (r.kind !== 'ok') {
      s.log.line({ kind: 'warning', warning: 'inject', file: null });
      return false;
    }
    s.log.line({ kind: 'bounce', id, qp: r.pid, queue: null });
    return true;
  } finally {
    for (const fd of fds) await s.sys.fs.close(fd).catch(() => undefined);
  }
}

/** Bytes and files (read to EOF) one after another, as one stream. */
function concatSource(s: Send, parts: (Uint8Array | Fd)[]): { read(buf: Uint8Array): Promise<number> } {
  let i = 0;
  let off = 0;
  return {
    read: async (buf) => {
      for (; i < parts.length; i++, off = 0) {
        const part = parts[i] as Uint8Array | Fd;
        if (typeof part === 'number') {
          const n = await s.sys.fs.read(part, buf, 0, buf.length, null);
          if (n > 0) return n;
          continue;
        }
        const n = Math.min(buf.length, part.length - off);
        if (n > 0) {
          buf.set(part.subarray(off, off + n));
          off += n;
          return n;
        }
      }
      return 0;
    },
  };
}
