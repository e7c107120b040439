// Runs an installed program in a simulated world to its end and returns its exit and output.

import type { Kernel } from '../../sim/kernel.ts';
import type { WorldExit, WorldSpawnOpts } from '../../sim/world.ts';

export async function runInSim(k: Kernel, path: string, argv: string[], opts: WorldSpawnOpts = {}): Promise<WorldExit> {
  const h = k.spawn(path, argv, opts);
  const done = h.wait();
  await k.run({ until: () => h.status() !== null });
  return done;
}

/** The captured fd 1 bytes of a finished run, for NUL-separated outputs. */
export async function runInSimBytes(k: Kernel, path: string, argv: string[], opts: WorldSpawnOpts = {}): Promise<{ exit: WorldExit; out: Uint8Array }> {
  const h = k.spawn(path, argv, opts);
  const done = h.wait();
  await k.run({ until: () => h.status() !== null });
  return { exit: await done, out: h.output(1) };
}
