// The crash model (spec/faults.md) as properties: what was made durable survives every crash,
// `sync` loses nothing, `posix` really can lose what was not made durable, a file's content is its
// durable content plus a prefix of its pending writes (the last one possibly torn at a sector),
// rename is atomic, and ext4-ordered keeps metadata as a prefix in order.
//
// Replay a failure: SEED=<seed> npx vitest run test/sim/fs-crash.test.ts

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { O, S } from '../../impl/sys/types.ts';
import { isSysError } from '../../impl/sys/errors.ts';
import type { SimFs } from '../../sim/fs.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';
import {
  dec, errnoOf, exploreCrashes, hex, listChooser, profiles, readFile, root, snapshot, syncDir, world, writeFile,
} from './fs-util.ts';

const seed = process.env['SEED'] !== undefined ? Number(process.env['SEED']) : Math.floor(Math.random() * 2 ** 31);
const replay = `SEED=${seed} npx vitest run test/sim/fs-crash.test.ts`;
/** Soak: RUNS_SCALE=50 multiplies every property's run count. */
const scale = Number(process.env['RUNS_SCALE'] ?? 1);

/** fc.assert with the run's seed, and the one-line replay command in the failure. */
function check<T>(prop: fc.IProperty<T>, numRuns: number): void {
  try {
    fc.assert(prop, { seed, numRuns: Math.ceil(numRuns * scale), verbose: 1 });
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nReplay: ${replay}`);
  }
}

// ---- a small random workload over two durable directories ----------------------------------------

const dirs = ['/a', '/b'] as const;
interface P {
  d: string;
  n: string;
}
type Step =
  | { k: 'create'; p: P; data: Uint8Array }
  | { k: 'append'; p: P; data: Uint8Array }
  | { k: 'pwrite'; p: P; pos: number; data: Uint8Array }
  | { k: 'trunc'; p: P; len: number }
  | { k: 'fsync'; p: P }
  | { k: 'syncdir'; d: string }
  | { k: 'rename'; p: P; q: P }
  | { k: 'link'; p: P; q: P }
  | { k: 'unlink'; p: P }
  | { k: 'chmod'; p: P; mode: number };

const pathOf = (p: P): string => `${p.d}/${p.n}`;
/** 1..max bytes, sizes drawn without fast-check's small-value bias so writes cross sector
 *  boundaries often; the bytes count up from a random start so a torn write is distinguishable. */
const bytes = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.noBias(fc.integer({ min: 1, max })), fc.nat(255)).map(([n, from]) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff));
const offset = (max: number): fc.Arbitrary<number> => fc.noBias(fc.nat(max));

function stepArb(names: readonly string[], dataOnly = false, metaOnly = false): fc.Arbitrary<Step> {
  const p = fc.record({ d: fc.constantFrom(...dirs), n: fc.constantFrom(...names) });
  const data: fc.Arbitrary<Step>[] = [
    fc.record({ k: fc.constant('append' as const), p, data: bytes(700) }),
    fc.record({ k: fc.constant('pwrite' as const), p, pos: offset(1500), data: bytes(1100) }),
    fc.record({ k: fc.constant('trunc' as const), p, len: offset(1500) }),
    fc.record({ k: fc.constant('fsync' as const), p }),
  ];
  const meta: fc.Arbitrary<Step>[] = [
    fc.record({ k: fc.constant('syncdir' as const), d: fc.constantFrom(...dirs) }),
    fc.record({ k: fc.constant('rename' as const), p, q: p }),
    fc.record({ k: fc.constant('link' as const), p, q: p }),
    fc.record({ k: fc.constant('unlink' as const), p }),
    fc.record({ k: fc.constant('chmod' as const), p, mode: fc.constantFrom(0o600, 0o644, 0o640) }),
  ];
  const create = fc.record({ k: fc.constant('create' as const), p, data: metaOnly ? fc.constant(new Uint8Array(0)) : bytes(900) });
  if (dataOnly) return fc.oneof(...data);
  if (metaOnly) return fc.oneof(create, ...meta);
  return fc.oneof(create, ...data, ...meta);
}

/** What the posix rules promise about each path: any profile must keep at least this. */
class Oracle {
  private t = 0;
  private readonly dirSync = new Map<string, number>(dirs.map((d) => [d, 0]));
  private readonly touched = new Map<string, number>();
  private readonly dataAt = new Map<number, number>();
  private readonly syncAt = new Map<number, number>();

  tick(): number {
    return ++this.t;
  }
  touch(p: P): void {
    this.touched.set(pathOf(p), this.t);
  }
  data(ino: number): void {
    this.dataAt.set(ino, this.t);
  }
  fsync(ino: number): void {
    this.syncAt.set(ino, this.t);
  }
  syncDir(d: string): void {
    this.dirSync.set(d, this.t);
  }

  /** For each path whose entry is durable: the inode it must name, and its bytes if durable too. */
  claims(fs: SimFs, names: readonly string[]): { path: string; ino: number | null; data: string | null }[] {
    const out = [];
    for (const d of dirs) {
      for (const n of names) {
        const path = `${d}/${n}`;
        if ((this.touched.get(path) ?? -1) >= (this.dirSync.get(d) ?? 0)) continue;
        const st = fs.peekStat(path);
        if (st === null) {
          out.push({ path, ino: null, data: null });
          continue;
        }
        const dataAt = this.dataAt.get(st.ino);
        const clean = dataAt === undefined || dataAt < (this.syncAt.get(st.ino) ?? -1);
        out.push({ path, ino: st.ino, data: clean ? hex(fs.peekFile(path)) : null });
      }
    }
    return out;
  }
}

function setup(profile: CrashProfile, sectorSeed = 1): SimFs {
  const { fs } = world(profile, sectorSeed);
  for (const d of dirs) fs.mkdir(root, d, 0o755);
  syncDir(fs, root, '/');
  for (const d of dirs) syncDir(fs, root, d);
  return fs;
}

function inoAt(fs: SimFs, p: P): number | null {
  return fs.peekStat(pathOf(p))?.ino ?? null;
}

/** Runs one step as root; a step that fails (ENOENT, EEXIST...) is skipped, as a daemon would. */
function runStep(fs: SimFs, s: Step, o: Oracle): void {
  try {
    o.tick();
    stepEffect(fs, s, o);
  } catch (e) {
    if (!isSysError(e)) throw e;
  }
}

function stepEffect(fs: SimFs, s: Step, o: Oracle): void {
  switch (s.k) {
    case 'create': {
      const existed = inoAt(fs, s.p);
      const of = fs.open(root, pathOf(s.p), O.CREAT | O.TRUNC | O.WRONLY, 0o644);
      if (existed === null) o.touch(s.p);
      else o.data(of.ino);
      if (s.data.length > 0) o.data(of.ino);
      fs.write(of, s.data, 0, s.data.length, null);
      fs.close(of);
      return;
    }
    case 'append':
    case 'pwrite':
    case 'trunc': {
      const of = fs.open(root, pathOf(s.p), O.WRONLY | (s.k === 'append' ? O.APPEND : 0), 0);
      o.data(of.ino);
      if (s.k === 'trunc') fs.ftruncate(of, s.len);
      else fs.write(of, s.data, 0, s.data.length, s.k === 'pwrite' ? s.pos : null);
      fs.close(of);
      return;
    }
    case 'fsync': {
      const of = fs.open(root, pathOf(s.p), O.RDONLY, 0);
      fs.fsync(of);
      o.fsync(of.ino);
      fs.close(of);
      return;
    }
    case 'syncdir':
      syncDir(fs, root, s.d);
      o.syncDir(s.d);
      return;
    case 'rename':
      fs.rename(root, pathOf(s.p), pathOf(s.q));
      o.touch(s.p);
      o.touch(s.q);
      return;
    case 'link':
      fs.link(root, pathOf(s.p), pathOf(s.q));
      o.touch(s.q);
      return;
    case 'unlink':
      fs.unlink(root, pathOf(s.p));
      o.touch(s.p);
      return;
    case 'chmod':
      fs.chmod(root, pathOf(s.p), s.mode);
      return;
  }
}

const answers = fc.array(fc.noBias(fc.nat(1000)), { maxLength: 60 });
const names3 = ['x', 'y', 'z'];

describe('crash model', () => {
  it.each(profiles)('%s: whatever was made durable survives every crash', (profile) => {
    check(
      fc.property(fc.array(stepArb(names3), { maxLength: 30 }), answers, (steps, ans) => {
        const fs = setup(profile);
        const o = new Oracle();
        for (const s of steps) runStep(fs, s, o);
        fs.checkInvariants();
        const claims = o.claims(fs, names3);
        const chooser = listChooser(ans);
        expect(fs.crash(chooser)).toBe(chooser.calls);
        fs.checkInvariants();
        expect(fs.pendingOps()).toBe(0);
        for (const c of claims) {
          const st = fs.peekStat(c.path);
          expect(st?.ino ?? null, c.path).toBe(c.ino);
          if (c.data !== null) expect(hex(fs.peekFile(c.path)), c.path).toBe(c.data);
        }
        // The world goes on after the crash.
        writeFile(fs, root, '/a/after', 'ok', { sync: true });
        fs.checkInvariants();
      }),
      150,
    );
  });

  it('sync: a crash loses nothing', () => {
    check(
      fc.property(fc.array(stepArb(names3), { maxLength: 30 }), answers, (steps, ans) => {
        const fs = setup('sync');
        const o = new Oracle();
        for (const s of steps) runStep(fs, s, o);
        expect(fs.pendingOps()).toBe(0);
        const before = snapshot(fs);
        expect(fs.crash(listChooser(ans))).toBe(0);
        expect(snapshot(fs)).toEqual(before);
        fs.checkInvariants();
      }),
      100,
    );
  });

  it('posix: an fsynced file whose entry was never dir-fsynced can vanish', () => {
    const build = (): SimFs => {
      const fs = setup('posix');
      writeFile(fs, root, '/a/x', 'hello', { sync: true });
      return fs;
    };
    expect(build().pendingOps()).toBe(1);
    const dropAll = build();
    dropAll.crash(() => 0);
    expect(dropAll.peekStat('/a/x')).toBeNull();
    const keepAll = build();
    keepAll.crash((n) => n - 1);
    expect(dec(keepAll.peekFile('/a/x'))).toBe('hello');
    // Once the directory is fsynced, no choice loses it.
    exploreCrashes(
      () => {
        const fs = build();
        syncDir(fs, root, '/a');
        return fs;
      },
      (fs) => expect(dec(fs.peekFile('/a/x'))).toBe('hello'),
    );
  });

  it('posix: enumerates exactly the crash states of create+write then rename', () => {
    const seen = new Set<string>();
    const runs = exploreCrashes(
      () => {
        const fs = setup('posix');
        writeFile(fs, root, '/a/x', 'hello');
        fs.rename(root, '/a/x', '/a/y');
        expect(fs.pendingOps()).toBe(3);
        return fs;
      },
      (fs) => {
        fs.checkInvariants();
        seen.add(JSON.stringify([...snapshot(fs)].map(([p, s]) => [p, dec(fs.peekFile(p)), s.nlink])));
      },
    );
    expect(runs).toBe(10);
    expect([...seen].sort()).toEqual(
      [
        [['/a', null, 2], ['/b', null, 2]],
        [['/a', null, 2], ['/a/x', '', 1], ['/b', null, 2]],
        [['/a', null, 2], ['/a/x', 'hello', 1], ['/b', null, 2]],
        [['/a', null, 2], ['/a/y', '', 1], ['/b', null, 2]],
        [['/a', null, 2], ['/a/y', 'hello', 1], ['/b', null, 2]],
      ].map((s) => JSON.stringify(s)).sort(),
    );
  });

  it('posix: unsynced metadata (chmod) can be lost, fsynced metadata cannot', () => {
    const fs = setup('posix');
    writeFile(fs, root, '/a/x', 'x', { sync: true });
    syncDir(fs, root, '/a');
    fs.chmod(root, '/a/x', 0o600);
    fs.crash(() => 0);
    expect(fs.peekStat('/a/x')?.mode).toBe(S.IFREG | 0o644);
    fs.chmod(root, '/a/x', 0o600);
    const of = fs.open(root, '/a/x', O.RDONLY, 0);
    fs.fsync(of);
    fs.crash(() => 0);
    expect(fs.peekStat('/a/x')?.mode).toBe(S.IFREG | 0o600);
  });

  it('ext4-ordered: fsync of any file commits every earlier metadata operation', () => {
    const fs = setup('ext4-ordered');
    writeFile(fs, root, '/a/x', 'x');
    writeFile(fs, root, '/b/y', 'y', { sync: true });
    fs.crash(() => 0);
    expect(fs.peekStat('/a/x')?.size).toBe(0);
    expect(dec(fs.peekFile('/b/y'))).toBe('y');
  });

  it.each(['posix', 'ext4-ordered'] as const)(
    '%s: a file holds its durable content plus a prefix of its pending writes, the last maybe torn at 512',
    (profile) => {
      const op = fc.oneof(
        fc.record({ k: fc.constant('w' as const), pos: offset(2500), data: bytes(1300) }),
        fc.record({ k: fc.constant('t' as const), len: offset(2500) }),
        fc.record({ k: fc.constant('m' as const), mode: fc.constantFrom(0o600, 0o640) }),
      );
      check(
        fc.property(fc.uint8Array({ maxLength: 1500 }), fc.array(op, { minLength: 1, maxLength: 6 }), answers, (base, ops, ans) => {
          const fs = setup(profile);
          writeFile(fs, root, '/a/x', base, { sync: true });
          syncDir(fs, root, '/a');
          const of = fs.open(root, '/a/x', O.RDWR, 0);
          for (const o of ops) {
            if (o.k === 'w') fs.write(of, o.data, 0, o.data.length, o.pos);
            else if (o.k === 't') fs.ftruncate(of, o.len);
            else fs.chmod(root, '/a/x', o.mode);
          }
          const allowed = allowedContents(base, ops.filter((o) => o.k !== 'm'));
          fs.crash(listChooser(ans));
          fs.checkInvariants();
          expect(allowed.has(hex(fs.peekFile('/a/x')) as string)).toBe(true);
        }),
        300,
      );
    },
  );

  it.each(['posix', 'ext4-ordered'] as const)('%s: rename of a durable file is atomic across a crash', (profile) => {
    const noise = fc.array(stepArb(['z', 'w']), { maxLength: 8 });
    check(
      fc.property(fc.boolean(), fc.boolean(), noise, noise, answers, (crossDir, targetExists, before, after, ans) => {
        const fs = setup(profile);
        const o = new Oracle();
        const to = crossDir ? '/b/y' : '/a/y';
        writeFile(fs, root, '/a/x', 'moved', { sync: true });
        if (targetExists) writeFile(fs, root, to, 'replaced', { sync: true });
        syncDir(fs, root, '/a');
        syncDir(fs, root, '/b');
        const x = fs.peekStat('/a/x')?.ino;
        const y = fs.peekStat(to)?.ino ?? null;
        for (const s of before) runStep(fs, s, o);
        fs.rename(root, '/a/x', to);
        for (const s of after) runStep(fs, s, o);
        fs.crash(listChooser(ans));
        fs.checkInvariants();
        const atX = fs.peekStat('/a/x')?.ino ?? null;
        const atY = fs.peekStat(to)?.ino ?? null;
        const old = atX === x && atY === y;
        const renamed = atX === null && atY === x;
        expect(old || renamed, `x=${atX} y=${atY}`).toBe(true);
        expect(dec(fs.peekFile(old ? '/a/x' : to))).toBe('moved');
        if (old && targetExists) expect(dec(fs.peekFile(to))).toBe('replaced');
        expect(fs.peekStat(old ? '/a/x' : to)?.nlink).toBe(1);
      }),
      200,
    );
  });

  it('ext4-ordered: metadata survives as a prefix, in the order it was made', () => {
    check(
      fc.property(fc.array(stepArb(names3, false, true), { maxLength: 25 }), answers, (steps, ans) => {
        const fs = setup('ext4-ordered');
        const o = new Oracle();
        const key = (): string => JSON.stringify([...snapshot(fs, false)]);
        let states = [key()];
        for (const s of steps) {
          runStep(fs, s, o);
          // A commit makes every earlier state unreachable.
          if (s.k === 'syncdir') states = [];
          states.push(key());
        }
        fs.crash(listChooser(ans));
        fs.checkInvariants();
        expect(states).toContain(key());
      }),
      200,
    );
  });

  it('posix: a directory fsync drags along the other half of a cross-directory rename', () => {
    const fs = setup('posix');
    writeFile(fs, root, '/a/x', 'x', { sync: true });
    syncDir(fs, root, '/a');
    fs.rename(root, '/a/x', '/b/x');
    syncDir(fs, root, '/b');
    expect(fs.pendingOps()).toBe(0);
    fs.crash(() => 0);
    expect(fs.peekStat('/a/x')).toBeNull();
    expect(dec(fs.peekFile('/b/x'))).toBe('x');
  });

  it('posix: directories caught in a rename cycle vanish, and no directory ever has two names', () => {
    const outcomes = new Set<string>();
    exploreCrashes(
      () => {
        const fs = setup('posix');
        fs.rename(root, '/a', '/b/a');
        fs.rename(root, '/b/a', '/a');
        fs.rename(root, '/b', '/a/b');
        return fs;
      },
      (fs) => {
        fs.checkInvariants();
        outcomes.add([...snapshot(fs).keys()].join(' '));
      },
    );
    // Keeping the first and third renames but not the second would make /a and /b each other's
    // child: unreachable from '/', so both are gone.
    expect([...outcomes].sort()).toEqual(['', '/a /a/b', '/a /b', '/b /b/a'].sort());
  });

  it('keeps inode numbers across a crash and frees the unreachable ones', () => {
    const fs = setup('posix');
    writeFile(fs, root, '/a/keep', 'k', { sync: true });
    syncDir(fs, root, '/a');
    const keep = fs.peekStat('/a/keep')?.ino;
    writeFile(fs, root, '/a/lost', 'l', { sync: true });
    const lost = fs.peekStat('/a/lost')?.ino;
    fs.crash(() => 0);
    expect(fs.peekStat('/a/keep')?.ino).toBe(keep);
    expect(fs.peekStat('/a/lost')).toBeNull();
    expect(readFile(fs, root, '/a/keep')).toBe('k');
    // The lost number is free again (root's chooser for reuse is seeded; try until it shows up).
    const inos = new Set<number>();
    for (let i = 0; i < 20; i++) {
      writeFile(fs, root, `/b/n${i}`, '');
      inos.add(fs.peekStat(`/b/n${i}`)?.ino ?? -1);
    }
    expect(inos.has(lost as number)).toBe(true);
    expect(errnoOf(() => fs.stat(root, '/a/lost'))).toBe('ENOENT');
  });
});

// ---- a random tree: directories made, moved and removed at any depth --------------------------

const treePath = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((c) => `/${c.join('/')}`);
type TreeStep =
  | { k: 'mkdir' | 'rmdir' | 'unlink' | 'fsync' | 'syncdir' | 'create'; p: string }
  | { k: 'rename' | 'link'; p: string; q: string }
  | { k: 'write'; p: string; data: Uint8Array };

function treeStepArb(metaOnly: boolean): fc.Arbitrary<TreeStep> {
  const one = (k: 'mkdir' | 'rmdir' | 'unlink' | 'fsync' | 'syncdir' | 'create'): fc.Arbitrary<TreeStep> =>
    fc.record({ k: fc.constant(k), p: treePath });
  const two = (k: 'rename' | 'link'): fc.Arbitrary<TreeStep> => fc.record({ k: fc.constant(k), p: treePath, q: treePath });
  const meta = [one('mkdir'), one('mkdir'), one('rmdir'), one('unlink'), one('create'), two('rename'), two('rename'), two('link')];
  if (metaOnly) return fc.oneof(...meta, one('syncdir'));
  return fc.oneof(...meta, one('fsync'), one('syncdir'), fc.record({ k: fc.constant('write' as const), p: treePath, data: bytes(700) }));
}

/** Runs one step as root; false if it failed (and so changed nothing). */
function runTreeStep(fs: SimFs, s: TreeStep): boolean {
  try {
    treeStepEffect(fs, s);
    return true;
  } catch (e) {
    if (!isSysError(e)) throw e;
    return false;
  }
}

function treeStepEffect(fs: SimFs, s: TreeStep): void {
  switch (s.k) {
    case 'mkdir': return fs.mkdir(root, s.p, 0o755);
    case 'rmdir': return fs.rmdir(root, s.p);
    case 'unlink': return fs.unlink(root, s.p);
    case 'create': return fs.close(fs.open(root, s.p, O.CREAT | O.WRONLY, 0o644));
    case 'rename': return fs.rename(root, s.p, s.q);
    case 'link': return fs.link(root, s.p, s.q);
    case 'fsync':
    case 'syncdir': {
      const of = fs.open(root, s.p, O.RDONLY, 0);
      fs.fsync(of);
      return fs.close(of);
    }
    case 'write': {
      const of = fs.open(root, s.p, O.WRONLY | O.APPEND, 0);
      fs.write(of, s.data, 0, s.data.length, null);
      return fs.close(of);
    }
  }
}

describe('crash model, random trees', () => {
  it.each(profiles)('%s: any workload of nested directories crashes into a consistent tree', (profile) => {
    check(
      fc.property(fc.array(treeStepArb(false), { maxLength: 40 }), answers, (steps, ans) => {
        const { fs } = world(profile);
        for (const s of steps) runTreeStep(fs, s);
        fs.checkInvariants();
        const chooser = listChooser(ans);
        expect(fs.crash(chooser)).toBe(chooser.calls);
        fs.checkInvariants();
        snapshot(fs);
        for (const s of steps.slice(0, 10)) runTreeStep(fs, s);
        fs.checkInvariants();
      }),
      200,
    );
  });

  it('ext4-ordered: nested metadata survives as a prefix', () => {
    check(
      fc.property(fc.array(treeStepArb(true), { maxLength: 30 }), answers, (steps, ans) => {
        const { fs } = world('ext4-ordered');
        const key = (): string => JSON.stringify([...snapshot(fs, false)]);
        let states = [key()];
        for (const s of steps) {
          if (runTreeStep(fs, s) && s.k === 'syncdir') states = [];
          states.push(key());
        }
        fs.crash(listChooser(ans));
        expect(states).toContain(key());
      }),
      150,
    );
  });
});

/** Reference model for property (4): every content a crash may leave, as hex. */
function allowedContents(base: Uint8Array, ops: readonly ({ k: 'w'; pos: number; data: Uint8Array } | { k: 't'; len: number })[]): Set<string> {
  const apply = (cur: number[], op: (typeof ops)[number]): number[] => {
    const next = [...cur];
    if (op.k === 't') {
      next.length = op.len;
      return Array.from(next, (b) => b ?? 0);
    }
    while (next.length < op.pos) next.push(0);
    op.data.forEach((b, i) => (next[op.pos + i] = b));
    return next;
  };
  const toHex = (a: number[]): string => hex(Uint8Array.from(a)) as string;
  const out = new Set<string>();
  let cur = [...base];
  out.add(toHex(cur));
  for (const op of ops) {
    if (op.k === 'w') {
      for (let cut = (Math.floor(op.pos / 512) + 1) * 512; cut < op.pos + op.data.length; cut += 512) {
        out.add(toHex(apply(cur, { ...op, data: op.data.subarray(0, cut - op.pos) })));
      }
    }
    cur = apply(cur, op);
    out.add(toHex(cur));
  }
  return out;
}
