// HostFs with syncMetadata (the delivery worker's and qmail-lspawn's mode): the same answers and the
// same errnos as the default threadpool mode, for every call it makes direct; FIFOs and pipes
// unchanged; fsync still works.

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
    expect(direct).toEqual(pooled);
    expect(direct).toContain('ENOENT:open');
    expect(statSync(join(dir, 'direct-f')).size).toBe(11);
  });

  it('a failing direct call rejects its promise, it does not throw synchronously', () => {
    const fs = new HostFs(new FdTable(), () => 0o022, { syncMetadata: true });
    const p = fs.stat(join(dir, 'nope'));
    expect(p).toBeInstanceOf(Promise);
    return expect(p).rejects.toMatchObject({ code: 'ENOENT' });
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
