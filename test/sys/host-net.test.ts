// HostNet on loopback: listen, accept, connect; sockets are fds read and written through HostFs.

import { spawn } from 'node:child_process';
import { existsSync, fstatSync } from 'node:fs';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { HostNet } from '../../impl/sys/host/net.ts';
import type { Fd } from '../../impl/sys/types.ts';

let fs: HostFs;
let net: HostNet;

beforeAll(() => {
  const fds = new FdTable();
  fs = new HostFs(fds, () => 0o022);
  net = new HostNet(fds);
});

async function readToEof(fd: Fd): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(65536);
    const n = await fs.read(fd, buf);
    if (n === 0) return Buffer.concat(parts);
    parts.push(buf.subarray(0, n));
  }
}

describe('HostNet', () => {
  it('connect and accept give connected fds both ways; close is EOF to the peer', async () => {
    const l = await net.listen({ host: '127.0.0.1', port: 0 });
    expect(l.local.port).toBeGreaterThan(0);
    const [client, server] = await Promise.all([net.connect(l.local, 2000), l.accept()]);
    expect(server.remote).toEqual({ host: '127.0.0.1', port: client.local.port });
    expect(client.remote).toEqual(l.local);
    await fs.write(client.fd, new TextEncoder().encode('EHLO x\r\n'));
    const buf = new Uint8Array(64);
    const n = await fs.read(server.fd, buf);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('EHLO x\r\n');
    await fs.write(server.fd, new TextEncoder().encode('250 ok\r\n'));
    await fs.close(server.fd);
    expect(new TextDecoder().decode(await readToEof(client.fd))).toBe('250 ok\r\n');
    await fs.close(client.fd);
    await l.close();
  });

  it('half-close: after the peer closes, we can still write until we close', async () => {
    const l = await net.listen({ host: '127.0.0.1', port: 0 });
    const [client, server] = await Promise.all([net.connect(l.local, 2000), l.accept()]);
    await fs.close(client.fd);
    expect(await fs.read(server.fd, new Uint8Array(8))).toBe(0);
    expect(await fs.read(server.fd, new Uint8Array(8))).toBe(0);
    await fs.close(server.fd);
    await l.close();
  });

  it('a megabyte across loopback arrives intact', async () => {
    const l = await net.listen({ host: '127.0.0.1', port: 0 });
    const [client, server] = await Promise.all([net.connect(l.local, 2000), l.accept()]);
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) % 256);
    const sending = (async () => {
      let off = 0;
      while (off < big.length) off += await fs.write(client.fd, big, off, big.length - off);
      await fs.close(client.fd);
    })();
    const got = await readToEof(server.fd);
    await sending;
    expect(Buffer.compare(got, big)).toBe(0);
    await fs.close(server.fd);
    await l.close();
  });

  it('connection refused is ECONNREFUSED; a taken port is EADDRINUSE; accept after close is EBADF', async () => {
    const l = await net.listen({ host: '127.0.0.1', port: 0 });
    await expect(net.listen(l.local)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const pending = l.accept();
    await l.close();
    await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
    await expect(l.accept()).rejects.toMatchObject({ code: 'EBADF' });
    await expect(net.connect(l.local, 2000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it.skipIf(!existsSync('/usr/bin/python3'))('a connect that does not complete in time is ETIMEDOUT', async () => {
    // A listener that never accepts, backlog 0: once its queue is full the kernel drops SYNs.
    const py = spawn('/usr/bin/python3', ['-c', 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0); print(s.getsockname()[1], flush=True); sys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const port = Number(await new Promise<string>((r) => py.stdout.once('data', (d: Buffer) => r(d.toString()))));
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => net.connect({ host: '127.0.0.1', port }, 300)));
    py.stdin.end();
    py.kill();
    const codes = results.map((c) => (c.status === 'rejected' ? (c.reason as { code: string }).code : 'ok'));
    for (const c of results) if (c.status === 'fulfilled') await fs.close(c.value.fd);
    expect(codes).toContain('ETIMEDOUT');
    expect(codes.every((c) => c === 'ok' || c === 'ETIMEDOUT')).toBe(true);
  });

  it('a reset peer is ECONNRESET, and the fd stays ours until close', async () => {
    const l = await net.listen({ host: '127.0.0.1', port: 0 });
    const raw = connect(l.local.port, '127.0.0.1');
    const server = await l.accept();
    await new Promise<void>((r) => raw.once('connect', () => r()));
    raw.resetAndDestroy();
    await expect(fs.read(server.fd, new Uint8Array(8))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(fstatSync(server.fd).isSocket()).toBe(true); // Node would have closed it; the number is not reusable yet
    await fs.close(server.fd);
    expect(() => fstatSync(server.fd)).toThrow();
    await l.close();
  });
});
