// Named bounds shared by programs and checkers. Units last.

/** An envelope address may be at most 1002 bytes; 1003 counting its NUL (qmail's ADDR). */
export const addressBytesMax = 1003;
/** qmail-queue kills itself after this long (DEATH); must stay below ossifiedMs. */
export const deathMs = 86_400_000;
/** Leftovers older than this are removed by qmail-send/qmail-clean (OSSIFIED, 36 h). */
export const ossifiedMs = 129_600_000;
/** qmail-queue tries pid/<pid>.<time>.<seq> for seq = 1..pidAttemptsMax. */
export const pidAttemptsMax = 9;
/** Read and write chunk for message copies. */
export const ioChunkBytes = 65_536;
/** Recipients in one envelope: qmail has no limit; we bound memory, not the count (records stream). */

export function assertLimits(): void {
  if (!(ossifiedMs > deathMs)) throw new Error('spec: ossifiedMs must exceed deathMs');
}
assertLimits();
