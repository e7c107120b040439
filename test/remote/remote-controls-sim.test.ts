// qmail-rspawn's cached qmail-remote controls (impl/remote/config.ts RemoteControls): between two
// deliveries any change to control/ (a file created, rewritten in place with the same size, renamed
// over, removed) must show in the next load, exactly as a fresh read (loadRemoteConfig) sees it; an
// unchanged control/ costs two stats instead of five opens and their reads.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { O } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { RemoteControls, loadRemoteConfig, remoteControlNames } from '../../impl/remote/config.ts';
import { installQmail } from '../../sim/install.ts';
import { checkProperty } from '../support/seed.ts';
import { addProgram, newKernel } from '../sim/helpers.ts';

type Name = (typeof remoteControlNames)[number];

type Step =
  | { op: 'sleep'; ms: number }
  | { op: 'write'; name: Name; text: string; inPlace: boolean }
  | { op: 'unlink'; name: Name }
  | { op: 'load' };

const texts: Record<Name, string[]> = {
  timeoutremote: ['1200\n', '30\n', 'x\n'],
  timeoutconnect: ['60\n', '15\n'],
  helohost: ['helo.a\n', 'helo.b\n', 'hostC\n'],
  me: ['me.example\n', 'me.exampl2\n', ''],
  smtproutes: [':relay.a\n', 'x.org:relay.b:26\n', ':relay.c\n'],
};

async function apply(sys: Sys, home: string, s: Step): Promise<void> {
  if (s.op === 'sleep') return sys.clock.sleep(s.ms);
  if (s.op === 'load') return;
  const path = `${home}/control/${s.name}`;
  if (s.op === 'unlink') return sys.fs.unlink(path).catch(() => undefined);
  const bytes = new TextEncoder().encode(s.text);
  // In place: the same inode truncated and rewritten; else a new file renamed over the old one.
  const target = s.inPlace ? path : `${path}.new`;
  const fd = await sys.fs.open(target, O.WRONLY | O.CREAT | O.TRUNC, 0o644);
  await writeAll(sys, fd, bytes);
  await sys.fs.close(fd);
  if (!s.inPlace) await sys.fs.rename(target, path);
}

/** Runs the steps in one simulated process; at each load, the cached and the fresh configuration. */
async function run(seed: number, steps: Step[]): Promise<{ pairs: [unknown, unknown][]; opens: number }> {
  const k = newKernel(seed);
  const inst = await installQmail(k);
  const pairs: [unknown, unknown][] = [];
  addProgram(k, 'prober', async (sys) => {
    const cache = new RemoteControls(inst.home, null);
    for (const s of steps) {
      await apply(sys, inst.home, s);
      if (s.op !== 'load') continue;
      const cached = await cache.load(sys);
      pairs.push([cached, await loadRemoteConfig(sys, inst.home, null)]);
    }
    return 0;
  });
  let opens = 0;
  const h = k.spawn('/bin/prober', ['prober'], {});
  const done = h.wait();
  await k.run({ until: () => h.status() !== null });
  expect((await done).code).toBe(0);
  const controlPaths = remoteControlNames.map((n) => `"path":"${inst.home}/control/${n}"`);
  for (const line of k.trace.lines) if (line.includes('"event":"sys.open"') && controlPaths.some((c) => line.includes(c))) opens++;
  return { pairs, opens };
}

const load: Step = { op: 'load' };
const sleep = (ms: number): Step => ({ op: 'sleep', ms });

describe('RemoteControls', () => {
  it('sees a control file created, rewritten in place with the same size, and removed, at the next load', async () => {
    const steps: Step[] = [
      { op: 'write', name: 'me', text: 'me.example\n', inPlace: false },
      sleep(10_000), load, load, // the second load is the cached one
      { op: 'write', name: 'helohost', text: 'helo.a\n', inPlace: true }, load,
      sleep(10_000), load, // settled: cached again
      { op: 'write', name: 'helohost', text: 'helo.b\n', inPlace: true }, load,
      sleep(10_000), load,
      { op: 'write', name: 'timeoutremote', text: '30\n', inPlace: false }, load,
      { op: 'unlink', name: 'helohost' }, load,
    ];
    const { pairs } = await run(5, steps);
    for (const [cached, fresh] of pairs) expect(cached).toEqual(fresh);
    const helos = pairs.map(([c]) => (c as { helohost: string }).helohost);
    expect(helos).toEqual(['me.example', 'me.example', 'helo.a', 'helo.a', 'helo.b', 'helo.b', 'helo.b', 'me.example']);
    expect((pairs[6]?.[0] as { timeoutRemoteMs: number }).timeoutRemoteMs).toBe(30_000);
  });

  it('reads no control file while control/ is unchanged', async () => {
    const steps: Step[] = [sleep(10_000), load, ...Array.from({ length: 20 }, () => load)];
    const { pairs, opens } = await run(6, steps);
    expect(pairs).toHaveLength(21);
    // Each load's fresh read opens the five files; the cached loads after the first open none.
    expect(opens).toBe(21 * remoteControlNames.length + remoteControlNames.length);
  });

  it('always gives what a fresh read gives, whatever changes between loads', async () => {
    const name = fc.constantFrom(...remoteControlNames);
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ op: fc.constant('sleep' as const), ms: fc.constantFrom(0, 1, 500, 1999, 2500, 60_000) }),
      name.chain((n) => fc.record({ op: fc.constant('write' as const), name: fc.constant(n), text: fc.constantFrom(...texts[n]), inPlace: fc.boolean() })),
      fc.record({ op: fc.constant('unlink' as const), name }),
      fc.constant(load),
      fc.constant(load),
    );
    await checkProperty(
      'test/remote/remote-controls-sim.test.ts',
      fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.array(step, { maxLength: 40 }), async (seed, steps) => {
        const { pairs } = await run(seed, [...steps, load]);
        for (const [cached, fresh] of pairs) expect(cached).toEqual(fresh);
      }),
      { numRuns: 60 },
    );
  });
});
