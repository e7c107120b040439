// Shared helpers for the SimFs tests: credentials, a world with a settable clock, whole-file IO,
// and a snapshot of the visible tree for comparing states across a crash.

import { SimFs } from '../../sim/fs.ts';
import type { Chooser, CrashProfile, Ctx } from '../../sim/fs-api.ts';
import { Prng } from '../../sim/prng.ts';
import { O } from '../../impl/sys/types.ts';
import { isSysError } from '../../impl/sys/errors.ts';

export const profiles: CrashProfile[] = ['sync', 'posix', 'ext4-ordered'];

export function ctxOf(uid: number, gid: number, groups: number[] = [gid], umask = 0o022, cwd = '/'): Ctx {
  return { cred: { uid, gid, groups }, cwd, umask };
}

export const root = ctxOf(0, 0);

export interface World {
  fs: SimFs;
  clock: { t: number };
}

export function world(profile: CrashProfile = 'sync', seed = 1, choose?: Chooser): World {
  const prng = new Prng(seed, 'fs');
  const clock = { t: 1_700_000_000_000 };
  const fs = new SimFs({ profile, choose: choose ?? ((n) => prng.int(n)), nowMs: () => clock.t });
  return { fs, clock };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

/** open(O_CREAT|O_TRUNC|O_WRONLY), write, optionally fsync, close. */
export function writeFile(fs: SimFs, ctx: Ctx, path: string, data: Uint8Array | string, opts: { sync?: boolean; mode?: number } = {}): void {
  const bytes = typeof data === 'string' ? enc(data) : data;
  const of = fs.open(ctx, path, O.CREAT | O.TRUNC | O.WRONLY, opts.mode ?? 0o644);
  fs.write(of, bytes, 0, bytes.length, null);
  if (opts.sync === true) fs.fsync(of);
  fs.close(of);
}

export function readFile(fs: SimFs, ctx: Ctx, path: string): string {
  const of = fs.open(ctx, path, O.RDONLY, 0);
  const chunks: number[] = [];
  const buf = new Uint8Array(100);
  for (let n; (n = fs.read(of, buf, 0, buf.length, null)) > 0; ) chunks.push(...buf.subarray(0, n));
  fs.close(of);
  return new TextDecoder().decode(new Uint8Array(chunks));
}

export function syncDir(fs: SimFs, ctx: Ctx, path: string): void {
  const of = fs.open(ctx, path, O.RDONLY | O.DIRECTORY, 0);
  fs.fsync(of);
  fs.close(of);
}

/** The errno a call throws, or 'ok'. */
export function errnoOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isSysError(e)) return e.code;
    throw e;
  }
}

export interface Seen {
  ino: number;
  kind: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  data: string | null;
}

/** Every path reachable from '/', through peek* (no permission checks, no atime). */
export function snapshot(fs: SimFs, withData = true): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const walk = (dir: string): void => {
    for (const name of fs.peekDir(dir) ?? []) {
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = fs.peekStat(path);
      if (st === null) throw new Error(`snapshot: ${path} listed but not statable`);
      const data = withData && st.kind === 'file' ? hex(fs.peekFile(path)) : null;
      out.set(path, { ino: st.ino, kind: st.kind, mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, data });
      if (st.kind === 'dir') walk(path);
    }
  };
  walk('/');
  return out;
}

export function hex(b: Uint8Array | null): string | null {
  return b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** A chooser that answers from a list (each answer mod n), then "everything survives" (n-1). */
export function listChooser(answers: readonly number[]): Chooser & { calls: number } {
  const f = Object.assign(
    (n: number): number => {
      const a = answers[f.calls++];
      return a === undefined ? n - 1 : a % n;
    },
    { calls: 0 },
  );
  return f;
}

/** Every answer sequence of one crash, depth first: builds a fresh world per sequence. */
export function exploreCrashes(build: () => SimFs, visit: (fs: SimFs, answers: number[]) => void, maxRuns = 100_000): number {
  const forced: { n: number; a: number }[] = [];
  for (let runs = 1; ; runs++) {
    if (runs > maxRuns) throw new Error('exploreCrashes: too many states');
    const fs = build();
    let i = 0;
    const made = fs.crash((n) => {
      const f = forced[i];
      i++;
      if (f !== undefined) {
        if (f.n !== n) throw new Error(`exploreCrashes: choice ${i - 1} asked ${n}, replay had ${f.n}`);
        return f.a;
      }
      forced.push({ n, a: 0 });
      return 0;
    });
    if (made !== i) throw new Error(`crash() said ${made} choices, made ${i}`);
    visit(fs, forced.slice(0, i).map((f) => f.a));
    forced.length = i;
    while (forced.length > 0 && forced[forced.length - 1]!.a === forced[forced.length - 1]!.n - 1) forced.pop();
    if (forced.length === 0) return runs;
    forced[forced.length - 1]!.a++;
  }
}
