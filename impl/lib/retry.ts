// The retry schedule (nq:qmail-send.c nextretry, squareroot; ../shared/spec/queue.md 3.6):
// next = birth + (isqrt(recent - birth) + chanskip)², in seconds, where birth is info's mtime and
// recent the time the pass started. On time, local retries at (10k)², remote at (20k)² after birth;
// late attempts re-align because the root is taken of the time actually elapsed. Pure.

import { chanskip, type Channel } from '../../spec/send.ts';

/** squareroot: the largest y with y² <= x, found bitwise over 16 result bits as qmail does (so for
 *  x >= 2³² it answers 65535, qmail's value). x must be a non-negative safe integer. */
export function isqrt(x: number): number {
  if (!(Number.isSafeInteger(x) && x >= 0)) throw new Error(`isqrt: ${x} is not a non-negative safe integer`);
  // The same answer as qmail's bit loop, without it (every delivery's end computes one): below 2³²
  // the exact integer root (Math.sqrt is correctly rounded; the steps fix any off-by-one), above it
  // the loop's ceiling.
  if (x >= 2 ** 32) return 65535;
  let y = Math.floor(Math.sqrt(x));
  while (y * y > x) y--;
  while ((y + 1) * (y + 1) <= x) y++;
  return y;
}

/** When a job that started at `recent` is tried again. */
export function nextRetry(birth: number, recent: number, c: Channel): number {
  const n = (birth > recent ? 0 : isqrt(recent - birth)) + chanskip[c];
  return birth + n * n;
}
