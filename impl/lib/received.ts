// qmail-queue's Received line (notqmail receivedfmt, spec/queue.md 2.3):
//   Received: (qmail <pid> invoked <how>); <date822>\n
// <how> is chosen from the invoker's REAL uid: alias → "by alias", qmaild → "from network",
// qmails → "for bounce", anyone else → "by uid <n>".

import { date822 } from './date822.ts';

export interface SpecialUids {
  alias: number | null;
  qmaild: number | null;
  qmails: number | null;
}

export function receivedHow(uid: number, special: SpecialUids): string {
  if (uid === special.alias) return 'by alias';
  if (uid === special.qmaild) return 'from network';
  if (uid === special.qmails) return 'for bounce';
  return `by uid ${uid}`;
}

export function receivedLine(pid: number, uid: number, special: SpecialUids, epochMs: number): string {
  return `Received: (qmail ${pid} invoked ${receivedHow(uid, special)}); ${date822(epochMs)}\n`;
}
