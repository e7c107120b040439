// Invariant checks for the simulator. A failed assertion is a bug in the simulator (or in a
// program's use of it), never a condition to handle: it throws a plain Error.

export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`sim: assertion failed: ${what}`);
}
