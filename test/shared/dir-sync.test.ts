// Group commit of directory fsyncs (impl/shared/dir-sync.ts): every caller returns only after an
// fsync that started after its call; callers that arrive during one fsync share the next.
// Replay a failing property: SEED=<n> npx vitest run test/shared/dir-sync.test.ts

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DirSyncer } from '../../impl/shared/dir-sync.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/shared/dir-sync.test.ts';

/** A controllable syncDir: each call is an fsync that ends when the test says. */
class FakeFs {
  readonly started: { path: string; at: number; end: (e?: Error) => void }[] = [];
  clock = 0;
  syncDir(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.started.push({ path, at: this.clock, end: (e) => (e === undefined ? resolve() : reject(e)) });
    });
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('DirSyncer', () => {
  it('one fsync for a caller alone; callers during it share one more', async () => {
    const fs = new FakeFs();
    const s = new DirSyncer(fs);
    const a = s.sync('/m/new');
    const b = s.sync('/m/new');
    const c = s.sync('/m/new');
    const other = s.sync('/n/new');
    expect(fs.started.map((x) => x.path)).toEqual(['/m/new', '/n/new']);
    fs.started[0]!.end();
    await a;
    await tick();
    expect(fs.started.map((x) => x.path)).toEqual(['/m/new', '/n/new', '/m/new']);
    fs.started[2]!.end();
    await Promise.all([b, c]);
    fs.started[1]!.end();
    await other;
    expect(s.started).toBe(3);
  });

  it('a failed fsync fails every caller that shares it, and the next caller starts afresh', async () => {
    const fs = new FakeFs();
    const s = new DirSyncer(fs);
    const a = s.sync('/d');
    fs.started[0]!.end(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    const b = s.sync('/d');
    expect(fs.started.length).toBe(2);
    fs.started[1]!.end();
    await b;
  });

  it('every caller is covered by an fsync that started after its call', async () => {
    await checkProperty(
      file,
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('/a', '/b'), fc.boolean()), { minLength: 1, maxLength: 40 }), async (steps) => {
        const fs = new FakeFs();
        const s = new DirSyncer(fs);
        const calls: { path: string; at: number; done: boolean }[] = [];
        for (const [path, finishOne] of steps) {
          fs.clock++;
          const call = { path, at: fs.clock, done: false };
          calls.push(call);
          void s.sync(path).then(() => {
            call.done = true;
            // Some fsync of this path that has ended started at or after the call.
            const ended = fs.started.filter((x) => x.path === path && x.at >= call.at && 'ended' in x);
            expect(ended.length).toBeGreaterThan(0);
          });
          if (finishOne) {
            const open = fs.started.find((x) => !('ended' in x));
            if (open !== undefined) {
              Object.assign(open, { ended: true });
              open.end();
            }
          }
          await tick();
        }
        for (let guard = 0; guard < 100 && calls.some((c) => !c.done); guard++) {
          for (const x of fs.started) if (!('ended' in x)) (Object.assign(x, { ended: true }), x.end());
          await tick();
        }
        expect(calls.every((c) => c.done)).toBe(true);
        expect(s.started).toBeLessThanOrEqual(calls.length);
      }),
    );
  });
});
