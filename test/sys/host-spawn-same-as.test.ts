// spawn's { sameAs } on the host and in the sim: one pipe at two child fds (qmail's fd 2 = fd 1), so
// that the child's stdout and stderr arrive interleaved in the order written.

import { describe, expect, it } from 'vitest';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { HostProc, hostSelf } from '../../impl/sys/host/proc.ts';
import type { Fd, Fs, Proc } from '../../impl/sys/types.ts';
import { addProgram, dec, enc, newKernel } from '../sim/helpers.ts';

async function drain(fs: Fs, fd: Fd): Promise<string> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = await fs.read(fd, buf);
    if (n === 0) break;
    parts.push(buf.subarray(0, n));
  }
  await fs.close(fd);
  return dec(Buffer.concat(parts));
}

async function interleaved(fs: Fs, proc: Proc, path: string, argv: string[]): Promise<string> {
  const c = await proc.spawn(path, argv, { env: { PATH: '/usr/bin:/bin' }, fds: [null, 'pipe', { sameAs: 1 }] });
  expect(Object.keys(c.fds)).toEqual(['1']);
  const text = await drain(fs, c.fds[1] as Fd);
  expect(await c.wait()).toEqual({ code: 0, signal: null });
  return text;
}

describe('spawn { sameAs } (host)', () => {
  it('puts one pipe at fds 1 and 2', async () => {
    const fds = new FdTable();
    const fs = new HostFs(fds, () => 0o022);
    const proc = new HostProc(fds, await hostSelf(), () => undefined);
    expect(await interleaved(fs, proc, '/bin/sh', ['sh', '-c', 'echo out1; echo err >&2; echo out2'])).toBe('out1\nerr\nout2\n');
  });

  it('refuses a sameAs naming nothing', async () => {
    const fds = new FdTable();
    const proc = new HostProc(fds, await hostSelf(), () => undefined);
    await expect(proc.spawn('/bin/true', ['true'], { env: {}, fds: [null, { sameAs: 5 }] })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('spawn { sameAs } (sim)', () => {
  it('puts one pipe at fds 1 and 2', async () => {
    const k = newKernel(1);
    addProgram(k, 'writer', async (sys) => {
      for (const [fd, s] of [[1, 'out1\n'], [2, 'err\n'], [1, 'out2\n']] as const) await sys.fs.write(fd, enc(s));
      return 0;
    });
    let text = '';
    addProgram(k, 'parent', async (sys) => {
      text = await interleaved(sys.fs, sys.proc, '/bin/writer', ['writer']);
      await expect(sys.proc.spawn('/bin/writer', ['writer'], { env: {}, fds: [null, { sameAs: 0 }] })).rejects.toMatchObject({ code: 'EINVAL' });
      return 0;
    });
    const h = k.spawn('/bin/parent', ['parent']);
    await k.run();
    expect((await h.wait()).code).toBe(0);
    expect(text).toBe('out1\nerr\nout2\n');
  });
});
