// Interruptible (impl/lib/interruptible.ts): the read loops of qmail-lspawn, qmail-rspawn and the delivery
// worker wait through it instead of racing every read against SIGTERM and the first bug. Values,
// interruptions, and what a long loop keeps: racing with Promise.race kept ~300 bytes per wait.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Interruptible } from '../../impl/lib/interruptible.ts';

function deferred<T>(): { p: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const p = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { p, resolve, reject };
}

describe('Interruptible', () => {
  it('gives each wait its promise\'s value or error while nothing interrupts', async () => {
    const never = new Promise<never>(() => undefined);
    const w = new Interruptible().interruptWith(never, 0);
    expect(await w.wait(Promise.resolve(5))).toBe(5);
    await expect(w.wait(Promise.reject(new Error('read failed')))).rejects.toThrow('read failed');
    expect(await w.wait(Promise.resolve(7))).toBe(7);
  });

  it('a resolving interrupter ends the wait in progress and every later one with its value', async () => {
    const stop = deferred<void>();
    const w = new Interruptible().interruptWith(stop.p, 0);
    const read = deferred<number>();
    const waiting = w.wait(read.p);
    stop.resolve();
    expect(await waiting).toBe(0);
    read.resolve(99);
    expect(await w.wait(Promise.resolve(3))).toBe(0);
  });

  it('a rejecting interrupter ends the waits with its error; a later failure of the abandoned read is handled', async () => {
    const failed = deferred<never>();
    const w = new Interruptible().interruptWith(new Promise(() => undefined), 0).interruptWith(failed.p, 0);
    const read = deferred<number>();
    const waiting = w.wait(read.p);
    failed.reject(new Error('bug'));
    await expect(waiting).rejects.toThrow('bug');
    await expect(w.wait(Promise.reject(new Error('late')))).rejects.toThrow('bug');
    read.reject(new Error('abandoned'));
  });

  it('keeps nothing per wait on an interrupter that never settles', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const never = new Promise<never>(() => undefined);
    const w = new Interruptible().interruptWith(never, 0).interruptWith(never, 0);
    const waits = 200_000;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < waits; i++) await w.wait(Promise.resolve(i));
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // Promise.race against the two would keep ~2 x 300 bytes per wait: 120 MB here.
    expect(grown).toBeLessThan(10_000_000);
  });
});
