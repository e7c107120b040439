// The OSSIFIED cleanup (nq:qmail-send.c cleanup_do, ../shared/spec/queue.md 6.2): at start and then
// every SLEEP_CLEANUP, each mess/S/ID with no info, no todo and an atime OSSIFIED in the past (its
// qmail-queue is long dead: DEATH < OSSIFIED) is removed by qmail-clean's foop (intd, then mess).
// The read-only search is impl/shared/leftovers.ts's findOssified.

import { SysError } from '../sys/errors.ts';
import { ossifiedMs } from '../../spec/limits.ts';
import { cleanReply, sleepCleanupSec } from '../../spec/send.ts';
import { findOssified } from '../shared/leftovers.ts';
import type { Send } from './types.ts';

export async function cleanupOnce(s: Send): Promise<void> {
  let ids: number[] = [];
  try {
    ids = await findOssified(s.sys, s.layout, s.sys.clock.nowMs(), ossifiedMs);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    s.log.line({ kind: 'alert', alert: 'opendir', file: 'mess' });
  }
  for (const id of ids) {
    if (s.exitAsap) break;
    const foop = `foop/${id}`;
    const reply = await s.clean.request(foop);
    if (reply === null) break;
    if (reply !== cleanReply.ok) s.log.line({ kind: 'warning', warning: 'cleanUp', file: foop });
    else s.sys.log.event('info', 'send.ossified_cleanup', { id });
  }
  s.cleanupTime = Math.floor(s.sys.clock.nowMs() / 1000) + sleepCleanupSec;
}
