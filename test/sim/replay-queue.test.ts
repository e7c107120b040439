// Queue replay (sim/replay-queue.ts, scripts/qsim-tree.ts): a queue made by the simulator itself
// (qmail-queue run with the MTA down), exported to a tarball by a small ustar writer here, read back
// by the host reader and delivered under faults; a hand-made qmail-1.03 queue (split 23, some
// recipients already done) read from a directory on the host; and bad input: a truncated or
// corrupt tarball, a message without info, info without mess, a todo leftover.
//
// Replay a failure with the line printed beside it, e.g.
//   SEED=7 npx vitest run test/sim/replay-queue.test.ts -t replay

import { linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { mtaWorld } from '../../sim/scenarios/mta-world.ts';
import type { Kernel } from '../../sim/kernel.ts';
import { replayQueue, ReplayQueueError, type ReplayQueueOpts, type ReplayQueueResult } from '../../sim/replay-queue.ts';
import { planImport, type HostTree, type TreeEntry } from '../../sim/replay-queue-tree.ts';
import { parseTarball, readTree } from '../../scripts/qsim-tree.ts';
import { runCli } from '../../sim/cli.ts';
import { fakeSpawner, SpawnerWorld } from '../../sim/fake-spawner.ts';

const env = process.env;
const tmp = mkdtempSync(join(tmpdir(), 'replay-queue-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const te = new TextEncoder();

// ---- a queue made in the simulator ----

/** Queues `n` messages through the real qmail-queue with qmail not running; returns the world. */
async function simQueue(seed: number, n: number): Promise<Kernel> {
  const w = await mtaWorld({ seed, profile: 'posix', split: 7 });
  const local = ['m1', 'm2', 'm3', 'b1', 'p1', 'f1'];
  for (let i = 0; i < n; i++) {
    const recipients = [`${local[i % local.length]}@sim.example`, ...(i % 3 === 0 ? [`m${1 + (i % 6)}@sim.example`] : [])];
    w.submit({ sender: `sender${i}@sim.example`, recipients });
  }
  await w.k.run({ until: () => w.submitted.every((s) => s.code !== undefined) });
  expect(w.submitted.map((s) => s.code)).toEqual(w.submitted.map(() => 0));
  return w.k;
}

/** The world's tree from `/` (var/qmail, home, and an etc/passwd made from its users). */
function exportTree(k: Kernel, tops: string[], passwd: string): TreeEntry[] {
  const out: TreeEntry[] = [{ path: 'etc', kind: 'dir', mode: 0o755, uid: 0, gid: 0 }, { path: 'etc/passwd', kind: 'file', mode: 0o644, uid: 0, gid: 0, bytes: te.encode(passwd) }];
  const walk = (abs: string): void => {
    const st = k.fs.peekStat(abs);
    if (st === null) return;
    const base = { path: abs.slice(1), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (st.kind === 'dir') {
      out.push({ ...base, kind: 'dir' });
      for (const name of (k.fs.peekDir(abs) ?? []).sort()) walk(`${abs}/${name}`);
    } else if (st.kind === 'file') out.push({ ...base, kind: 'file', bytes: k.fs.peekFile(abs) as Uint8Array });
    else out.push({ ...base, kind: 'other' });
  };
  for (const t of tops) walk(t);
  return out;
}

// ---- a small tar writer (ustar, GNU long names for paths over 100 bytes) ----

function header(name: string, e: Pick<TreeEntry, 'mode' | 'uid' | 'gid'>, size: number, type: string): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, len: number, s: string): void => h.set(te.encode(s).subarray(0, len), off);
  const oct = (off: number, len: number, n: number): void => put(off, len, `${n.toString(8).padStart(len - 1, '0')}\0`);
  put(0, 100, name);
  oct(100, 8, e.mode);
  oct(108, 8, e.uid);
  oct(116, 8, e.gid);
  oct(124, 12, size);
  oct(136, 12, 1_700_000_000);
  put(156, 1, type);
  put(257, 8, 'ustar\x0000');
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function padded(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(b.length / 512) * 512);
  out.set(b);
  return out;
}

function writeTar(entries: readonly TreeEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const name = e.kind === 'dir' ? `${e.path}/` : e.path;
    if (name.length > 100) {
      const long = te.encode(`${name}\0`);
      parts.push(header('././@LongLink', { mode: 0, uid: 0, gid: 0 }, long.length, 'L'), padded(long));
    }
    const bytes = e.kind === 'file' ? (e.bytes ?? new Uint8Array(0)) : new Uint8Array(0);
    parts.push(header(name.slice(0, 100), e, bytes.length, e.kind === 'dir' ? '5' : '0'), padded(bytes));
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function explain(r: ReplayQueueResult, replay: string): string {
  return `seed ${r.seed}: ${r.violations.slice(0, 8).join('; ')}\nnotes: ${r.notes.slice(0, 8).join('; ')}\nreplay: ${replay}`;
}

const simPasswd = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'b1', 'p1', 'f1'].map((n, i) => `${n}:x:${2001 + i}:100::/home/${n}:/bin/sh`).join('\n');

async function simRoundTrip(seed: number, opts: Omit<ReplayQueueOpts, 'seed'>): Promise<ReplayQueueResult> {
  const k = await simQueue(seed, 12);
  // The homes of the world, without their .qmail files: every user gets the default ./Maildir/.
  const entries = exportTree(k, ['/var/qmail'], simPasswd);
  const tarball = gzipSync(writeTar(entries));
  const path = join(tmp, `sim-${seed}.tgz`);
  writeFileSync(path, tarball);
  const tree = readTree(path);
  expect(tree.entries.length).toBe(entries.length);
  return replayQueue(tree, { seed, ...opts });
}

describe('replay-queue: a queue made in the simulator, through a tarball', () => {
  it('every message is delivered (no faults)', async () => {
    const seed = Number(env['SEED'] ?? 11);
    const r = await simRoundTrip(seed, { faults: 0, profile: 'posix' });
    const why = explain(r, `SEED=${seed} npx vitest run test/sim/replay-queue.test.ts -t replay`);
    expect(r.violations, why).toEqual([]);
    expect(r.flavour).toBe('ours');
    expect(r.split).toBe(7);
    expect(r.messages.length).toBe(12);
    expect(r.messages.every((m) => m.state === 'todo')).toBe(true);
    expect(r.outcomes.length).toBe(16);
    expect(r.outcomes.filter((o) => o.outcome !== "delivered"), why).toEqual([]);
    expect(r.counts.delivered, why).toBe(16);
    expect(r.leftovers).toEqual([]);
  }, 120_000);

  it('replay: under power losses and kill -9 (SEED, FAULTS, PROFILE)', async () => {
    const seed = Number(env['SEED'] ?? 5);
    const faults = Number(env['FAULTS'] ?? 4);
    const profile = (env['PROFILE'] ?? 'posix') as ReplayQueueOpts['profile'];
    const replay = `SEED=${seed} FAULTS=${faults} PROFILE=${profile} npx vitest run test/sim/replay-queue.test.ts -t replay`;
    console.log(`replay-queue seed ${seed}; replay: ${replay}`);
    const r = await simRoundTrip(seed, { faults, profile });
    expect(r.violations, explain(r, replay)).toEqual([]);
    expect(Object.values(r.faults).reduce((a, b) => a + b, 0)).toBe(faults);
    if (env['SEED'] === undefined) expect(r.faultsMidDelivery, 'a fault struck while mail was due').toBeGreaterThan(0);
    expect(r.counts.delivered, explain(r, replay)).toBe(16);
    const again = await simRoundTrip(seed, { faults, profile });
    expect(again.traceHash).toBe(r.traceHash);
  }, 300_000);
});

// ---- a hand-made qmail-1.03 queue ----

const nul = '\0';

/** queue/ of qmail-1.03 (split 23), with control/ and users/assign, as files on the host. */
function qmail103(dir: string, extra: (q: string) => void = () => undefined): string {
  const home = join(dir, 'var/qmail');
  const q = join(home, 'queue');
  for (const d of ['mess', 'info', 'local', 'remote']) for (let s = 0; s < 23; s++) mkdirSync(join(q, d, String(s)), { recursive: true });
  for (const d of ['todo', 'intd', 'bounce', 'pid', 'lock']) mkdirSync(join(q, d), { recursive: true });
  writeFileSync(join(q, 'lock/tcpto'), new Uint8Array(1024));
  writeFileSync(join(q, 'lock/sendmutex'), '');
  mkdirSync(join(home, 'control'), { recursive: true });
  mkdirSync(join(home, 'users'), { recursive: true });
  writeFileSync(join(home, 'control/me'), 'mx.example.org\n');
  writeFileSync(join(home, 'control/locals'), 'mx.example.org\nexample.org\n');
  writeFileSync(join(home, 'users/assign'), '=alice:alice:4001:100:/home/alice:::\n=bob:bob:4002:100:/home/bob:::\n+bob-:bob:4002:100:/home/bob:-::\n.\n');
  // bob-lists@ goes through bob's +bob- line: qmail-local needs ~bob/.qmail-lists (from the tree).
  mkdirSync(join(dir, 'home/bob'), { recursive: true });
  writeFileSync(join(dir, 'home/bob/.qmail-lists'), './Maildir/\n');
  const put = (d: string, id: number, text: string, split = true): void => writeFileSync(join(q, d, ...(split ? [String(id % 23)] : []), String(id)), text);
  const mess = (id: number): string => `Received: (qmail 4242 invoked by uid 500); 1 Jan 2024 00:00:00 -0000\nSubject: m${id}\n\nbody of ${id}\n`;
  // 1001: preprocessed; alice done (D), bob due, one remote due.
  put('mess', 1001, mess(1001));
  put('info', 1001, `Fsomeone@example.net${nul}`);
  put('local', 1001, `Dalice@example.org${nul}Tbob@example.org${nul}`);
  put('remote', 1001, `Tfar@elsewhere.example${nul}`);
  // 2002: preprocessed; both local recipients due, bob with an extension.
  put('mess', 2002, mess(2002));
  put('info', 2002, `F${nul}`);
  put('local', 2002, `Talice@mx.example.org${nul}Tbob-lists@example.org${nul}`);
  // 3003: committed, not yet preprocessed (todo and intd, as qmail-queue leaves them).
  put('mess', 3003, mess(3003));
  const todo = `u500${nul}p4242${nul}Fsender@example.net${nul}Talice@example.org${nul}Tbob@mx.example.org${nul}`;
  put('todo', 3003, todo, false);
  put('intd', 3003, todo, false);
  // 4004: every recipient done; the message only waits for qmail-send to finish it.
  put('mess', 4004, mess(4004));
  put('info', 4004, `Fx@example.net${nul}`);
  put('local', 4004, `Dalice@example.org${nul}`);
  extra(q);
  return dir;
}

describe('replay-queue: a qmail-1.03 queue from a directory', () => {
  it('delivers what is due, never what was done, holds remote mail', async () => {
    const dir = qmail103(mkdtempSync(join(tmp, 'q103-')));
    const r = await replayQueue(readTree(dir), { seed: 3, faults: 0, profile: 'posix' });
    const why = explain(r, 'npx vitest run test/sim/replay-queue.test.ts -t qmail-1.03');
    expect(r.violations, why).toEqual([]);
    expect(r.flavour).toBe('qmail-1.03');
    expect(r.split).toBe(23);
    expect(r.usersCreated).toEqual(['alice', 'bob']);
    expect(r.notes).toContain('users/cdb rebuilt from users/assign by qmail-newu');
    const of = (oldId: number, rcpt: string): string | undefined => r.outcomes.find((o) => o.oldId === oldId && o.recipient === rcpt)?.outcome;
    expect(of(1001, 'alice@example.org')).toBe('done-before');
    expect(of(1001, 'bob@example.org')).toBe('delivered');
    expect(of(1001, 'far@elsewhere.example')).toBe('deferred');
    expect(of(2002, 'alice@mx.example.org')).toBe('delivered');
    expect(of(2002, 'bob-lists@example.org')).toBe('delivered');
    expect(of(3003, 'alice@example.org')).toBe('delivered');
    expect(of(3003, 'bob@mx.example.org')).toBe('delivered');
    expect(of(4004, 'alice@example.org')).toBe('done-before');
    expect(r.counts).toMatchObject({ delivered: 5, deferred: 1, 'done-before': 2, bounced: 0, held: 0, none: 0 });
    // alice has 3 messages, bob 3; alice's done copy of 1001 was not delivered again.
    expect(r.logKinds['starting']).toBeGreaterThanOrEqual(6);
  }, 120_000);

  it('ours with BIGTODO (todo/S/ID, intd/S/ID, conf-split beside it): the same outcomes', async () => {
    const dir = qmail103(mkdtempSync(join(tmp, 'qbig-')), (q) => {
      for (const d of ['todo', 'intd']) {
        mkdirSync(join(q, d, String(3003 % 23)), { recursive: true });
        renameSync(join(q, d, '3003'), join(q, d, String(3003 % 23), '3003'));
      }
      writeFileSync(join(q, '../control/conf-split'), '23\n');
      writeFileSync(join(q, '../control/conf-bigtodo'), '1\n');
    });
    const r = await replayQueue(readTree(dir), { seed: 6, faults: 2, profile: 'posix' });
    expect(r.violations, explain(r, 'npx vitest run test/sim/replay-queue.test.ts -t BIGTODO')).toEqual([]);
    expect([r.flavour, r.split, r.bigtodo]).toEqual(['ours', 23, true]);
    expect(r.counts).toMatchObject({ delivered: 5, deferred: 1, 'done-before': 2, none: 0 });
  }, 120_000);

  it('under faults, the same ledger holds', async () => {
    const seed = Number(env['SEED'] ?? 8);
    const dir = qmail103(mkdtempSync(join(tmp, 'q103f-')));
    const r = await replayQueue(readTree(dir), { seed, faults: 3, profile: 'ext4-ordered' });
    expect(r.violations, explain(r, `SEED=${seed} npx vitest run test/sim/replay-queue.test.ts -t faults`)).toEqual([]);
    expect(r.counts.delivered).toBe(5);
  }, 120_000);
});

// ---- the tar reader against GNU tar ----

describe('replay-queue: tarballs made by GNU tar', () => {
  const formats = ['gnu', 'pax', 'ustar'] as const;
  it.each(formats)('--format=%s reads back as the directory does (long names, hard links, owners)', (format) => {
    const dir = qmail103(mkdtempSync(join(tmp, `tar-${format}-`)));
    // A name past ustar's 100 + 155 bytes (GNU L record, pax path), and intd as a hard link of todo.
    const deep = join(dir, 'home/bob', 'd'.repeat(90), 'e'.repeat(90));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, `${'f'.repeat(90)}.txt`), 'deep\n');
    const q = join(dir, 'var/qmail/queue');
    rmSync(join(q, 'intd/3003'));
    linkSync(join(q, 'todo/3003'), join(q, 'intd/3003'));
    const tarball = join(tmp, `q-${format}.tgz`);
    const long = format === 'ustar' ? ['--exclude', 'dddd*'] : [];
    execFileSync('tar', ['-czf', tarball, `--format=${format}`, ...long, '-C', dir, '.']);
    const fromTar = readTree(tarball).entries;
    const fromDir = readTree(dir).entries.filter((e) => format !== 'ustar' || !e.path.includes('dddd'));
    const key = (e: TreeEntry): string => `${e.path} ${e.kind} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.bytes === undefined ? '-' : new TextDecoder().decode(e.bytes)}`;
    expect(fromTar.map(key).sort()).toEqual(fromDir.map(key).sort());
    if (format !== 'ustar') expect(fromTar.some((e) => e.path.endsWith('f.txt') && e.path.length > 255)).toBe(true);
  });
});

describe('replay-queue: the split of a tarball of files alone', () => {
  it('empty split directories left out: conf-split, where the files agree with it', () => {
    const dir = qmail103(mkdtempSync(join(tmp, 'qfiles-')), (q) => writeFileSync(join(q, '../control/conf-split'), '23\n'));
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: dir }).toString().trim().split('\n');
    const tarball = join(tmp, 'files-only.tar');
    execFileSync('tar', ['-cf', tarball, '--no-recursion', '-C', dir, ...files]);
    const tree = readTree(tarball);
    expect(tree.entries.every((e) => e.kind === 'file')).toBe(true);
    const plan = planImport(tree);
    expect([plan.flavour, plan.split, plan.bigtodo]).toEqual(['ours', 23, false]);
    expect(plan.notes.filter((n) => /split/.test(n))).toEqual([]);
    expect(plan.messages.map((m) => m.oldId)).toEqual([1001, 2002, 3003, 4004]);
  });
});

// ---- bad input ----

describe('replay-queue: bad input', () => {
  it('a truncated or corrupt tarball is a clear error', async () => {
    const k = await simQueue(2, 2);
    const tar = writeTar(exportTree(k, ['/var/qmail'], simPasswd));
    expect(() => parseTarball(tar.subarray(0, tar.length - 5000), 't.tar')).toThrow(ReplayQueueError);
    expect(() => parseTarball(tar.subarray(0, tar.length - 5000), 't.tar')).toThrow(/truncated tar/);
    const gz = gzipSync(tar);
    expect(() => parseTarball(gz.subarray(0, gz.length - 10), 't.tgz')).toThrow(/bad gzip data/);
    const bad = tar.slice();
    bad[600] = (bad[600] as number) ^ 0xff; // inside the second header's name
    expect(() => parseTarball(bad, 'b.tar')).toThrow(/checksum/);
    const tree: HostTree = { source: 'empty', entries: [{ path: 'etc', kind: 'dir', mode: 0o755, uid: 0, gid: 0 }] };
    await expect(replayQueue(tree, { seed: 1, faults: 0, profile: 'posix' })).rejects.toThrow(/no qmail queue found/);
  }, 60_000);

  it('orphans and leftovers: reported, recovered as queue-fix and qmail-send would', async () => {
    const dir = qmail103(mkdtempSync(join(tmp, 'qbad-')), (q) => {
      // a message without info (nor todo): a qmail-queue cut short
      writeFileSync(join(q, 'mess', String(5005 % 23), '5005'), 'Received: x\n\nhalf\n');
      // info (and local) without mess
      writeFileSync(join(q, 'info', String(6006 % 23), '6006'), `Fa@b${nul}`);
      writeFileSync(join(q, 'local', String(6006 % 23), '6006'), `Talice@example.org${nul}`);
      // a todo leftover without its mess
      writeFileSync(join(q, 'todo', '7007'), `u1${nul}p2${nul}F${nul}Tbob@example.org${nul}`);
      // a mess file in the wrong split directory
      writeFileSync(join(q, 'mess', '0', '8008'), 'Received: y\n\nmoved\n');
      writeFileSync(join(q, 'todo', '8008'), `u1${nul}p2${nul}Fz@example.net${nul}Talice@example.org${nul}`);
      writeFileSync(join(q, 'pid', '123.4.1'), '');
    });
    const r = await replayQueue(readTree(dir), { seed: 4, faults: 0, profile: 'posix' });
    expect(r.violations, explain(r, 'npx vitest run test/sim/replay-queue.test.ts -t orphans')).toEqual([]);
    expect(r.notes.some((n) => /message 6006: info, local without mess/.test(n))).toBe(true);
    expect(r.notes.some((n) => /message 7007: todo without mess/.test(n))).toBe(true);
    expect(r.notes.some((n) => /mess\/0\/8008: in the wrong split directory/.test(n))).toBe(true);
    expect(r.notes.some((n) => /queue\/pid/.test(n))).toBe(true);
    expect(r.messages.find((m) => m.oldId === 5005)?.state).toBe('uncommitted');
    expect(r.outcomes.find((o) => o.oldId === 8008)?.outcome).toBe('delivered');
    // The uncommitted 5005 was cleaned up by qmail-send (OSSIFIED) during the healed phase.
    expect(r.leftovers.filter((l) => !/\/remote\/|\/info\/|\/mess\//.test(l))).toEqual([]);
  }, 120_000);
});

describe('replay-queue: the checks fail when delivery does', () => {
  it('a local spawner that says yes and delivers nothing is caught; a todo left beside info runs again', async () => {
    const dir = qmail103(mkdtempSync(join(tmp, 'qliar-')));
    const liar = fakeSpawner(new SpawnerWorld(), 'local', () => ({ report: 'Kdid nothing', delayMs: 0 }));
    const r = await replayQueue(readTree(dir), { seed: 1, faults: 0, profile: 'posix', override: { 'qmail-lspawn': liar } });
    expect(r.violations.filter((v) => /by the log, but not in \/home\/(alice|bob)\/Maildir/.test(v)).length, r.violations.join('\n')).toBe(4);
    // A queue whose local/ says alice is done, but whose todo/ was left: preprocessed again, so
    // alice is due again (qmail's own semantics), which the import reports.
    const again = qmail103(mkdtempSync(join(tmp, 'qagain-')), (q) => writeFileSync(join(q, 'todo', '4004'), `u1${nul}p2${nul}Fx@example.net${nul}Talice@example.org${nul}`));
    const r2 = await replayQueue(readTree(again), { seed: 1, faults: 0, profile: 'posix' });
    expect(r2.violations).toEqual([]);
    expect(r2.notes).toContain('message 4004: todo and info both there (preprocessing cut short): preprocessed again from todo');
    expect(r2.outcomes.find((o) => o.oldId === 4004)?.outcome).toBe('delivered');
  }, 120_000);
});

describe('qsim replay-queue', () => {
  it('prints the table, the seed, the commit and a replay line; exit 0', async () => {
    const dir = qmail103(mkdtempSync(join(tmp, 'qcli-')));
    let out = '';
    const code = await runCli({
      argv: ['replay-queue', dir, '--seed', '9', '--faults', '1', '--kinds', 'kill-send'], out: (t) => (out += t), err: (t) => (out += t),
      wallMs: () => 0, freshSeed: () => 1, commit: 'test', io: { readFile: () => '', writeFile: () => undefined, openOut: () => ({ write: () => undefined, close: () => undefined }), progress: () => undefined, cores: () => 1, readTree },
    });
    expect(out).toMatch(/seed 9, commit test/);
    expect(out).toMatch(/recipients\s+8: 5 delivered, 0 bounced, 1 remote deferred, 0 held, 2 done before/);
    expect(out).toContain(`replay: npx tsx scripts/qsim.ts replay-queue ${dir} --seed 9 --faults 1 --profile posix --kinds kill-send`);
    expect(code, out).toBe(0);
    let err = '';
    const bad = await runCli({ argv: ['replay-queue', join(tmp, 'nonexistent')], out: () => undefined, err: (t) => (err += t), wallMs: () => 0, freshSeed: () => 1, commit: 'test', io: { readFile: () => '', writeFile: () => undefined, openOut: () => ({ write: () => undefined, close: () => undefined }), progress: () => undefined, cores: () => 1, readTree } });
    expect(bad).toBe(2);
    expect(err).toMatch(/nonexistent/);
  }, 120_000);
});
