// HostFs without root: regular files, pipes from spawn, FIFOs and triggers, flock.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { HostProc, hostSelf } from '../../impl/sys/host/proc.ts';
import { O, type Fd } from '../../impl/sys/types.ts';

let dir: string;
let fs: HostFs;
let proc: HostProc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'host-fs-'));
  const fds = new FdTable();
  fs = new HostFs(fds, () => 0o022);
  proc = new HostProc(fds, await hostSelf(), () => undefined);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = new TextEncoder();
const untext = new TextDecoder();

async function readToEof(fd: Fd, chunk = 4096): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(chunk);
    const n = await fs.read(fd, buf);
    if (n === 0) return Buffer.concat(parts);
    parts.push(buf.subarray(0, n));
  }
}

async function writeAll(fd: Fd, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await fs.write(fd, bytes, off, bytes.length - off);
}

/** Whether p settles within ms. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new Promise<false>((r) => setTimeout(() => r(false), ms));
  return Promise.race([p.then(() => true, () => true), timeout]);
}

function sh(script: string, fds: (Fd | 'pipe' | null)[]) {
  return proc.spawn('/bin/sh', ['sh', '-c', script], { env: { PATH: '/usr/bin:/bin' }, fds });
}

describe('regular files', () => {
  it('write, positional read, fstat with the kernel inode number', async () => {
    const path = join(dir, 'f');
    const fd = await fs.open(path, O.RDWR | O.CREAT | O.EXCL, 0o640);
    expect(await fs.write(fd, text.encode('abcdef'))).toBe(6);
    const buf = new Uint8Array(3);
    expect(await fs.read(fd, buf, 0, 3, 2)).toBe(3);
    expect(untext.decode(buf)).toBe('cde');
    const st = await fs.fstat(fd);
    expect(st.ino).toBe(Number(statSync(path, { bigint: true }).ino));
    expect([st.kind, st.size, st.mode & 0o777]).toEqual(['file', 6, 0o640]);
    await fs.close(fd);
    await expect(fs.read(fd, buf)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('out-of-range buffer arguments are bugs (RangeError), not errnos', async () => {
    const fd = await fs.open(join(dir, 'f'), O.RDONLY);
    await expect(fs.read(fd, new Uint8Array(2), 1, 5)).rejects.toBeInstanceOf(RangeError);
    await fs.close(fd);
  });

  it('mkfifo applies the umask, like mkfifo(3)', async () => {
    const masked = new HostFs(new FdTable(), () => 0o027);
    await masked.mkfifo(join(dir, 'masked'), 0o666);
    const st = await fs.stat(join(dir, 'masked'));
    expect([st.kind, st.mode & 0o777]).toEqual(['fifo', 0o640]);
  });
});

describe('pipes from spawn', () => {
  it("reads a child's output to EOF, and EOF stays EOF", async () => {
    const c = await sh('printf abc', [null, 'pipe', null]);
    expect(untext.decode(await readToEof(c.fds[1]!))).toBe('abc');
    expect(await fs.read(c.fds[1]!, new Uint8Array(8))).toBe(0);
    expect(await c.wait()).toEqual({ code: 0, signal: null });
    await fs.close(c.fds[1]!);
  });

  it('a read waits for data; short reads return what there is', async () => {
    const c = await sh('printf ab; sleep 0.2; printf cdef', [null, 'pipe', null]);
    const buf = new Uint8Array(3);
    expect(await fs.read(c.fds[1]!, buf)).toBe(2);
    expect(untext.decode(buf.subarray(0, 2))).toBe('ab');
    expect(await fs.read(c.fds[1]!, buf)).toBe(3);
    expect(untext.decode(buf)).toBe('cde');
    expect(await fs.read(c.fds[1]!, buf)).toBe(1);
    expect(await fs.read(c.fds[1]!, buf)).toBe(0);
    await c.wait();
    await fs.close(c.fds[1]!);
  });

  it('a megabyte through cat: writes wait for the reader, nothing is lost', async () => {
    const c = await proc.spawn('/bin/cat', ['cat'], { env: {}, fds: ['pipe', 'pipe', null] });
    const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
    const writer = (async () => {
      await writeAll(c.fds[0]!, big);
      await fs.close(c.fds[0]!);
    })();
    const got = await readToEof(c.fds[1]!, 10_000);
    await writer;
    expect(Buffer.compare(got, big)).toBe(0);
    expect((await c.wait()).code).toBe(0);
    await fs.close(c.fds[1]!);
  });

  it('an fd handed to a second child is not read by the parent on the way', async () => {
    const a = await sh('printf one; sleep 0.1; printf two', [null, 'pipe', null]);
    const b = await proc.spawn('/bin/cat', ['cat'], { env: {}, fds: [a.fds[1]!, 'pipe', null] });
    await fs.close(a.fds[1]!); // the parent's copy, or cat never sees EOF
    expect(untext.decode(await readToEof(b.fds[1]!))).toBe('onetwo');
    await Promise.all([a.wait(), b.wait()]);
    await fs.close(b.fds[1]!);
  });

  it('a pipe end handed over after partial reading keeps the rest for the child', async () => {
    const a = await sh('printf x; sleep 0.3; printf rest', [null, 'pipe', null]);
    const buf = new Uint8Array(1);
    expect(await fs.read(a.fds[1]!, buf)).toBe(1);
    const b = await proc.spawn('/bin/cat', ['cat'], { env: {}, fds: [a.fds[1]!, 'pipe', null] });
    await fs.close(a.fds[1]!);
    expect(untext.decode(await readToEof(b.fds[1]!))).toBe('rest');
    await Promise.all([a.wait(), b.wait()]);
    await fs.close(b.fds[1]!);
  });

  it('writing to a pipe whose reader is gone is EPIPE', async () => {
    const c = await sh('exec 0<&-; exit 0', ['pipe', null, null]);
    await c.wait();
    const chunk = new Uint8Array(65536);
    await expect((async () => { for (let i = 0; i < 64; i++) await fs.write(c.fds[0]!, chunk); })()).rejects.toMatchObject({ code: 'EPIPE' });
    await fs.close(c.fds[0]!);
  });

  it('a closed pipe fd is EBADF, and closing it twice is EBADF', async () => {
    const c = await sh('sleep 0.1', [null, 'pipe', null]);
    const fd = c.fds[1]!;
    await fs.close(fd);
    await expect(fs.read(fd, new Uint8Array(1))).rejects.toMatchObject({ code: 'EBADF' });
    await expect(fs.close(fd)).rejects.toMatchObject({ code: 'EBADF' });
    await c.wait();
  });
});

describe('FIFOs and trigger', () => {
  let n = 0;
  async function fifo(): Promise<string> {
    const path = join(dir, `fifo${n++}`);
    await fs.mkfifo(path, 0o622);
    return path;
  }

  it('trigger with no reader returns at once; on a missing path it does nothing', async () => {
    const path = await fifo();
    expect(await settlesWithin(fs.trigger(path), 1000)).toBe(true);
    await fs.trigger(join(dir, 'no-such-fifo'));
  });

  it('trigger with a reader delivers one NUL per call', async () => {
    const path = await fifo();
    const r = await fs.open(path, O.RDONLY | O.NONBLOCK);
    await expect(fs.read(r, new Uint8Array(4))).resolves.toBe(0); // no writer yet: EOF
    await fs.trigger(path);
    const buf = new Uint8Array(4).fill(9);
    expect(await fs.read(r, buf)).toBe(1);
    expect(buf[0]).toBe(0);
    await fs.close(r);
  });

  it('trigger on something that is no FIFO and cannot be written fails loudly (EISDIR)', async () => {
    await expect(fs.trigger(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('a non-blocking reader with a writer and no data gets EAGAIN', async () => {
    const path = await fifo();
    const r = await fs.open(path, O.RDONLY | O.NONBLOCK);
    const w = await fs.open(path, O.WRONLY | O.NONBLOCK);
    await expect(fs.read(r, new Uint8Array(4))).rejects.toMatchObject({ code: 'EAGAIN' });
    await fs.write(w, text.encode('hi'));
    const buf = new Uint8Array(4);
    expect(await fs.read(r, buf)).toBe(2);
    await fs.close(w);
    await fs.close(r);
  });

  it('O_RDWR without O_NONBLOCK (qmail-send on Linux): blocking reads wait for each trigger', async () => {
    const path = await fifo();
    const fd = await fs.open(path, O.RDWR);
    const buf = new Uint8Array(8);
    const pending = fs.read(fd, buf);
    expect(await settlesWithin(pending, 100)).toBe(false);
    await fs.trigger(path);
    expect(await pending).toBe(1);
    await fs.close(fd);
  });

  it('a blocking read-open waits for a writer, then sees its data and EOF', async () => {
    const path = await fifo();
    const opening = fs.open(path, O.RDONLY);
    expect(await settlesWithin(opening, 100)).toBe(false);
    const w = await fs.open(path, O.WRONLY | O.NONBLOCK);
    await fs.write(w, text.encode('data'));
    const r = await opening;
    await fs.close(w);
    expect(untext.decode(await readToEof(r))).toBe('data');
    await fs.close(r);
  });

  it('a blocking write-open waits for a reader', async () => {
    const path = await fifo();
    const opening = fs.open(path, O.WRONLY);
    expect(await settlesWithin(opening, 100)).toBe(false);
    const r = await fs.open(path, O.RDONLY | O.NONBLOCK);
    const w = await opening;
    await fs.write(w, text.encode('z'));
    const buf = new Uint8Array(2);
    expect(await fs.read(r, buf)).toBe(1);
    await fs.close(w);
    await fs.close(r);
  });

  it('a FIFO made by the shell is a FIFO to stat', async () => {
    const path = join(dir, 'shellfifo');
    execFileSync('mkfifo', [path]);
    expect((await fs.lstat(path)).kind).toBe('fifo');
  });
});

describe('flock', () => {
  it('excludes a second open file; wait=false is EAGAIN; unlock hands it over', async () => {
    const path = join(dir, 'lock');
    writeFileSync(path, '');
    const a = await fs.open(path, O.RDWR);
    const b = await fs.open(path, O.RDWR);
    await fs.lock(a, false);
    await expect(fs.lock(b, false)).rejects.toMatchObject({ code: 'EAGAIN', syscall: 'flock' });
    await fs.unlock(a);
    await fs.lock(b, false);
    const waiting = fs.lock(a, true);
    expect(await settlesWithin(waiting, 150)).toBe(false);
    await fs.unlock(b);
    await waiting;
    await expect(fs.lock(b, false)).rejects.toMatchObject({ code: 'EAGAIN' });
    await fs.close(a); // closing the last fd of the description releases the lock
    await fs.lock(b, false);
    await fs.close(b);
  });

  it('locking a closed fd is EBADF', async () => {
    await expect(fs.lock(999, false)).rejects.toMatchObject({ code: 'EBADF' });
  });
});
