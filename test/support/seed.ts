// Seeds for fast-check properties: SEED=<n> replays a run; otherwise each run draws a fresh seed.
// checkProperty runs fc.assert with that seed and, on failure, adds the one-line replay command.

import fc from 'fast-check';

export function propertySeed(): number {
  const env = process.env['SEED'];
  return env === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(env);
}

export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  file: string,
  prop: fc.IAsyncPropertyWithHooks<Ts> | fc.IPropertyWithHooks<Ts>,
  params: fc.Parameters<Ts> = {},
): Promise<void> {
  const seed = propertySeed();
  try {
    await fc.assert(prop, { ...params, seed });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`${why}\nreplay: SEED=${seed} npx vitest run ${file}`);
  }
}
