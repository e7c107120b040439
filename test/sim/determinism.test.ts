// Same seed, same trace, byte for byte; another seed, another interleaving. The workload mixes
// concurrent file-system operations (create, write, rename, readdir), pipes between a parent and
// its children, timers and random draws, so that any leak of real time or host order would show.

import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { O } from '../../impl/sys/types.ts';
import { readAll, writeAll } from '../../impl/shared/fdio.ts';
import type { Kernel } from '../../sim/kernel.ts';
import { addProgram, enc, newKernel } from './helpers.ts';

async function worker(sys: Sys): Promise<number> {
  const me = sys.proc.self.argv[1] ?? 'x';
  const input = await readAll(sys, 0);
  for (let i = 0; i < 5; i++) {
    const tmp = `/tmp/w/${me}.${i}.tmp`;
    const fd = await sys.fs.open(tmp, O.WRONLY | O.CREAT | O.EXCL, 0o644);
    await writeAll(sys, fd, sys.random.bytes(1 + (sys.random.u32() % 3000)));
    if (i % 2 === 0) await sys.fs.fsync(fd);
    await sys.fs.close(fd);
    await sys.fs.rename(tmp, `/tmp/w/${me}.${i}`);
    sys.log.event('info', 'worker.step', { me, i, names: (await sys.fs.readdir('/tmp/w')).length });
    if (sys.random.u32() % 2 === 0) await sys.clock.sleep(sys.random.u32() % 50);
  }
  await writeAll(sys, 1, enc(`${me}:${input.length}`));
  return 0;
}

async function boss(sys: Sys): Promise<number> {
  await sys.fs.mkdir('/tmp/w', 0o755);
  let ticks = 0;
  const stop = sys.clock.timer(5, function tick() {
    ticks++;
  });
  const children = [];
  for (const name of ['a', 'b', 'c', 'd']) {
    const c = await sys.proc.spawn('/bin/worker', ['worker', name], { env: {}, fds: ['pipe', 'pipe', 2] });
    children.push(c);
    await writeAll(sys, c.fds[0] as number, new Uint8Array(10_000));
    await sys.fs.close(c.fds[0] as number);
  }
  const outs = await Promise.all(children.map(async (c) => new TextDecoder().decode(await readAll(sys, c.fds[1] as number))));
  await Promise.all(children.map((c) => c.wait()));
  stop();
  sys.log.event('info', 'boss.done', { outs, ticks, names: (await sys.fs.readdir('/tmp/w')).sort() });
  return 0;
}

async function runWorld(seed: number): Promise<Kernel> {
  const k = newKernel(seed);
  addProgram(k, 'worker', worker);
  const b = addProgram(k, 'boss', boss);
  k.spawn(b, ['boss']);
  await k.run();
  return k;
}

describe('determinism', () => {
  it('the same seed gives the same trace; another seed another one', async () => {
    const seed = Number(process.env.SEED ?? 42);
    const one = await runWorld(seed);
    const two = await runWorld(seed);
    expect(one.bugs, `reproduce: SEED=${seed} npx vitest run test/sim/determinism.test.ts`).toEqual([]);
    expect(two.trace.lines).toEqual(one.trace.lines);
    expect(two.traceHash()).toBe(one.traceHash());
    expect(one.trace.lines.some((l) => l.includes('"event":"boss.done"'))).toBe(true);
    const other = await runWorld(seed + 1);
    expect(other.traceHash()).not.toBe(one.traceHash());
  });

  it('crashing after any number of events replays exactly', async () => {
    const seed = 7;
    const full = await runWorld(seed);
    const total = full.eventsRun;
    for (const cut of [1, 17, Math.floor(total / 2), total - 1]) {
      const hashes: string[] = [];
      for (let rep = 0; rep < 2; rep++) {
        const k = newKernel(seed);
        addProgram(k, 'worker', worker);
        k.spawn(addProgram(k, 'boss', boss), ['boss']);
        await k.run({ maxEvents: cut });
        k.powerLoss();
        hashes.push(k.traceHash() + JSON.stringify(k.fs.peekDir('/tmp/w')?.sort() ?? null));
      }
      expect(hashes[1], `cut ${cut}`).toBe(hashes[0]);
    }
  });
});
