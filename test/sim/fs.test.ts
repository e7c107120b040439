// SimFs semantics: the Linux behaviours the daemons rely on, run under every crash profile (the
// profiles differ only in what a crash keeps, never in live behaviour), with the durability
// bookkeeping checked after every test.

import { afterEach, describe, expect, it } from 'vitest';
import { O, S } from '../../impl/sys/types.ts';
import type { SimFs } from '../../sim/fs.ts';
import { ctxOf, dec, enc, errnoOf, profiles, readFile, root, syncDir, world, writeFile, type World } from './fs-util.ts';

const alice = ctxOf(1000, 100);
const bob = ctxOf(1001, 100);
const carol = ctxOf(1002, 200, [200, 50]);

describe.each(profiles)('SimFs semantics (%s)', (profile) => {
  let w: World;
  let fs: SimFs;
  const fresh = (seed = 1, choose?: (n: number) => number): void => {
    w = world(profile, seed, choose);
    fs = w.fs;
  };
  fresh();
  afterEach(() => fs.checkInvariants());

  it('starts with a durable root directory owned by root, mode 0755', () => {
    fresh();
    const st = fs.stat(root, '/');
    expect(st).toMatchObject({ ino: 2, kind: 'dir', mode: S.IFDIR | 0o755, uid: 0, gid: 0, nlink: 2, dev: 1 });
    expect(fs.pendingOps()).toBe(0);
  });

  it('O_CREAT|O_EXCL fails with EEXIST on any existing name, even a dangling symlink', () => {
    fresh();
    writeFile(fs, root, '/f', 'x');
    expect(errnoOf(() => fs.open(root, '/f', O.CREAT | O.EXCL | O.WRONLY, 0o644))).toBe('EEXIST');
    fs.symlink(root, '/nowhere', '/dangling');
    expect(errnoOf(() => fs.open(root, '/dangling', O.CREAT | O.EXCL | O.WRONLY, 0o644))).toBe('EEXIST');
    // Without O_EXCL, O_CREAT through a dangling symlink creates its target.
    fs.close(fs.open(root, '/dangling', O.CREAT | O.WRONLY, 0o644));
    expect(fs.stat(root, '/nowhere').kind).toBe('file');
  });

  it('link onto an existing name fails with EEXIST; a directory cannot be linked', () => {
    fresh();
    writeFile(fs, root, '/a', 'a');
    writeFile(fs, root, '/b', 'b');
    expect(errnoOf(() => fs.link(root, '/a', '/b'))).toBe('EEXIST');
    fs.mkdir(root, '/d', 0o755);
    expect(errnoOf(() => fs.link(root, '/d', '/d2'))).toBe('EPERM');
    expect(errnoOf(() => fs.link(root, '/missing', '/c'))).toBe('ENOENT');
  });

  it('keeps inode identity across link: same ino, nlink 2, data shared', () => {
    fresh();
    writeFile(fs, root, '/a', 'hello');
    fs.link(root, '/a', '/b');
    const a = fs.stat(root, '/a');
    const b = fs.stat(root, '/b');
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    fs.unlink(root, '/a');
    expect(fs.stat(root, '/b').nlink).toBe(1);
    expect(readFile(fs, root, '/b')).toBe('hello');
  });

  it('rename over a file replaces it atomically and frees the old inode', () => {
    fresh(1, () => 0);
    writeFile(fs, root, '/new', 'new');
    writeFile(fs, root, '/old', 'old');
    const newIno = fs.stat(root, '/new').ino;
    const oldIno = fs.stat(root, '/old').ino;
    fs.rename(root, '/new', '/old');
    expect(fs.stat(root, '/old').ino).toBe(newIno);
    expect(readFile(fs, root, '/old')).toBe('new');
    expect(errnoOf(() => fs.stat(root, '/new'))).toBe('ENOENT');
    if (profile !== 'sync') syncDir(fs, root, '/');
    // The chooser always answers 0, so the first freed number is the next one handed out.
    writeFile(fs, root, '/next', '');
    expect(fs.stat(root, '/next').ino).toBe(oldIno);
  });

  it('rename of two names of one inode does nothing', () => {
    fresh();
    writeFile(fs, root, '/a', 'x');
    fs.link(root, '/a', '/b');
    fs.rename(root, '/a', '/b');
    expect(fs.stat(root, '/a').nlink).toBe(2);
  });

  it('reuses a freed inode number', () => {
    fresh(1, () => 0);
    writeFile(fs, root, '/a', 'x');
    const ino = fs.stat(root, '/a').ino;
    const of = fs.open(root, '/a', O.RDONLY, 0);
    fs.unlink(root, '/a');
    if (profile !== 'sync') syncDir(fs, root, '/');
    // Still open: the number stays taken.
    writeFile(fs, root, '/b', 'y');
    expect(fs.stat(root, '/b').ino).not.toBe(ino);
    expect(fs.fstat(of).nlink).toBe(0);
    fs.close(of);
    writeFile(fs, root, '/c', 'z');
    expect(fs.stat(root, '/c').ino).toBe(ino);
  });

  it('checks permissions by uid, gid and mode; exactly one class applies', () => {
    fresh();
    fs.mkdir(root, '/home', 0o755);
    fs.mkdir(root, '/home/alice', 0o700);
    fs.chown(root, '/home/alice', 1000, 100);
    writeFile(fs, alice, '/home/alice/f', 'secret', { mode: 0o600 });
    expect(errnoOf(() => fs.stat(bob, '/home/alice/f'))).toBe('EACCES');
    fs.chmod(alice, '/home/alice', 0o750);
    expect(fs.stat(bob, '/home/alice/f').uid).toBe(1000);
    expect(errnoOf(() => fs.open(bob, '/home/alice/f', O.RDONLY, 0))).toBe('EACCES');
    fs.chmod(alice, '/home/alice/f', 0o640);
    expect(readFile(fs, bob, '/home/alice/f')).toBe('secret');
    expect(errnoOf(() => fs.open(bob, '/home/alice/f', O.WRONLY, 0))).toBe('EACCES');
    expect(errnoOf(() => fs.open(bob, '/home/alice/f', O.RDONLY | O.TRUNC, 0))).toBe('EACCES');
    expect(errnoOf(() => writeFile(fs, bob, '/home/alice/g', 'x'))).toBe('EACCES');
    expect(errnoOf(() => fs.unlink(bob, '/home/alice/f'))).toBe('EACCES');
    // The owner class alone decides for the owner, even when "other" would allow.
    fs.chmod(alice, '/home/alice/f', 0o077);
    expect(errnoOf(() => fs.open(alice, '/home/alice/f', O.RDONLY, 0))).toBe('EACCES');
    // Supplementary groups count.
    fs.chown(root, '/home/alice/f', 1000, 50);
    fs.chmod(root, '/home/alice/f', 0o040);
    fs.chmod(root, '/home/alice', 0o755);
    expect(readFile(fs, carol, '/home/alice/f')).toBe('secret');
    expect(errnoOf(() => fs.open(bob, '/home/alice/f', O.RDONLY, 0))).toBe('EACCES');
  });

  it('lets root bypass rwx checks', () => {
    fresh();
    fs.mkdir(root, '/locked', 0o000);
    writeFile(fs, root, '/locked/f', 'x', { mode: 0o000 });
    expect(readFile(fs, root, '/locked/f')).toBe('x');
    expect(fs.readdir(root, '/locked')).toEqual(['f']);
    expect(errnoOf(() => fs.stat(alice, '/locked/f'))).toBe('EACCES');
    expect(errnoOf(() => fs.readdir(alice, '/locked'))).toBe('EACCES');
  });

  it('chmod needs the owner or root; chown needs root (an owner may only change the group to its own)', () => {
    fresh();
    writeFile(fs, root, '/f', 'x');
    fs.chown(root, '/f', 1000, 100);
    expect(errnoOf(() => fs.chmod(bob, '/f', 0o777))).toBe('EPERM');
    expect(errnoOf(() => fs.chown(alice, '/f', 1001, 100))).toBe('EPERM');
    expect(errnoOf(() => fs.chown(alice, '/f', -1, 200))).toBe('EPERM');
    fs.chmod(alice, '/f', 0o600);
    expect(fs.stat(root, '/f').mode).toBe(S.IFREG | 0o600);
    fs.chown(root, '/f', 1001, 200);
    expect(fs.stat(root, '/f')).toMatchObject({ uid: 1001, gid: 200 });
    fs.chmod(root, '/f', 0o4755);
    fs.chown(root, '/f', -1, -1);
    expect(fs.stat(root, '/f').mode).toBe(S.IFREG | 0o755);
  });

  it('enforces the sticky bit: only the file owner, the dir owner or root may unlink or rename', () => {
    fresh();
    fs.mkdir(root, '/tmp', 0o777);
    fs.chmod(root, '/tmp', 0o1777);
    writeFile(fs, alice, '/tmp/a', 'a');
    expect(errnoOf(() => fs.unlink(bob, '/tmp/a'))).toBe('EPERM');
    expect(errnoOf(() => fs.rename(bob, '/tmp/a', '/tmp/b'))).toBe('EPERM');
    writeFile(fs, bob, '/tmp/b', 'b');
    expect(errnoOf(() => fs.rename(alice, '/tmp/a', '/tmp/b'))).toBe('EPERM');
    fs.rename(alice, '/tmp/a', '/tmp/a2');
    fs.unlink(root, '/tmp/b');
    fs.chown(root, '/tmp', 1001, 100);
    fs.unlink(bob, '/tmp/a2');
    expect(fs.readdir(root, '/tmp')).toEqual([]);
  });

  it('masks new modes with the umask', () => {
    fresh();
    const c = ctxOf(0, 0, [0], 0o027);
    writeFile(fs, c, '/f', 'x', { mode: 0o666 });
    fs.mkdir(c, '/d', 0o777);
    fs.mkfifo(c, '/p', 0o666);
    expect(fs.stat(root, '/f').mode).toBe(S.IFREG | 0o640);
    expect(fs.stat(root, '/d').mode).toBe(S.IFDIR | 0o750);
    expect(fs.stat(root, '/p').mode).toBe(S.IFIFO | 0o640);
  });

  it('gives new entries of a setgid directory its group, and new subdirectories the setgid bit', () => {
    fresh();
    fs.mkdir(root, '/q', 0o777);
    fs.chown(root, '/q', 0, 50);
    fs.chmod(root, '/q', 0o2777);
    writeFile(fs, alice, '/q/f', 'x');
    fs.mkdir(alice, '/q/sub', 0o755);
    expect(fs.stat(root, '/q/f')).toMatchObject({ uid: 1000, gid: 50, mode: S.IFREG | 0o644 });
    expect(fs.stat(root, '/q/sub')).toMatchObject({ uid: 1000, gid: 50, mode: S.IFDIR | 0o2755 });
    fs.mkdir(root, '/open', 0o777);
    fs.chmod(root, '/open', 0o777);
    writeFile(fs, alice, '/open/plain', 'x');
    expect(fs.stat(root, '/open/plain').gid).toBe(100);
  });

  it('reports ENOTEMPTY, EISDIR, ENOTDIR and EINVAL where Linux does', () => {
    fresh();
    fs.mkdir(root, '/d', 0o755);
    fs.mkdir(root, '/e', 0o755);
    fs.mkdir(root, '/d/sub', 0o755);
    writeFile(fs, root, '/e/f', 'x');
    writeFile(fs, root, '/f', 'x');
    expect(errnoOf(() => fs.rmdir(root, '/d'))).toBe('ENOTEMPTY');
    expect(errnoOf(() => fs.rename(root, '/d/sub', '/e'))).toBe('ENOTEMPTY');
    expect(errnoOf(() => fs.unlink(root, '/d'))).toBe('EISDIR');
    expect(errnoOf(() => fs.open(root, '/d', O.WRONLY, 0))).toBe('EISDIR');
    expect(errnoOf(() => fs.open(root, '/d', O.RDONLY | O.CREAT, 0o644))).toBe('EISDIR');
    expect(errnoOf(() => fs.rename(root, '/f', '/d'))).toBe('EISDIR');
    expect(errnoOf(() => fs.open(root, '/new/', O.CREAT | O.WRONLY, 0o644))).toBe('EISDIR');
    const dirFd = fs.open(root, '/d', O.RDONLY, 0);
    expect(errnoOf(() => fs.read(dirFd, new Uint8Array(4), 0, 4, null))).toBe('EISDIR');
    fs.close(dirFd);
    expect(errnoOf(() => fs.stat(root, '/f/x'))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.stat(root, '/f/'))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.rename(root, '/d', '/f'))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.rmdir(root, '/f'))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.open(root, '/f', O.RDONLY | O.DIRECTORY, 0))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.readdir(root, '/f'))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.rename(root, '/d', '/d/sub/x'))).toBe('EINVAL');
    expect(errnoOf(() => fs.rmdir(root, '/d/.'))).toBe('EINVAL');
    expect(errnoOf(() => fs.rmdir(root, '/'))).toBe('EBUSY');
    expect(errnoOf(() => fs.mkdir(root, '/d', 0o755))).toBe('EEXIST');
    expect(errnoOf(() => fs.mkdir(root, '/d/sub/..', 0o755))).toBe('EEXIST');
    expect(errnoOf(() => fs.stat(root, ''))).toBe('ENOENT');
    expect(errnoOf(() => fs.stat(root, `/${'n'.repeat(256)}`))).toBe('ENAMETOOLONG');
    fs.rmdir(root, '/d/sub');
    fs.rename(root, '/d', '/e/f2');
    expect(fs.stat(root, '/e').nlink).toBe(3);
  });

  it('resolves relative paths, dots, repeated slashes and symlinks; loops end in ELOOP', () => {
    fresh();
    fs.mkdir(root, '/var', 0o755);
    fs.mkdir(root, '/var/qmail', 0o755);
    writeFile(fs, root, '/var/qmail/f', 'x');
    const inQmail = ctxOf(0, 0, [0], 0o022, '/var/qmail');
    expect(readFile(fs, inQmail, 'f')).toBe('x');
    expect(readFile(fs, inQmail, './/..//qmail/./f')).toBe('x');
    fs.symlink(root, 'var/qmail', '/q');
    expect(readFile(fs, root, '/q/f')).toBe('x');
    expect(fs.lstat(root, '/q').kind).toBe('symlink');
    expect(fs.stat(root, '/q').kind).toBe('dir');
    expect(fs.readlink(root, '/q')).toBe('var/qmail');
    expect(errnoOf(() => fs.readlink(root, '/var'))).toBe('EINVAL');
    fs.symlink(root, '/loop2', '/loop1');
    fs.symlink(root, '/loop1', '/loop2');
    expect(errnoOf(() => fs.stat(root, '/loop1'))).toBe('ELOOP');
    expect(errnoOf(() => fs.open(root, '/q', O.RDONLY | O.NOFOLLOW, 0))).toBe('ELOOP');
    fs.unlink(root, '/q');
    expect(fs.stat(root, '/var/qmail').kind).toBe('dir');
  });

  it('lists directories in an order drawn from the chooser, always the right set', () => {
    fresh(7);
    fs.mkdir(root, '/d', 0o755);
    const names = Array.from({ length: 8 }, (_, i) => `m${i}`);
    for (const n of names) writeFile(fs, root, `/d/${n}`, n);
    const orders = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const got = fs.readdir(root, '/d');
      expect([...got].sort()).toEqual(names);
      orders.add(got.join());
    }
    expect(orders.size).toBeGreaterThan(1);
    fresh(7);
    fs.mkdir(root, '/d', 0o755);
    for (const n of names) writeFile(fs, root, `/d/${n}`, n);
    expect(fs.readdir(root, '/d').join()).toBe([...orders][0]);
  });

  it('follows the virtual clock: atime on read, mtime+ctime on write, ctime on chmod, dir mtime on entries', () => {
    fresh();
    const t0 = w.clock.t;
    fs.mkdir(root, '/d', 0o755);
    writeFile(fs, root, '/d/f', 'abc');
    expect(fs.stat(root, '/d/f')).toMatchObject({ atimeMs: t0, mtimeMs: t0, ctimeMs: t0 });
    w.clock.t += 1000;
    expect(readFile(fs, root, '/d/f')).toBe('abc');
    expect(fs.stat(root, '/d/f')).toMatchObject({ atimeMs: t0 + 1000, mtimeMs: t0 });
    w.clock.t += 1000;
    fs.chmod(root, '/d/f', 0o600);
    expect(fs.stat(root, '/d/f')).toMatchObject({ mtimeMs: t0, ctimeMs: t0 + 2000 });
    w.clock.t += 1000;
    const of = fs.open(root, '/d/f', O.WRONLY | O.APPEND, 0);
    fs.write(of, enc('de'), 0, 2, 0);
    fs.close(of);
    expect(readFile(fs, root, '/d/f')).toBe('abcde');
    expect(fs.stat(root, '/d/f')).toMatchObject({ mtimeMs: t0 + 3000, ctimeMs: t0 + 3000 });
    w.clock.t += 1000;
    fs.link(root, '/d/f', '/d/g');
    expect(fs.stat(root, '/d')).toMatchObject({ mtimeMs: t0 + 4000, ctimeMs: t0 + 4000 });
    expect(fs.stat(root, '/d/f').ctimeMs).toBe(t0 + 4000);
    fs.utimes(root, '/d/f', 5, 6);
    expect(fs.stat(root, '/d/f')).toMatchObject({ atimeMs: 5, mtimeMs: 6, ctimeMs: t0 + 4000 });
    expect(errnoOf(() => fs.utimes(alice, '/d/f', 1, 2))).toBe('EPERM');
  });

  it('fails a write past the capacity with ENOSPC and no effect; unlink frees space', () => {
    fresh();
    fs.setCapacity(100);
    writeFile(fs, root, '/a', 'x'.repeat(60));
    const of = fs.open(root, '/b', O.CREAT | O.WRONLY, 0o644);
    expect(errnoOf(() => fs.write(of, enc('y'.repeat(50)), 0, 50, null))).toBe('ENOSPC');
    expect(fs.fstat(of).size).toBe(0);
    // Overwriting inside the file needs no new space.
    const a = fs.open(root, '/a', O.WRONLY, 0);
    expect(fs.write(a, enc('z'.repeat(60)), 0, 60, 0)).toBe(60);
    fs.close(a);
    fs.unlink(root, '/a');
    expect(fs.write(of, enc('y'.repeat(50)), 0, 50, null)).toBe(50);
    fs.close(of);
    expect(fs.usedBytes()).toBe(50);
  });

  it('throws what the fault hook returns, with no effect', () => {
    fresh();
    writeFile(fs, root, '/a', 'x');
    const seen: string[] = [];
    fs.setFaultHook((op, path) => {
      seen.push(`${op} ${path}`);
      return op === 'rename' ? 'EIO' : null;
    });
    expect(errnoOf(() => fs.rename(root, '/a', '/b'))).toBe('EIO');
    expect(fs.stat(root, '/a').kind).toBe('file');
    expect(errnoOf(() => fs.stat(root, '/b'))).toBe('ENOENT');
    fs.setFaultHook((op) => (op === 'write' ? 'ENOSPC' : null));
    const of = fs.open(root, '/a', O.WRONLY | O.APPEND, 0);
    expect(errnoOf(() => fs.write(of, enc('y'), 0, 1, null))).toBe('ENOSPC');
    fs.setFaultHook(null);
    fs.close(of);
    expect(readFile(fs, root, '/a')).toBe('x');
    expect(seen).toEqual(['rename /a', 'stat /a', 'stat /b']);
  });

  it('makes FIFOs whose descriptions the kernel handles; SimFs refuses their IO', () => {
    fresh();
    fs.mkfifo(root, '/trigger', 0o622);
    const of = fs.open(root, '/trigger', O.WRONLY | O.NONBLOCK, 0);
    expect(of.kind).toBe('fifo');
    expect(errnoOf(() => fs.write(of, new Uint8Array(1), 0, 1, null))).toBe('EINVAL');
    expect(fs.fstat(of)).toMatchObject({ kind: 'fifo', mode: S.IFIFO | 0o600, size: 0 });
    fs.close(of);
    expect(errnoOf(() => fs.mkfifo(root, '/trigger', 0o622))).toBe('EEXIST');
  });

  it('reads and writes at offsets, with holes, O_APPEND and O_TRUNC', () => {
    fresh();
    const of = fs.open(root, '/f', O.CREAT | O.RDWR, 0o644);
    fs.write(of, enc('abc'), 0, 3, 5);
    expect(of.pos).toBe(0);
    const buf = new Uint8Array(10);
    expect(fs.read(of, buf, 0, 10, null)).toBe(8);
    expect([...buf.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 97, 98, 99]);
    expect(fs.read(of, buf, 0, 10, null)).toBe(0);
    fs.ftruncate(of, 6);
    expect(fs.fstat(of).size).toBe(6);
    fs.close(of);
    writeFile(fs, root, '/f', 'new');
    expect(readFile(fs, root, '/f')).toBe('new');
    const ro = fs.open(root, '/f', O.RDONLY, 0);
    expect(errnoOf(() => fs.write(ro, enc('x'), 0, 1, null))).toBe('EBADF');
    expect(errnoOf(() => fs.ftruncate(ro, 0))).toBe('EINVAL');
    fs.close(ro);
    expect(errnoOf(() => fs.close(ro))).toBe('EBADF');
  });

  it('keeps directory nlink at 2 + subdirectories', () => {
    fresh();
    fs.mkdir(root, '/d', 0o755);
    fs.mkdir(root, '/d/a', 0o755);
    fs.mkdir(root, '/d/b', 0o755);
    writeFile(fs, root, '/d/f', '');
    expect(fs.stat(root, '/d').nlink).toBe(4);
    expect(fs.stat(root, '/').nlink).toBe(3);
    fs.rmdir(root, '/d/a');
    expect(fs.stat(root, '/d').nlink).toBe(3);
  });

  it('peeks without permission checks or atime updates', () => {
    fresh();
    fs.mkdir(root, '/p', 0o700);
    writeFile(fs, root, '/p/f', 'data', { mode: 0o600 });
    const before = fs.stat(root, '/p/f').atimeMs;
    w.clock.t += 5000;
    expect(dec(fs.peekFile('/p/f'))).toBe('data');
    expect(fs.peekStat('/p/f')?.atimeMs).toBe(before);
    expect(fs.peekDir('/p')).toEqual(['f']);
    expect(fs.peekFile('/p')).toBeNull();
    expect(fs.peekStat('/nope')).toBeNull();
  });

  it('invalidates every description at a crash', () => {
    fresh();
    const of = fs.open(root, '/f', O.CREAT | O.WRONLY, 0o644);
    fs.crash(() => 0);
    expect(errnoOf(() => fs.write(of, enc('x'), 0, 1, null))).toBe('EBADF');
    expect(errnoOf(() => fs.close(of))).toBe('EBADF');
  });
});
