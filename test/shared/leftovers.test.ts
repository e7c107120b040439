// cleanupLeftovers on the real host Sys: which leftovers go (S2/S3 older than OSSIFIED, stale
// intd, old pid files) and which stay (queued, preprocessed, young). Ages are set with utimes.
// Better in the simulator once it is complete: that each removal is durable in qmail-clean's
// order (intd, fsync, mess, fsync) under the posix crash profile.

import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main as queueFix } from '../../impl/queue-fix/main.ts';
import { cleanupLeftovers } from '../../impl/shared/leftovers.ts';
import { ossifiedMs } from '../../spec/limits.ts';
import { captureSys, runProgram } from '../support/host-program.ts';

let tmp: string;
let q: string;
const layout = () => ({ dir: q, split: 3, bigtodo: false });
const hourMs = 3_600_000;

beforeEach(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'leftovers-'));
  q = join(tmp, 'queue');
  expect((await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3' } })).code).toBe(0);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes rel with both atime and mtime `ageMs` before nowMs. */
function file(rel: string, ageMs: number, nowMs: number, bytes = 'x'): void {
  writeFileSync(join(q, rel), bytes);
  const t = (nowMs - ageMs) / 1000;
  utimesSync(join(q, rel), t, t);
}

describe('cleanupLeftovers', () => {
  it('removes ossified S2/S3 messages, stale intd and old pid files, and nothing else', async () => {
    const now = Date.now();
    const old = ossifiedMs + hourMs;
    file('mess/1/4', old, now); // S3, ossified: goes with its intd
    file('intd/4', old, now);
    file('mess/2/5', old, now); // preprocessed (info): stays
    file('info/2/5', old, now);
    file('mess/0/6', old, now); // queued (todo): stays
    file('todo/6', old, now);
    file('mess/1/7', hourMs, now); // young S2: its qmail-queue may be alive
    file('intd/10', old, now); // stale intd, no mess: goes
    file('intd/13', hourMs, now); // young intd without mess: stays (a live qmail-queue's?)
    file('pid/123.456.1', old, now);
    file('pid/124.456.1', hourMs, now);
    const { sys, events } = await captureSys({ argv: ['test'] });

    const r = await cleanupLeftovers(sys, layout(), now, ossifiedMs);

    expect(r).toEqual({ removed: [4], pidFiles: ['123.456.1'], staleIntd: [10] });
    for (const gone of ['mess/1/4', 'intd/4', 'intd/10', 'pid/123.456.1']) expect(existsSync(join(q, gone)), gone).toBe(false);
    for (const kept of ['mess/2/5', 'mess/0/6', 'mess/1/7', 'intd/13', 'pid/124.456.1']) expect(existsSync(join(q, kept)), kept).toBe(true);
    expect(events.filter((e) => e.name === 'queue.ossified_cleanup').map((e) => e.fields)).toEqual([
      { what: 'mess', id: 4 },
      { what: 'intd', id: 10 },
      { what: 'pid', name: '123.456.1' },
    ]);
  });

  it('a pid name whose start second is younger than OSSIFIED is kept without a stat; qmail names and names from the future are judged by atime', async () => {
    const now = Date.now();
    const old = ossifiedMs + hourMs;
    const sec = (ms: number): number => Math.floor(ms / 1000);
    // atime old (as only utimes could make it), name young: the name decides, no stat.
    file(`pid/200.${sec(now - hourMs)}.1`, old, now);
    file('pid/4711', old, now); // qmail's pid/<pid>
    file(`pid/201.${sec(now + 10 * hourMs)}.1`, old, now); // the clock stepped back since
    file('pid/202.456.1', old, now);
    const { sys } = await captureSys({ argv: ['test'] });
    const r = await cleanupLeftovers(sys, layout(), now, ossifiedMs);
    expect(r.pidFiles.sort()).toEqual(['202.456.1', `201.${sec(now + 10 * hourMs)}.1`, '4711'].sort());
    expect(existsSync(join(q, `pid/200.${sec(now - hourMs)}.1`))).toBe(true);
  });

  it('uses the mess atime, as qmail-send does: a message read recently is not ossified', async () => {
    const now = Date.now();
    file('mess/1/4', ossifiedMs + hourMs, now);
    utimesSync(join(q, 'mess/1/4'), (now - hourMs) / 1000, (now - ossifiedMs - hourMs) / 1000);
    const { sys } = await captureSys({ argv: ['test'] });
    expect((await cleanupLeftovers(sys, layout(), now, ossifiedMs)).removed).toEqual([]);
  });

  it('skips a message in the wrong split directory (queue-fix moves it)', async () => {
    const now = Date.now();
    file('mess/0/4', ossifiedMs + hourMs, now);
    const { sys } = await captureSys({ argv: ['test'] });
    expect((await cleanupLeftovers(sys, layout(), now, ossifiedMs)).removed).toEqual([]);
    expect(existsSync(join(q, 'mess/0/4'))).toBe(true);
  });

  it('honours BIGTODO: todo/S/ID keeps a message, intd/S/ID goes with it', async () => {
    expect((await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3', BIGTODO: '1' } })).code).toBe(0);
    const now = Date.now();
    const old = ossifiedMs + hourMs;
    file('mess/1/4', old, now);
    file('intd/1/4', old, now);
    file('mess/2/5', old, now);
    file('todo/2/5', old, now);
    const { sys } = await captureSys({ argv: ['test'] });
    const r = await cleanupLeftovers(sys, { dir: q, split: 3, bigtodo: true }, now, ossifiedMs);
    expect(r.removed).toEqual([4]);
    expect(existsSync(join(q, 'intd/1/4'))).toBe(false);
    expect(existsSync(join(q, 'mess/2/5'))).toBe(true);
  });
});
