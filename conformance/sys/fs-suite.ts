// File-system behaviour the daemons rely on, written once and run against every Fs backend: real
// Linux (host-backend.ts, as root with real uids) and the simulator. A case that fails on the sim
// and passes on the host is a simulator bug; the host run is the reference.
//
// Each case gets a fresh world: `dir` is an empty directory, mode 0755, owned by root; `root` acts
// as uid 0; `asUser` acts with exactly the given credentials. users[0] and users[1] are ordinary
// uids with different primary gids (users[0].gid serves as "the group" in group cases).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSysError, type Errno } from '../../impl/sys/errors.ts';
import { O, type Fs } from '../../impl/sys/types.ts';

export interface FsWorld {
  root: Fs;
  asUser(uid: number, gid: number, groups: number[]): Promise<Fs>;
  /** A fresh empty directory, mode 0755, owned by root. */
  dir: string;
  cleanup(): Promise<void>;
}

export interface FsBackend {
  name: string;
  setup(): Promise<FsWorld>;
  /** Two ordinary uids for permission cases, with different primary gids. */
  users: { uid: number; gid: number }[];
  /** Why this backend cannot run here (e.g. "needs root: ..."); the suite is then skipped. */
  skip?: string;
}

/** Per-case bound: the host starts an agent process per user (about half a second each). */
const caseTimeoutMs = 30_000;
/** "Promptly": a trigger with no reader must not wait for one. */
const triggerPromptMs = 2_000;

const text = new TextEncoder();
const untext = new TextDecoder();

async function writeFile(fs: Fs, path: string, content: string, mode = 0o644): Promise<void> {
  const fd = await fs.open(path, O.WRONLY | O.CREAT | O.TRUNC, mode);
  const bytes = text.encode(content);
  let off = 0;
  while (off < bytes.length) off += await fs.write(fd, bytes, off, bytes.length - off);
  await fs.close(fd);
}

async function readFile(fs: Fs, path: string): Promise<string> {
  const fd = await fs.open(path, O.RDONLY);
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = await fs.read(fd, buf);
    if (n === 0) break;
    parts.push(buf.subarray(0, n));
  }
  await fs.close(fd);
  return parts.map((p) => untext.decode(p)).join('');
}

/** Resolves to the errno the promise failed with; fails the case if it succeeded or threw a non-SysError. */
async function errnoOf(p: Promise<unknown>): Promise<Errno> {
  try {
    await p;
  } catch (e) {
    if (isSysError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a SysError, but the call succeeded');
}

export function fsSuite(backend: FsBackend): void {
  const title = `fs conformance: ${backend.name}${backend.skip === undefined ? '' : ` (skipped: ${backend.skip})`}`;
  if (backend.skip !== undefined) console.warn(`${title}`);
  describe.skipIf(backend.skip !== undefined)(title, { timeout: caseTimeoutMs }, () => {
    let w: FsWorld;
    beforeEach(async () => {
      w = await backend.setup();
    });
    afterEach(async () => {
      await w.cleanup();
    });
    const user = (i: 0 | 1): { uid: number; gid: number } => {
      const u = backend.users[i];
      if (u === undefined) throw new Error(`backend ${backend.name} has no users[${i}]`);
      return u;
    };
    const asPlain = (i: 0 | 1): Promise<Fs> => w.asUser(user(i).uid, user(i).gid, [user(i).gid]);

    it('backend gives two users with different gids', () => {
      expect(user(0).uid).not.toBe(user(1).uid);
      expect(user(0).gid).not.toBe(user(1).gid);
      expect(user(0).uid).not.toBe(0);
      expect(user(1).uid).not.toBe(0);
    });

    namespaceCases(() => w);
    linkCases(() => w);
    permissionCases(() => w, user, asPlain);
    triggerCases(() => w);
    directoryCases(() => w);
  });
}

function namespaceCases(world: () => FsWorld): void {
  it('O_EXCL create of an existing name fails with EEXIST and leaves the file alone', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/a`, 'first');
    expect(await errnoOf(root.open(`${dir}/a`, O.WRONLY | O.CREAT | O.EXCL, 0o644))).toBe('EEXIST');
    expect(await readFile(root, `${dir}/a`)).toBe('first');
  });

  it('open of a missing name is ENOENT; through a file is ENOTDIR; a directory for writing is EISDIR', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/f`, '');
    expect(await errnoOf(root.open(`${dir}/missing`, O.RDONLY))).toBe('ENOENT');
    expect(await errnoOf(root.open(`${dir}/nodir/x`, O.WRONLY | O.CREAT, 0o644))).toBe('ENOENT');
    expect(await errnoOf(root.open(`${dir}/f/x`, O.RDONLY))).toBe('ENOTDIR');
    expect(await errnoOf(root.open(dir, O.WRONLY))).toBe('EISDIR');
  });

  it('created files and directories get the mode asked for (owner-only modes, so any umask keeps them)', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o700);
    const fd = await root.open(`${dir}/f`, O.WRONLY | O.CREAT | O.EXCL, 0o600);
    await root.close(fd);
    const d = await root.stat(`${dir}/d`);
    const f = await root.stat(`${dir}/f`);
    expect([d.kind, d.mode & 0o7777]).toEqual(['dir', 0o700]);
    expect([f.kind, f.mode & 0o7777]).toEqual(['file', 0o600]);
  });

  it('write at a position and read back; fstat size follows', async () => {
    const { root, dir } = world();
    const fd = await root.open(`${dir}/f`, O.RDWR | O.CREAT | O.EXCL, 0o600);
    expect(await root.write(fd, text.encode('hello world'))).toBe(11);
    expect(await root.write(fd, text.encode('W'), 0, 1, 6)).toBe(1);
    const buf = new Uint8Array(32);
    expect(await root.read(fd, buf, 0, 32, 0)).toBe(11);
    expect(untext.decode(buf.subarray(0, 11))).toBe('hello World');
    expect((await root.fstat(fd)).size).toBe(11);
    await root.ftruncate(fd, 5);
    expect((await root.fstat(fd)).size).toBe(5);
    await root.close(fd);
  });
}

function linkCases(world: () => FsWorld): void {
  it('link onto an existing name fails with EEXIST', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/a`, 'a');
    await writeFile(root, `${dir}/b`, 'b');
    expect(await errnoOf(root.link(`${dir}/a`, `${dir}/b`))).toBe('EEXIST');
    expect(await readFile(root, `${dir}/b`)).toBe('b');
  });

  it('a link is the same inode: same ino, nlink 2, unlinking one name keeps the other', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/a`, 'content');
    await root.link(`${dir}/a`, `${dir}/b`);
    const a = await root.stat(`${dir}/a`);
    const b = await root.stat(`${dir}/b`);
    expect(b.ino).toBe(a.ino);
    expect([a.nlink, b.nlink]).toEqual([2, 2]);
    expect(Number.isSafeInteger(a.ino)).toBe(true);
    await root.unlink(`${dir}/a`);
    const after = await root.stat(`${dir}/b`);
    expect([after.ino, after.nlink]).toEqual([a.ino, 1]);
    expect(await readFile(root, `${dir}/b`)).toBe('content');
    expect(await errnoOf(root.stat(`${dir}/a`))).toBe('ENOENT');
  });

  it('link of a directory is EPERM', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o755);
    expect(await errnoOf(root.link(`${dir}/d`, `${dir}/e`))).toBe('EPERM');
  });

  it('rename over an existing file replaces it: new content under the target, source gone', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/new`, 'new');
    await writeFile(root, `${dir}/target`, 'old');
    const ino = (await root.stat(`${dir}/new`)).ino;
    await root.rename(`${dir}/new`, `${dir}/target`);
    expect(await readFile(root, `${dir}/target`)).toBe('new');
    expect((await root.stat(`${dir}/target`)).ino).toBe(ino);
    expect(await errnoOf(root.stat(`${dir}/new`))).toBe('ENOENT');
    expect((await root.readdir(dir)).sort()).toEqual(['target']);
  });

  it('an open fd keeps reading an unlinked file', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/f`, 'still here');
    const fd = await root.open(`${dir}/f`, O.RDONLY);
    await root.unlink(`${dir}/f`);
    const buf = new Uint8Array(32);
    const n = await root.read(fd, buf);
    expect(untext.decode(buf.subarray(0, n))).toBe('still here');
    expect((await root.fstat(fd)).nlink).toBe(0);
    await root.close(fd);
  });
}

type UserOf = (i: 0 | 1) => { uid: number; gid: number };

function permissionCases(world: () => FsWorld, user: UserOf, asPlain: (i: 0 | 1) => Promise<Fs>): void {
  it('EACCES: an ordinary user opening a 0600 file of another uid (the owner can)', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/f`, 'secret', 0o600);
    await root.chown(`${dir}/f`, user(0).uid, user(0).gid);
    await root.chmod(`${dir}/f`, 0o600);
    const owner = await asPlain(0);
    const other = await asPlain(1);
    expect(await readFile(owner, `${dir}/f`)).toBe('secret');
    expect(await errnoOf(other.open(`${dir}/f`, O.RDONLY))).toBe('EACCES');
    expect(await errnoOf(other.open(`${dir}/f`, O.WRONLY))).toBe('EACCES');
  });

  it('EACCES: an ordinary user creating, linking or removing in a 0755 dir owned by root', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/f`, 'x');
    const u = await asPlain(0);
    expect(await errnoOf(u.open(`${dir}/new`, O.WRONLY | O.CREAT | O.EXCL, 0o644))).toBe('EACCES');
    expect(await errnoOf(u.mkdir(`${dir}/d`, 0o755))).toBe('EACCES');
    expect(await errnoOf(u.unlink(`${dir}/f`))).toBe('EACCES');
    expect(await errnoOf(u.rename(`${dir}/f`, `${dir}/g`))).toBe('EACCES');
    expect(await readFile(u, `${dir}/f`)).toBe('x');
  });

  it('EACCES: an ordinary user traversing or listing a 0700 dir of another uid', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o700);
    await writeFile(root, `${dir}/d/f`, 'x', 0o644);
    const u = await asPlain(0);
    expect(await errnoOf(u.stat(`${dir}/d/f`))).toBe('EACCES');
    expect(await errnoOf(u.open(`${dir}/d/f`, O.RDONLY))).toBe('EACCES');
    expect(await errnoOf(u.readdir(`${dir}/d`))).toBe('EACCES');
    expect((await u.stat(`${dir}/d`)).kind).toBe('dir');
  });

  it('a new file belongs to its creator: uid and effective gid', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/home`, 0o755);
    await root.chown(`${dir}/home`, user(0).uid, user(0).gid);
    const u = await asPlain(0);
    await writeFile(u, `${dir}/home/f`, 'mine', 0o600);
    const st = await root.stat(`${dir}/home/f`);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([user(0).uid, user(0).gid, 0o600]);
  });

  it('group permission: a member by gid or by supplementary group reads a 0640 file; a non-member cannot', async () => {
    const { root, dir } = world();
    const group = user(0).gid;
    const other = user(1);
    await writeFile(root, `${dir}/f`, 'for the group', 0o640);
    await root.chown(`${dir}/f`, user(0).uid, group);
    await root.chmod(`${dir}/f`, 0o640);
    const byGid = await world().asUser(other.uid, group, [group]);
    const bySupplementary = await world().asUser(other.uid, other.gid, [other.gid, group]);
    const outsider = await world().asUser(other.uid, other.gid, [other.gid]);
    expect(await readFile(byGid, `${dir}/f`)).toBe('for the group');
    expect(await readFile(bySupplementary, `${dir}/f`)).toBe('for the group');
    expect(await errnoOf(outsider.open(`${dir}/f`, O.RDONLY))).toBe('EACCES');
    expect(await errnoOf(bySupplementary.open(`${dir}/f`, O.WRONLY))).toBe('EACCES');
  });

  it('group permission on a directory: a supplementary member creates in a 0770 dir; the file takes the egid', async () => {
    const { root, dir } = world();
    const group = user(0).gid;
    const other = user(1);
    await root.mkdir(`${dir}/g`, 0o770);
    await root.chown(`${dir}/g`, 0, group);
    await root.chmod(`${dir}/g`, 0o770);
    const member = await world().asUser(other.uid, other.gid, [other.gid, group]);
    await writeFile(member, `${dir}/g/f`, 'x', 0o600);
    const st = await root.stat(`${dir}/g/f`);
    expect([st.uid, st.gid]).toEqual([other.uid, other.gid]);
    const outsider = await asPlain(1);
    expect(await errnoOf(outsider.open(`${dir}/g/h`, O.WRONLY | O.CREAT, 0o600))).toBe('EACCES');
  });

  it('root bypasses mode bits: reads and writes a 0000 file and enters a 0700 dir of another uid', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o700);
    await writeFile(root, `${dir}/d/f`, 'x', 0o000);
    await root.chmod(`${dir}/d/f`, 0o000);
    await root.chown(`${dir}/d/f`, user(0).uid, user(0).gid);
    await root.chown(`${dir}/d`, user(0).uid, user(0).gid);
    const fd = await root.open(`${dir}/d/f`, O.RDWR);
    await root.close(fd);
    expect(await readFile(root, `${dir}/d/f`)).toBe('x');
    expect(await root.readdir(`${dir}/d`)).toEqual(['f']);
  });
}

function triggerCases(world: () => FsWorld): void {
  it('trigger on a FIFO with no reader returns promptly and does not throw', async () => {
    const { root, dir } = world();
    await root.mkfifo(`${dir}/trigger`, 0o622);
    const started = Date.now();
    await root.trigger(`${dir}/trigger`);
    expect(Date.now() - started).toBeLessThan(triggerPromptMs);
    expect((await root.stat(`${dir}/trigger`)).kind).toBe('fifo');
  });

  it('trigger on a FIFO with a reader delivers exactly one NUL byte per call', async () => {
    const { root, dir } = world();
    await root.mkfifo(`${dir}/trigger`, 0o622);
    // qmail-send's trigger_set: the reader opens O_RDONLY|O_NONBLOCK, so the open does not wait.
    const fd = await root.open(`${dir}/trigger`, O.RDONLY | O.NONBLOCK);
    await root.trigger(`${dir}/trigger`);
    const buf = new Uint8Array(16).fill(0xff);
    expect(await root.read(fd, buf)).toBe(1);
    expect(buf[0]).toBe(0);
    await root.trigger(`${dir}/trigger`);
    await root.trigger(`${dir}/trigger`);
    expect(await root.read(fd, buf)).toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([0, 0]);
    // No writer has it open any more: a non-blocking read sees end of file, not EAGAIN.
    expect(await root.read(fd, buf)).toBe(0);
    await root.close(fd);
  });

  it('a non-blocking FIFO reader with a writer but no data gets EAGAIN', async () => {
    const { root, dir } = world();
    await root.mkfifo(`${dir}/fifo`, 0o600);
    const r = await root.open(`${dir}/fifo`, O.RDONLY | O.NONBLOCK);
    const wfd = await root.open(`${dir}/fifo`, O.WRONLY | O.NONBLOCK);
    expect(await errnoOf(root.read(r, new Uint8Array(4)))).toBe('EAGAIN');
    await root.close(wfd);
    await root.close(r);
  });

  it('a non-blocking write-open of a FIFO with no reader is ENXIO', async () => {
    const { root, dir } = world();
    await root.mkfifo(`${dir}/fifo`, 0o600);
    expect(await errnoOf(root.open(`${dir}/fifo`, O.WRONLY | O.NONBLOCK))).toBe('ENXIO');
  });

  it('trigger on a missing path does not throw', async () => {
    const { root, dir } = world();
    await root.trigger(`${dir}/no-such-trigger`);
    expect(await root.readdir(dir)).toEqual([]);
  });

  it('mkfifo onto an existing name is EEXIST', async () => {
    const { root, dir } = world();
    await writeFile(root, `${dir}/f`, '');
    expect(await errnoOf(root.mkfifo(`${dir}/f`, 0o600))).toBe('EEXIST');
  });
}

function directoryCases(world: () => FsWorld): void {
  it('readdir returns exactly the names, without . and ..', async () => {
    const { root, dir } = world();
    for (const name of ['c', 'a', 'b']) await writeFile(root, `${dir}/${name}`, name);
    await root.mkdir(`${dir}/d`, 0o755);
    expect((await root.readdir(dir)).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(await root.readdir(`${dir}/d`)).toEqual([]);
  });

  it('unlink of a directory is EISDIR; rmdir of a file is ENOTDIR', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o755);
    await writeFile(root, `${dir}/f`, '');
    expect(await errnoOf(root.unlink(`${dir}/d`))).toBe('EISDIR');
    expect(await errnoOf(root.rmdir(`${dir}/f`))).toBe('ENOTDIR');
  });

  it('rmdir of a non-empty directory is ENOTEMPTY; of an empty one succeeds', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o755);
    await writeFile(root, `${dir}/d/f`, '');
    expect(await errnoOf(root.rmdir(`${dir}/d`))).toBe('ENOTEMPTY');
    await root.unlink(`${dir}/d/f`);
    await root.rmdir(`${dir}/d`);
    expect(await errnoOf(root.stat(`${dir}/d`))).toBe('ENOENT');
  });

  it('mkdir of an existing name is EEXIST', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/d`, 0o755);
    expect(await errnoOf(root.mkdir(`${dir}/d`, 0o755))).toBe('EEXIST');
  });

  it('fsync of a file and syncDir of its directory succeed', async () => {
    const { root, dir } = world();
    await root.mkdir(`${dir}/q`, 0o750);
    const fd = await root.open(`${dir}/q/m`, O.WRONLY | O.CREAT | O.EXCL, 0o644);
    await root.write(fd, text.encode('message'));
    await root.fsync(fd);
    await root.close(fd);
    await root.syncDir(`${dir}/q`);
    await root.syncDir(dir);
    expect(await errnoOf(root.syncDir(`${dir}/missing`))).toBe('ENOENT');
  });
}
