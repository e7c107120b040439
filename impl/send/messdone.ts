// messdone (nq:qmail-send.c): eliminating a message whose channel files are gone.
//
//   checks   no local, no remote, no todo (S4 would be rebuilt), info present (a channel file or
//            todo known durably absent is not stat'd: types.ts chanAbsent; nor is bounce/ID when
//            none can exist: types.ts bounceMayExist);
//   1. injectbounce: bounce/ID queued and durably removed (bounce.ts);
//   2. "end msg ID";
//   3. unlink info/S/ID (or give it to pool/: impl/shared/file-pool.ts), fsync info/S    S5 → S2
//   4. foop/ID to qmail-clean (intd, then mess; + once durable)        S2 → S1
// Any failure retries the whole thing after SLEEP_SYSFAIL (the checks make a repeat harmless). A
// crash after 3 leaves an S2 leftover that the OSSIFIED cleanup removes.

import { SysError } from '../sys/errors.ts';
import { cleanReply, sleepSysfailSec } from '../../spec/send.ts';
import { injectBounce } from './bounce.ts';
import { syncDirPersistently } from './deliveries.ts';
import { abs, chanDir, parentOf, rel, statOrNull, type QueueDir } from './files.ts';
import { nowSec, todoAbsent } from './pq.ts';
import type { Send } from './types.ts';

/** Concurrent messdones at most: each holds at most one fd at a time, and their info/ fsyncs and
 *  foop commands overlap, so that qmail-clean commits many eliminations as one group. */
export const messdoneMax = 128;
/** Of those, at most this many run a qmail-queue for a bounce at once (a process each). */
export const bounceQueueMax = 16;

export async function messdone(s: Send, id: number): Promise<void> {
  const outcome = await eliminate(s, id);
  if (outcome === 'retry') {
    s.pqdone.insert({ id, dt: nowSec(s.sys) + sleepSysfailSec });
    return;
  }
  if (outcome === 'done') forget(s, id);
}

/** Drops what we hold about id. Must happen before foop/ID goes to qmail-clean: once mess/S/ID is
 *  gone its inode number, which is the id, may come back at once as a new message's (a new inode,
 *  or a recycled one from qpool/), and todo-proc's D record for that one may arrive while we still
 *  wait for qmail-clean's answer. Dropping after the answer would erase the new message's state
 *  (its pqdone membership: it would never be finished), and the old message's absent bits would
 *  be taken for the new one's. */
function forget(s: Send, id: number): void {
  s.doneIds.delete(id);
  s.chanAbsent.delete(id);
}

/** 'handedOff': the id was forgotten and foop/ID sent; it may already name another message. */
async function eliminate(s: Send, id: number): Promise<'done' | 'retry' | 'handedOff'> {
  const { sys, layout } = s;
  const absent = s.chanAbsent.get(id) ?? 0;
  const dirs: QueueDir[] = ([0, 1] as const).filter((c) => (absent & (1 << c)) === 0).map(chanDir);
  if ((absent & todoAbsent) === 0) dirs.push('todo');
  for (const dir of dirs) {
    try {
      if ((await statOrNull(sys, abs(layout, dir, id))) !== null) return 'done'; // false alarm
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      s.log.line({ kind: 'warning', warning: 'statLater', file: rel(layout, dir, id) });
      return 'retry';
    }
  }
  try {
    if ((await statOrNull(sys, abs(layout, 'info', id))) === null) return 'done';
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'warning', warning: 'statLater', file: rel(layout, 'info', id) });
    return 'retry';
  }
  if (!(await injectBounce(s, id))) return 'retry';
  s.log.line({ kind: 'end', id, queue: null });
  // The line is out before the state it reports changes, as qmail's flushed log1() has it: a kill
  // right after the unlink must not lose "end msg".
  await s.log.drain();
  const info = abs(layout, 'info', id);
  const hidden = `.${id}.i`;
  let pooled = false;
  try {
    const r = await s.pool.retire(info, hidden);
    pooled = r === 'pooled';
    // 'gone' is an unlink's ENOENT: as qmail, a warning and a later retry (stat saw info above).
    if (r !== 'pooled') await sys.fs.unlink(info);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'warning', warning: 'unlinkLater', file: rel(layout, 'info', id) });
    return 'retry';
  }
  if (!(await syncDirPersistently(s, parentOf(info)))) return 'done';
  if (pooled) await s.pool.publish(hidden);
  const foop = `foop/${id}`;
  forget(s, id);
  const reply = await s.clean.request(foop);
  if (reply !== null && reply !== cleanReply.ok) s.log.line({ kind: 'warning', warning: 'cleanUp', file: foop });
  return 'handedOff';
}
