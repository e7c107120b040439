// qmail-queue and the queue, as any local user meets them, written once and run against every
// backend: the simulator (sim-backend.ts) and this host as root with the real qmail users
// (host-backend.ts). Every expectation comes from spec/ (layout, modes, exit codes, limits, the
// Received grammar), never from re-typed literals, so the two worlds are held to one contract.
//
// One installation per layout (BIGTODO off, and on where the backend can), shared by the cases in
// order. A case never assumes an empty queue: it compares the queue's files before and after.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSysError, type Errno } from '../../impl/sys/errors.ts';
import { O, type Fs, type Stat } from '../../impl/sys/types.ts';
import { qq } from '../../spec/exit-codes.ts';
import { addressBytesMax } from '../../spec/limits.ts';
import { isSplit, messageFileModes, messagePath, queueDirs, queueFiles, type QmailUser, type QueueLayout } from '../../spec/queue.ts';
import { receivedLineRe } from '../../spec/received.ts';

export interface Ids {
  uid: number;
  gid: number;
}

export interface ProgramRun {
  /** Exit code, null when killed by a signal. */
  code: number | null;
  pid: number;
  stdout: string;
  stderr: string;
}

export interface QueueWorld {
  home: string;
  /** The installation's queue: its directory, split and BIGTODO. */
  layout: QueueLayout;
  /** uid of each qmail user (and root), the gid of group qmail, and an ordinary user. */
  users: { uids: Record<QmailUser, number>; qmailGid: number; submitter: Ids };
  /** root's Fs: the queue is read through it (list, stat, read are built on it below). */
  root: Fs;
  /** An Fs acting with exactly these credentials. */
  asUser(uid: number, gid: number, groups: number[]): Promise<Fs>;
  /** Runs <home>/bin/qmail-queue as `who` (real uid and gid, no supplementary groups): the
   *  message on its fd 0, the envelope on its fd 1, the environment exactly `env`. */
  queue(who: Ids, message: Uint8Array, envelope: Uint8Array, env?: Record<string, string>): Promise<ProgramRun>;
  /** Runs <home>/bin/<program> as root with QMAILHOME=<home> and these arguments (argv[0] is the
   *  program's name), stdout and stderr captured. */
  run(program: string, args?: string[]): Promise<ProgramRun>;
  /** An absolute path outside the installation, absent, that a hostile environment may name. */
  elsewhere: string;
  cleanup(): Promise<void>;
}

export interface QueueBackend {
  name: string;
  /** Layouts to install: BIGTODO off always; on where it is cheap. */
  bigtodo: readonly boolean[];
  setup(opts: { split: number; bigtodo: boolean }): Promise<QueueWorld>;
  /** Why this backend cannot run here ("needs root: ..."); the suite is then skipped. */
  skip?: string;
}

/** The split the installations get: qmail's conf-split (spec/queue.ts's autoSplit is indimail's). */
const split = 23;
/** Per case: on the host each qmail-queue run is a Node start (about a tenth of a second). */
const caseTimeoutMs = 60_000;
const bigMessageBytes = 3 * 1024 * 1024;
/** Directories whose files are messages (pid files included): what "nothing left" is about. */
const messageDirs = ['pid', 'mess', 'intd', 'todo'] as const;

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const unlatin1 = (b: Uint8Array): string => Array.from(b, (c) => String.fromCharCode(c)).join('');

export function queueSuite(backend: QueueBackend): void {
  const skipped = backend.skip !== undefined;
  for (const bigtodo of backend.bigtodo) {
    const title = `queue conformance: ${backend.name}, BIGTODO ${bigtodo ? 'on' : 'off'}${skipped ? ` (skipped: ${backend.skip})` : ''}`;
    if (skipped) console.warn(title);
    describe.skipIf(skipped)(title, { timeout: caseTimeoutMs }, () => {
      let w: QueueWorld;
      beforeAll(async () => {
        w = await backend.setup({ split, bigtodo });
      });
      afterAll(async () => {
        await w?.cleanup();
      });
      layoutCases(() => w);
      messageCases(() => w);
      envelopeCases(() => w);
      privilegeCases(() => w);
      toolCases(() => w);
    });
  }
}

// ---- reading the queue ----

function q(w: QueueWorld, rel: string): string {
  return rel === '' ? w.layout.dir : `${w.layout.dir}/${rel}`;
}

async function readBytes(fs: Fs, path: string): Promise<Uint8Array> {
  const fd = await fs.open(path, O.RDONLY);
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const buf = new Uint8Array(65_536);
      const n = await fs.read(fd, buf);
      if (n === 0) break;
      parts.push(buf.subarray(0, n));
    }
  } finally {
    await fs.close(fd);
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function errnoOf(p: Promise<unknown>): Promise<Errno | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isSysError(e)) return e.code;
    throw e;
  }
}

/** Every message file (pid, mess, intd, todo), as paths relative to the queue. */
async function messageFiles(w: QueueWorld): Promise<Set<string>> {
  const out = new Set<string>();
  for (const name of messageDirs) {
    const spec = queueDirs.find((d) => d.name === name);
    const subdirs = spec !== undefined && isSplit(spec, w.layout) ? Array.from({ length: w.layout.split }, (_, i) => `${name}/${i}`) : [name];
    for (const dir of subdirs) for (const f of await w.root.readdir(q(w, dir))) out.add(`${dir}/${f}`);
  }
  return out;
}

interface Queued {
  run: ProgramRun;
  /** Message files that appeared. */
  added: string[];
}

/** Runs qmail-queue and reports which message files appeared; none may disappear. */
async function queueAndDiff(w: QueueWorld, who: Ids, message: Uint8Array, envelope: Uint8Array, env?: Record<string, string>): Promise<Queued> {
  const before = await messageFiles(w);
  const run = await w.queue(who, message, envelope, env);
  const after = await messageFiles(w);
  expect([...before].filter((f) => !after.has(f)), 'no message file disappears').toEqual([]);
  return { run, added: [...after].filter((f) => !before.has(f)).sort() };
}

/** Queues a message that must be accepted; returns its id (the mess file's inode number). */
async function queueOk(w: QueueWorld, who: Ids, message: Uint8Array, envelope: Uint8Array, env?: Record<string, string>): Promise<{ id: number; run: ProgramRun }> {
  const { run, added } = await queueAndDiff(w, who, message, envelope, env);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: qq.ok, stderr: '' });
  const mess = added.filter((f) => f.startsWith('mess/'));
  expect(mess, 'exactly one new mess file').toHaveLength(1);
  const id = Number(mess[0]!.slice(mess[0]!.lastIndexOf('/') + 1));
  const paths = ['mess', 'intd', 'todo'].map((d) => messagePath(d, id, w.layout)).sort();
  expect(added, 'mess, intd and todo, where the layout puts them; no pid file left').toEqual(paths);
  return { id, run };
}

function ownerAndMode(st: Stat): { uid: number; mode: number } {
  return { uid: st.uid, mode: st.mode & 0o7777 };
}

// ---- cases ----

function layoutCases(world: () => QueueWorld): void {
  it('every queue directory and split subdirectory has the owner, group and mode of spec/queue.ts', async () => {
    const w = world();
    const want = (owner: QmailUser, mode: number) => ({ kind: 'dir', uid: w.users.uids[owner], gid: w.users.qmailGid, mode });
    for (const d of queueDirs) {
      // Ours beyond qmail (pool/): another qmail's queue has none, and needs none.
      if (d.extension === true && (await errnoOf(w.root.stat(q(w, d.name)))) === 'ENOENT') continue;
      const st = await w.root.stat(q(w, d.name));
      expect({ dir: d.name, kind: st.kind, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ dir: d.name, ...want(d.owner, d.mode) });
      if (!isSplit(d, w.layout)) continue;
      for (let i = 0; i < w.layout.split; i++) {
        const sub = await w.root.stat(q(w, `${d.name}/${i}`));
        expect({ dir: `${d.name}/${i}`, kind: sub.kind, uid: sub.uid, gid: sub.gid, mode: sub.mode & 0o7777 }).toEqual({ dir: `${d.name}/${i}`, ...want(d.owner, d.mode) });
      }
    }
  });

  it('a split directory holds exactly its subdirectories; an unsplit one none', async () => {
    const w = world();
    for (const d of queueDirs.filter((x) => x.name !== '' && x.name !== 'lock')) {
      if (d.extension === true && (await errnoOf(w.root.stat(q(w, d.name)))) === 'ENOENT') continue;
      const names = await w.root.readdir(q(w, d.name));
      if (isSplit(d, w.layout)) {
        expect({ dir: d.name, names: names.map(Number).sort((a, b) => a - b) }).toEqual({ dir: d.name, names: Array.from({ length: w.layout.split }, (_, i) => i) });
        continue;
      }
      const kinds = await Promise.all(names.map(async (n) => (await w.root.lstat(q(w, `${d.name}/${n}`))).kind));
      expect({ dir: d.name, dirs: kinds.filter((k) => k === 'dir').length }).toEqual({ dir: d.name, dirs: 0 });
    }
  });

  it('lock/ holds tcpto, sendmutex and the trigger FIFO, with the owners, modes and bytes of spec/queue.ts', async () => {
    const w = world();
    expect((await w.root.readdir(q(w, 'lock'))).sort()).toEqual(queueFiles.map((f) => f.name.slice('lock/'.length)).sort());
    for (const f of queueFiles) {
      const st = await w.root.lstat(q(w, f.name));
      const kind = f.kind === 'fifo' ? 'fifo' : 'file';
      expect({ name: f.name, kind: st.kind, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ name: f.name, kind, uid: w.users.uids[f.owner], gid: w.users.qmailGid, mode: f.mode });
      if (f.kind === 'zeros') expect(await readBytes(w.root, q(w, f.name))).toEqual(new Uint8Array(f.bytes));
    }
  });
}

/** NUL, 8-bit bytes, a CR, and no final newline: qmail-queue copies bytes, it never parses them. */
const oddMessage = concat([latin1('Subject: bytes\n\nNUL:'), Uint8Array.of(0, 0x80, 0xff, 0xe9, 0x0d), latin1('\nno final newline')]);

function messageCases(world: () => QueueWorld): void {
  it('a message from an ordinary user: mess/<ino % split>/<ino>, qmailq 0644, a Received line with the real uid, then the message byte for byte', async () => {
    const w = world();
    const who = w.users.submitter;
    const { id, run } = await queueOk(w, who, oddMessage, latin1('Fa@example.com\0Tb@example.org\0\0'));
    const path = q(w, messagePath('mess', id, w.layout));
    const st = await w.root.stat(path);
    expect({ ino: st.ino, ...ownerAndMode(st) }).toEqual({ ino: id, uid: w.users.uids[messageFileModes.mess!.owner], mode: messageFileModes.mess!.mode });
    const bytes = await readBytes(w.root, path);
    const nl = bytes.indexOf(0x0a);
    const received = unlatin1(bytes.subarray(0, nl + 1));
    const m = receivedLineRe.exec(received);
    expect(m, received).not.toBeNull();
    expect({ how: m![1], pid: received.split(' ')[2] }).toEqual({ how: `by uid ${who.uid}`, pid: String(run.pid) });
    expect(bytes.subarray(nl + 1)).toEqual(oddMessage);
  });

  it('todo/ID and intd/ID are one inode, qmailq 0644, holding exactly the u, p, F and T records', async () => {
    const w = world();
    const who = w.users.submitter;
    const { id, run } = await queueOk(w, who, latin1('Subject: two\n\nx\n'), latin1('Fs@a.example\0Tr1@b.example\0Tr2@c.example\0\0'));
    const intd = await w.root.stat(q(w, messagePath('intd', id, w.layout)));
    const todo = await w.root.stat(q(w, messagePath('todo', id, w.layout)));
    expect({ ino: todo.ino, nlink: todo.nlink }).toEqual({ ino: intd.ino, nlink: 2 });
    expect(ownerAndMode(todo)).toEqual({ uid: w.users.uids[messageFileModes.todo!.owner], mode: messageFileModes.todo!.mode });
    const records = unlatin1(await readBytes(w.root, q(w, messagePath('todo', id, w.layout))));
    expect(records).toBe(`u${who.uid}\0p${run.pid}\0Fs@a.example\0Tr1@b.example\0Tr2@c.example\0`);
  });

  it('an empty recipient list is queued', async () => {
    const w = world();
    const { id, run } = await queueOk(w, w.users.submitter, latin1('Subject: nobody\n\n'), latin1('F\0\0'));
    const records = unlatin1(await readBytes(w.root, q(w, messagePath('todo', id, w.layout))));
    expect(records).toBe(`u${w.users.submitter.uid}\0p${run.pid}\0F\0`);
  });

  it(`a ${bigMessageBytes}-byte message on fd 0 is read to its end`, async () => {
    const w = world();
    const big = new Uint8Array(bigMessageBytes).map((_, i) => (i * 7 + (i >> 13)) & 0xff);
    const { id } = await queueOk(w, w.users.submitter, big, latin1('Fbig@a.example\0Tr@b.example\0\0'));
    const bytes = await readBytes(w.root, q(w, messagePath('mess', id, w.layout)));
    const nl = bytes.indexOf(0x0a);
    expect(bytes.length - (nl + 1)).toBe(big.length);
    expect(Buffer.compare(bytes.subarray(nl + 1), big)).toBe(0); // toEqual on 3 MB is slow
  });
}

interface BadEnvelope {
  what: string;
  envelope: string;
  code: number;
}

const tooLong = 'x'.repeat(addressBytesMax); // addressBytesMax counts the NUL: one byte too many

const badEnvelopes: readonly BadEnvelope[] = [
  { what: 'first byte not F', envelope: 'Xa@b\0Tc@d\0\0', code: qq.tempEnvelopeFormat },
  { what: 'a record with a bad tag', envelope: 'Fa@b\0Xc@d\0\0', code: qq.tempEnvelopeFormat },
  { what: `a recipient of ${tooLong.length} bytes`, envelope: `Fa@b\0T${tooLong}\0\0`, code: qq.permAddressTooLong },
  { what: `a sender of ${tooLong.length} bytes`, envelope: `F${tooLong}\0Tc@d\0\0`, code: qq.permAddressTooLong },
  { what: 'cut before the final NUL', envelope: 'Fa@b\0Tc@d\0', code: qq.tempReadError },
  { what: 'cut inside an address', envelope: 'Fa@b\0Tc@', code: qq.tempReadError },
];

function envelopeCases(world: () => QueueWorld): void {
  for (const bad of badEnvelopes) {
    it(`envelope ${bad.what}: exit ${bad.code}, nothing left in pid, mess, intd or todo`, async () => {
      const w = world();
      const { run, added } = await queueAndDiff(w, w.users.submitter, latin1('Subject: refused\n\nx\n'), latin1(bad.envelope));
      expect({ code: run.code, added }).toEqual({ code: bad.code, added: [] });
    });
  }

  it(`an address of ${addressBytesMax - 1} bytes (the most) is queued as it is`, async () => {
    const w = world();
    const longest = 'y'.repeat(addressBytesMax - 1);
    const { id } = await queueOk(w, w.users.submitter, latin1('Subject: long\n\n'), latin1(`F${longest}\0T${longest}\0\0`));
    const records = unlatin1(await readBytes(w.root, q(w, messagePath('todo', id, w.layout))));
    expect(records.endsWith(`\0F${longest}\0T${longest}\0`)).toBe(true);
  });
}

function privilegeCases(world: () => QueueWorld): void {
  it('an ordinary user cannot create files in the queue directly (EACCES)', async () => {
    const w = world();
    const who = w.users.submitter;
    const user = await w.asUser(who.uid, who.gid, [who.gid]);
    for (const dir of ['todo', 'intd', 'pid', 'mess/0']) {
      const path = q(w, `${dir}/direct`);
      expect({ dir, errno: await errnoOf(user.open(path, O.WRONLY | O.CREAT | O.EXCL, 0o644)) }).toEqual({ dir, errno: 'EACCES' });
      expect(await errnoOf(w.root.lstat(path))).toBe('ENOENT');
    }
  });

  it('a hostile environment (QMAILHOME, QUEUEDIR, CONFSPLIT, BIGTODO, NODE_OPTIONS) is ignored: the message lands in the real queue', async () => {
    const w = world();
    const who = w.users.submitter;
    const env = {
      PATH: '/usr/bin:/bin',
      QMAILHOME: w.elsewhere,
      QUEUEDIR: `${w.elsewhere}/queue`,
      CONFSPLIT: '1',
      BIGTODO: w.layout.bigtodo ? '0' : '1',
      NODE_OPTIONS: '--require /nonexistent.js', // would stop Node from starting if it got through
    };
    const { id, run } = await queueOk(w, who, latin1('Subject: hostile\n\nx\n'), latin1('Fe@v.example\0Til@x.example\0\0'), env);
    const records = unlatin1(await readBytes(w.root, q(w, messagePath('todo', id, w.layout))));
    expect(records).toBe(`u${who.uid}\0p${run.pid}\0Fe@v.example\0Til@x.example\0`);
    expect(await errnoOf(w.root.lstat(w.elsewhere))).toBe('ENOENT');
  });
}

function toolCases(world: () => QueueWorld): void {
  it('qmail-qstat counts every message as in the queue and not yet preprocessed', async () => {
    const w = world();
    await queueOk(w, w.users.submitter, latin1('Subject: count me\n\n'), latin1('Fa@b\0Tc@d\0\0'));
    const files = [...(await messageFiles(w))];
    const count = (dir: string) => files.filter((f) => f.startsWith(`${dir}/`)).length;
    expect(count('todo')).toBe(count('mess')); // nothing has left todo: there is no qmail-send
    const r = await w.run('qmail-qstat');
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `messages in queue: ${count('mess')}\nmessages in queue but not yet preprocessed: ${count('todo')}\n` });
  });

  it('qmail-qread lists nothing while every message is still in todo (it reads info/)', async () => {
    const w = world();
    expect((await messageFiles(w)).size).toBeGreaterThan(0);
    expect(await w.run('qmail-qread')).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('queue-fix -n finds the queue sound after all of this', async () => {
    const w = world();
    expect(await w.run('queue-fix', ['-n'])).toMatchObject({ code: 0, stdout: '' });
  });
}
