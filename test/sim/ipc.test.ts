// Pipes, FIFOs, flock and sockets in the simulated kernel.

import { describe, expect, it } from 'vitest';
import { O } from '../../impl/sys/types.ts';
import { readAll, writeAll } from '../../impl/shared/fdio.ts';
import { addProgram, dayMs, dec, enc, errnoOf, newKernel } from './helpers.ts';


describe('pipes', () => {
  it('carries more than the pipe capacity, then EOF', async () => {
    const k = newKernel(21);
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const sink = addProgram(k, 'sink', async (sys) => {
      const got = await readAll(sys, 0);
      await writeAll(sys, 1, enc(`${got.length} ${got.every((b, i) => b === i % 251)}`));
      return 0;
    });
    const src = addProgram(k, 'src', async (sys) => {
      const c = await sys.proc.spawn(sink, ['sink'], { env: {}, fds: ['pipe', 1] });
      await writeAll(sys, c.fds[0] as number, big);
      await sys.fs.close(c.fds[0] as number);
      return (await c.wait()).code ?? 99;
    });
    const h = k.spawn(src, ['src']);
    await k.run();
    expect(await h.wait()).toMatchObject({ code: 0, stdout: '200000 true' });
  });

  it('fails a write with EPIPE once every reader is gone', async () => {
    const k = newKernel(22);
    const quitter = addProgram(k, 'quitter', async () => 0);
    let code = '';
    const p = addProgram(k, 'writer', async (sys) => {
      const c = await sys.proc.spawn(quitter, ['quitter'], { env: {}, fds: ['pipe'] });
      await c.wait();
      code = await errnoOf(sys.fs.write(c.fds[0] as number, enc('x')));
      return 0;
    });
    k.spawn(p, ['writer']);
    await k.run();
    expect(code).toBe('EPIPE');
  });

  it('a child killed in the middle of a read leaves its parent reading EOF', async () => {
    const k = newKernel(23);
    const stuck = addProgram(k, 'stuck', async (sys) => {
      await writeAll(sys, 1, enc('partial'));
      await readAll(sys, 0); // the parent never closes our stdin
      return 0;
    });
    let childPid = 0;
    const p = addProgram(k, 'parent', async (sys) => {
      const c = await sys.proc.spawn(stuck, ['stuck'], { env: {}, fds: ['pipe', 'pipe'] });
      childPid = c.pid;
      const out = dec(await readAll(sys, c.fds[1] as number));
      const st = await c.wait();
      await writeAll(sys, 1, enc(`${out}|${st.signal}`));
      return 0;
    });
    const h = k.spawn(p, ['parent']);
    await k.run({ untilMs: 100 });
    expect(k.pids()).toContain(childPid);
    k.kill(childPid, 'SIGKILL');
    await k.run();
    expect((await h.wait()).stdout).toBe('partial|SIGKILL');
  });
});

describe('FIFOs', () => {
  it('trigger is silent without a reader and delivers one NUL to a reader', async () => {
    const k = newKernel(24);
    const result: string[] = [];
    const p = addProgram(k, 'fifo', async (sys) => {
      await sys.fs.mkfifo('/tmp/trigger', 0o622);
      await sys.fs.trigger('/tmp/trigger'); // no reader: ENXIO, ignored
      await sys.fs.trigger('/tmp/none'); // no FIFO: ENOENT, ignored
      result.push(await errnoOf(sys.fs.open('/tmp/trigger', O.WRONLY | O.NONBLOCK)));
      const r = await sys.fs.open('/tmp/trigger', O.RDONLY | O.NONBLOCK);
      const buf = new Uint8Array(8);
      result.push(`eof:${await sys.fs.read(r, buf)}`); // no writer: EOF, like Linux
      await sys.fs.trigger('/tmp/trigger');
      await sys.fs.trigger('/tmp/trigger');
      result.push(`read:${await sys.fs.read(r, buf)}:${buf[0]}`);
      const w = await sys.fs.open('/tmp/trigger', O.WRONLY | O.NONBLOCK); // keeps read from seeing EOF
      result.push(await errnoOf(sys.fs.read(r, buf)));
      result.push((await sys.fs.fstat(r)).kind);
      await sys.fs.close(w);
      await sys.fs.close(r);
      return 0;
    });
    k.spawn(p, ['fifo'], { uid: 1000, gid: 1000 });
    await k.run();
    expect(result).toEqual(['ENXIO', 'eof:0', 'read:2:0', 'EAGAIN', 'fifo']);
  });

  it('a blocking open waits for the other end, and a blocked read wakes on data', async () => {
    const k = newKernel(25);
    const events: string[] = [];
    const reader = addProgram(k, 'reader', async (sys) => {
      await sys.fs.mkfifo('/tmp/t', 0o600);
      const fd = await sys.fs.open('/tmp/t', O.RDONLY); // blocks until a writer opens
      events.push(`open@${Math.floor(sys.clock.monotonicMs() / 100)}`);
      const buf = new Uint8Array(4);
      const n = await sys.fs.read(fd, buf);
      events.push(`read ${n}@${Math.floor(sys.clock.monotonicMs() / 100)}`);
      return 0;
    });
    const writer = addProgram(k, 'writer', async (sys) => {
      await sys.clock.sleep(1000);
      const fd = await sys.fs.open('/tmp/t', O.WRONLY);
      await sys.clock.sleep(1000);
      await writeAll(sys, fd, enc('go'));
      await sys.clock.sleep(dayMs);
      return 0;
    });
    k.spawn(reader, ['reader']);
    k.spawn(writer, ['writer']);
    await k.run({ untilMs: 5000 });
    expect(events).toEqual(['open@10', 'read 2@20']);
  });
});

describe('flock', () => {
  it('excludes a second description; wait=true blocks until the holder closes', async () => {
    const k = newKernel(26);
    k.writeFile('/tmp/lock', '', { uid: 0, gid: 0, mode: 0o644 });
    const log: string[] = [];
    const holder = addProgram(k, 'holder', async (sys) => {
      const fd = await sys.fs.open('/tmp/lock', O.RDWR);
      await sys.fs.lock(fd, false);
      log.push(`held@${Math.round(sys.clock.monotonicMs())}`);
      await sys.clock.sleep(500);
      return 0; // exit closes fd, releasing the lock
    });
    const waiter = addProgram(k, 'waiter', async (sys) => {
      await sys.clock.sleep(100);
      const fd = await sys.fs.open('/tmp/lock', O.RDWR);
      log.push(await errnoOf(sys.fs.lock(fd, false)));
      await sys.fs.lock(fd, true);
      log.push(`got@${Math.round(sys.clock.monotonicMs())}`);
      await sys.fs.unlock(fd);
      return 0;
    });
    k.spawn(holder, ['holder']);
    k.spawn(waiter, ['waiter']);
    await k.run();
    expect(log).toEqual(['held@0', 'EAGAIN', 'got@500']);
  });
});

describe('network', () => {
  it('connects to a listener, exchanges bytes both ways, refuses when nobody listens', async () => {
    const k = newKernel(27);
    k.net.setMx('example.org', [{ exchange: 'mx.example.org', priority: 10 }]);
    k.net.setA('mx.example.org', ['10.0.0.2']);
    const server = addProgram(k, 'server', async (sys) => {
      const l = await sys.net.listen({ host: '10.0.0.2', port: 25 });
      const c = await l.accept();
      await writeAll(sys, c.fd, enc(`220 hello ${c.remote.host}\r\n`));
      const got = await readAll(sys, c.fd);
      await writeAll(sys, 1, got);
      await l.close();
      return 0;
    });
    const client = addProgram(k, 'client', async (sys) => {
      const refused = await errnoOf(sys.net.connect({ host: '10.0.0.3', port: 25 }, 1000));
      const [mx] = await sys.net.resolveMx('Example.ORG.');
      const [ip] = await sys.net.resolveA(mx?.exchange ?? '');
      await sys.clock.sleep(10);
      const c = await sys.net.connect({ host: ip ?? '', port: 25 }, 1000);
      const buf = new Uint8Array(100);
      const n = await sys.fs.read(c.fd, buf);
      await writeAll(sys, c.fd, enc('QUIT\r\n'));
      await sys.fs.close(c.fd);
      await writeAll(sys, 1, enc(`${refused} ${dec(buf.subarray(0, n))}`));
      return 0;
    });
    const s = k.spawn(server, ['server'], { ip: '10.0.0.2' });
    const c = k.spawn(client, ['client'], { ip: '10.0.0.1' });
    await k.run();
    expect((await c.wait()).stdout).toBe('ECONNREFUSED 220 hello 10.0.0.1\r\n');
    expect((await s.wait()).stdout).toBe('QUIT\r\n');
  });

  it('times out against a black-holed host after timeoutMs of virtual time', async () => {
    const k = newKernel(28);
    k.net.setHostFault('10.9.9.9', 'timeout');
    let out = '';
    const p = addProgram(k, 'c', async (sys) => {
      const t0 = sys.clock.monotonicMs();
      const e = await errnoOf(sys.net.connect({ host: '10.9.9.9', port: 25 }, 60_000));
      out = `${e} ${sys.clock.monotonicMs() - t0 >= 60_000}`;
      return 0;
    });
    k.spawn(p, ['c']);
    await k.run();
    expect(out).toBe('ETIMEDOUT true');
  });
});
