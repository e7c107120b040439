// HostFs with syncMetadata (the daemons' mode), and with syncDirectoryOps too (the delivery
// worker's): the same answers and the same errnos as the default threadpool mode, for every call
// it makes direct; FIFOs and pipes unchanged; fsync still works.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { HostProc, hostSelf } from '../../impl/sys/host/proc.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { O } from '../../impl/sys/types.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'host-fs-sync-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function errno(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof SysError) return `${e.code}:${e.syscall}`;
    throw e;
  }
}

/** One script of calls; returns what each answered. */
async function script(fs: HostFs, base: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const fd = await fs.open(`${base}-f`, O.RDWR | O.CREAT | O.EXCL, 0o600);
  out.push(await fs.write(fd, enc('hello world')), await fs.write(fd, enc('HW'), 0, 2, 0));
  const buf = new Uint8Array(5);
  out.push(await fs.read(fd, buf, 0, 5, 6), new TextDecoder().decode(buf));
  await fs.fsync(fd);
  out.push((await fs.fstat(fd)).size, (await fs.fstat(fd)).kind);
  await fs.close(fd);
  out.push(await errno(fs.open(`${base}-f`, O.WRONLY | O.CREAT | O.EXCL, 0o600)));
  out.push(await errno(fs.open(`${base}-missing`, O.RDONLY)));
  out.push(await errno(fs.stat(`${base}-missing`)), await errno(fs.lstat(`${base}-missing`)));
  out.push(await errno(fs.link(`${base}-f`, `${base}-g`)), await errno(fs.link(`${base}-f`, `${base}-g`)));
  out.push((await fs.stat(`${base}-g`)).nlink);
  out.push(await errno(fs.rename(`${base}-g`, `${base}-h`)), await errno(fs.rename(`${base}-g`, `${base}-h`)));
  out.push(await errno(fs.unlink(`${base}-h`)), await errno(fs.unlink(`${base}-h`)));
  await fs.syncDir(dir);
  out.push(await errno(fs.syncDir(`${base}-missing`)));
  out.push(await errno(fs.close(12345)));
  return out;
}

describe('HostFs syncMetadata', () => {
  it('answers as the threadpool mode does', async () => {
    const pooled = await script(new HostFs(new FdTable(), () => 0o022), join(dir, 'pooled'));
    const direct = await script(new HostFs(new FdTable(), () => 0o022, { syncMetadata: true }), join(dir, 'direct'));
    const dirOps = await script(new HostFs(new FdTable(), () => 0o022, { syncMetadata: true, syncDirectoryOps: true }), join(dir, 'dirops'));
    expect(direct).toEqual(pooled);
    expect(dirOps).toEqual(pooled);
    expect(direct).toContain('ENOENT:open');
    expect(dirOps).toContain('EEXIST:open');
    expect(statSync(join(dir, 'direct-f')).size).toBe(11);
    expect(statSync(join(dir, 'dirops-f')).size).toBe(11);
  });

  it('a failing direct call rejects its promise, it does not throw synchronously', async () => {
    const fs = new HostFs(new FdTable(), () => 0o022, { syncMetadata: true, syncDirectoryOps: true });
    for (const p of [fs.stat(join(dir, 'nope')), fs.unlink(join(dir, 'nope')), fs.link(join(dir, 'nope'), join(dir, 'nope2')), fs.rename(join(dir, 'nope'), join(dir, 'nope2')), fs.open(join(dir, 'nope/x'), O.WRONLY | O.CREAT | O.EXCL, 0o600)]) {
      expect(p).toBeInstanceOf(Promise);
      await expect(p).rejects.toMatchObject({ code: expect.stringMatching(/^ENOENT$/) });
    }
  });

  it('answers the direct paths\' edge cases as the threadpool mode does: ranges, closed fds, directories', async () => {
    const edges = async (fs: HostFs, base: string): Promise<unknown[]> => {
      const out: unknown[] = [];
      const fd = await fs.open(`${base}-e`, O.RDWR | O.CREAT | O.EXCL, 0o600);
      const buf = new Uint8Array(4);
      // A bad range is the caller's bug: a rejected promise (RangeError), never a synchronous throw.
      for (const p of [fs.write(fd, buf, 3, 2), fs.read(fd, buf, -1, 1), fs.read(fd, buf, 0, 1.5)]) {
        expect(p).toBeInstanceOf(Promise);
        out.push(await p.then(() => 'ok', (e: unknown) => (e instanceof RangeError ? 'RangeError' : String(e))));
      }
      out.push(await fs.write(fd, enc('abcd')), await fs.read(fd, buf, 0, 4, 0));
      await fs.close(fd);
      out.push(await errno(fs.read(fd, buf, 0, 1, 0)), await errno(fs.write(fd, buf)), await errno(fs.close(fd)));
      const d = await fs.open(dir, O.RDONLY | O.DIRECTORY);
      out.push((await fs.fstat(d)).kind, await errno(fs.read(d, buf, 0, 1, 0)));
      await fs.close(d);
      const d2 = await fs.open(dir, O.RDONLY);
      out.push((await fs.fstat(d2)).kind);
      await fs.close(d2);
      out.push(await errno(fs.open(`${base}-e`, O.RDONLY | O.DIRECTORY)), await errno(fs.open(`${base}-e/x`, O.RDONLY)));
      return out;
    };
    const pooled = await edges(new HostFs(new FdTable(), () => 0o022), join(dir, 'edge-pooled'));
    const direct = await edges(new HostFs(new FdTable(), () => 0o022, { syncMetadata: true }), join(dir, 'edge-direct'));
    const dirOps = await edges(new HostFs(new FdTable(), () => 0o022, { syncMetadata: true, syncDirectoryOps: true }), join(dir, 'edge-dirops'));
    expect(direct).toEqual(pooled);
    expect(dirOps).toEqual(pooled);
    expect(direct).toEqual(['RangeError', 'RangeError', 'RangeError', 4, 4, 'EBADF:read', 'EBADF:write', 'EBADF:close', 'dir', 'EISDIR:read', 'dir', 'ENOTDIR:open', 'ENOTDIR:open']);
  });

  it('leaves pipes as streams', async () => {
    const fds = new FdTable();
    const fs = new HostFs(fds, () => 0o022, { syncMetadata: true });
    const proc = new HostProc(fds, await hostSelf(), () => undefined);
    const c = await proc.spawn('/bin/sh', ['sh', '-c', 'sleep 0.05; echo late'], { env: { PATH: '/usr/bin:/bin' }, fds: [null, 'pipe', 2] });
    const buf = new Uint8Array(100);
    const n = await fs.read(c.fds[1] as number, buf);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('late\n');
    await fs.close(c.fds[1] as number);
    await c.wait();
  });
});
