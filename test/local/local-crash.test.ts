// Faults during a delivery, in the simulator under the posix crash profile (spec/local.md, "Crash
// safety"), both ways qmail-local runs. For random seeds and a random point of the delivery:
//   - a power loss or kill -9 never leaves a partial message in Maildir/new, nor a partial entry in
//     an mbox that a later delivery does not cut off: after the fault the mbox is the old content
//     plus a prefix of the entry; after the retry qmail-send would make it is the old content plus
//     one or two complete entries (two only when the first had finished), never a partial one;
//   - a delivery that exited 0 survives a power loss right after;
// and the durability property catches a delivery with its fsync of new/ taken out.
//
// Replay a failure: SEED=<n> npx vitest run test/local/local-crash.test.ts

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkProperty } from '../support/seed.ts';
import {
  dirNames, fileText, joe, joeFile, joeMaildir, localWorld, modes, startLocal, type LocalWorld, type Mode, type RunSpec,
} from './sim-world.ts';

const file = 'test/local/local-crash.test.ts';
/** Larger than one write (ioChunkBytes), so that a kill -9 can fall between two writes. */
const message = `Subject: crash\n\n${'From a line of the body\n'.repeat(6500)}From here\nend`;
const oldMbox = 'From a@b Thu Jan 01 00:00:00 2026\nSubject: old\n\nold body\n\n';
const entryHead = /^From sender@example\.org [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} [0-9]{4}$/gm;
const normal = (s: string): string => s.replace(entryHead, 'From sender@example.org DATE');

type Target = 'maildir' | 'mbox';
type Fault = 'power' | 'kill';

async function world(seed: number, target: Target): Promise<LocalWorld> {
  const w = await localWorld(seed);
  if (target === 'maildir') joeMaildir(w);
  else {
    joeFile(w, '.qmail', './mbox\n');
    joeFile(w, 'mbox', oldMbox, 0o600);
  }
  return w;
}

interface Run {
  w: LocalWorld;
  exited: number | null;
}

/** Runs the delivery for at most `budget` events (Infinity: to its end). */
async function deliver(seed: number, target: Target, mode: Mode, budget: number, env?: Record<string, string>): Promise<Run & { events: number }> {
  const w = await world(seed, target);
  const spec: RunSpec = { mode, args: {}, message, env };
  const h = startLocal(w, spec);
  const r = await w.k.run({ until: () => h.status() !== null, maxEvents: budget });
  return { w, exited: h.status()?.code ?? null, events: r.events };
}

/** The retry qmail-send makes of a delivery it was not told succeeded. */
async function retry(w: LocalWorld, mode: Mode): Promise<number | null> {
  const h = startLocal(w, { mode, args: {}, message });
  await w.k.run({ until: () => h.status() !== null });
  return h.status()?.code ?? null;
}

function fault(w: LocalWorld, f: Fault): void {
  if (f === 'power') w.k.powerLoss();
  else for (const pid of w.k.pids()) w.k.kill(pid, 'SIGKILL');
}

function maildirMessages(w: LocalWorld): string[] {
  return dirNames(w, `${joe.home}/Maildir/new`).map((n) => fileText(w, `${joe.home}/Maildir/new/${n}`) ?? '');
}

const whole = 'Return-Path: <sender@example.org>\nDelivered-To: joe@example.com\n' + message;

async function faultProperty(target: Target, f: Fault, mode: Mode): Promise<void> {
  await checkProperty(
    file,
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 1.05, noNaN: true }), async (seed, at) => {
      const reference = await deliver(seed, target, mode, Infinity);
      expect(reference.exited).toBe(0);
      const { w, exited } = await deliver(seed, target, mode, Math.floor(at * reference.events));
      fault(w, f);
      await w.k.run({ untilMs: w.k.nowMs + 1 });
      if (target === 'maildir') {
        const after = maildirMessages(w);
        expect(after.every((m) => m === whole), 'only complete messages in new/').toBe(true);
        expect(after.length).toBe(exited === 0 ? 1 : after.length);
        expect(after.length).toBeLessThanOrEqual(1);
        expect(await retry(w, mode)).toBe(0);
        const final = maildirMessages(w);
        expect(final.every((m) => m === whole)).toBe(true);
        expect(final.length).toBe(after.length + 1);
        return;
      }
      const entry = normal(fileText(reference.w, `${joe.home}/mbox`) ?? '').slice(oldMbox.length);
      const after = normal(fileText(w, `${joe.home}/mbox`) ?? '');
      expect(after.startsWith(oldMbox), 'the old content survives').toBe(true);
      expect(entry.startsWith(after.slice(oldMbox.length)), 'then a prefix of the entry').toBe(true);
      if (exited === 0) expect(after).toBe(oldMbox + entry);
      expect(await retry(w, mode)).toBe(0);
      const final = normal(fileText(w, `${joe.home}/mbox`) ?? '');
      const allowed = exited === 0 ? [oldMbox + entry + entry] : [oldMbox + entry, oldMbox + entry + entry];
      expect(allowed, 'old content plus complete entries only').toContain(final);
      expect(dirNames(w, joe.home)).not.toContain('mbox.qmail-pending');
    }),
    { numRuns: 12 },
  );
}

describe.each(modes)('faults during a delivery (%s, posix)', (mode) => {
  for (const target of ['maildir', 'mbox'] as const) {
    for (const f of ['power', 'kill'] as const) {
      it(`${target}: ${f === 'power' ? 'a power loss' : 'kill -9'} at any point leaves no partial message after the retry`, async () => {
        await faultProperty(target, f, mode);
      });
    }
    it(`${target}: a delivery that exited 0 survives a power loss right after`, async () => {
      await checkProperty(
        file,
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
          const { w, exited } = await deliver(seed, target, mode, Infinity);
          expect(exited).toBe(0);
          w.k.powerLoss();
          if (target === 'maildir') expect(maildirMessages(w)).toEqual([whole]);
          else expect(normal(fileText(w, `${joe.home}/mbox`) ?? '')).toMatch(new RegExp(`^${escape(oldMbox)}From sender@example.org DATE\n`));
        }),
        { numRuns: 15 },
      );
    });
  }
});

describe('the durability property has teeth', () => {
  it('a maildir delivery without its fsync of new/ loses reported mail under posix', async () => {
    let lost = 0;
    for (let seed = 1; seed <= 40 && lost === 0; seed++) {
      const { w, exited } = await deliver(seed, 'maildir', 'inprocess', Infinity, { PATH: '/usr/bin:/bin', SIM_BROKEN: 'syncDir' });
      expect(exited).toBe(0);
      w.k.powerLoss();
      if (maildirMessages(w).length === 0) lost++;
    }
    expect(lost, 'no seed in 1..40 lost the unsynced maildir message').toBeGreaterThan(0);
  });

  it('an mbox delivery that cannot cut back an interrupted entry leaves it there', async () => {
    let partial = 0;
    for (let seed = 1; seed <= 60 && partial === 0; seed++) {
      const env = { PATH: '/usr/bin:/bin', SIM_BROKEN: 'ftruncate' };
      const reference = await deliver(seed, 'mbox', 'inprocess', Infinity, env);
      const { w } = await deliver(seed, 'mbox', 'inprocess', Math.floor(((seed * 7919) % 100) / 100 * reference.events), env);
      fault(w, 'kill');
      await w.k.run({ untilMs: w.k.nowMs + 1 });
      const h = startLocal(w, { mode: 'inprocess', args: {}, message, env });
      await w.k.run({ until: () => h.status() !== null });
      const entry = normal(fileText(reference.w, `${joe.home}/mbox`) ?? '').slice(oldMbox.length);
      const final = normal(fileText(w, `${joe.home}/mbox`) ?? '');
      if (![oldMbox + entry, oldMbox + entry + entry].includes(final)) partial++;
    }
    expect(partial, 'no seed in 1..60 left a partial entry without the recovery').toBeGreaterThan(0);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
