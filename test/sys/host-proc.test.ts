// HostProc: spawn (argv0, env, cwd, fds, credentials), exit status, signals, self.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { HostProc, hostSelf } from '../../impl/sys/host/proc.ts';
import { O, type Fd, type FdSpec } from '../../impl/sys/types.ts';

const isRoot = process.getuid?.() === 0;
let dir: string;
let fs: HostFs;
let proc: HostProc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'host-proc-'));
  const fds = new FdTable();
  fs = new HostFs(fds, () => 0o022);
  proc = new HostProc(fds, await hostSelf(), () => undefined);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function output(path: string, argv: string[], fds: FdSpec[], more: { env?: Record<string, string>; cwd?: string; uid?: number; gid?: number; groups?: number[] } = {}) {
  const c = await proc.spawn(path, argv, { env: more.env ?? { PATH: '/usr/bin:/bin' }, ...more, fds });
  const out = c.fds[1]!;
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = await fs.read(out, buf);
    if (n === 0) break;
    parts.push(buf.subarray(0, n));
  }
  await fs.close(out);
  return { text: Buffer.concat(parts).toString().trim(), status: await c.wait() };
}

const sh = (script: string, fds: FdSpec[] = [null, 'pipe', 2], more = {}) => output('/bin/sh', ['sh', '-c', script], fds, more);

describe('spawn', () => {
  it('reports exit codes and death by signal', async () => {
    expect((await sh('exit 3')).status).toEqual({ code: 3, signal: null });
    expect((await sh('kill -SEGV $$')).status).toEqual({ code: null, signal: 'SIGSEGV' });
  });

  it('passes argv[0], the exact environment and cwd', async () => {
    expect((await output('/bin/sh', ['qmail-like', '-c', 'echo $0'], [null, 'pipe', 2])).text).toBe('qmail-like');
    expect((await sh('echo "$FOO:${HOME-unset}"', undefined, { env: { FOO: 'bar' } })).text).toBe('bar:unset');
    expect((await sh('pwd', undefined, { cwd: dir })).text).toBe(dir);
  });

  it('a missing program is ENOENT', async () => {
    await expect(proc.spawn(join(dir, 'nope'), ['nope'], { env: {}, fds: [] })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('numbered fds are duplicated into the child, at any position', async () => {
    const path = join(dir, 'msg');
    writeFileSync(path, 'message body');
    const fd: Fd = await fs.open(path, O.RDONLY);
    expect((await sh('cat', [fd, 'pipe', 2])).text).toBe('message body');
    const again = await fs.open(path, O.RDONLY);
    expect((await sh('cat <&3', [null, 'pipe', 2, again])).text).toBe('message body');
    await fs.close(fd);
    await fs.close(again);
  });

  it('null leaves a high fd closed in the child', async () => {
    expect((await sh('if [ -e /proc/$$/fd/3 ]; then echo open; else echo closed; fi', [null, 'pipe', 2, null])).text).toBe('closed');
  });

  it('a pipe at fd 3+ is read and written like any other', async () => {
    const c = await proc.spawn('/bin/sh', ['sh', '-c', 'read line <&3; echo "got $line" >&4'], { env: {}, fds: [null, null, 2, 'pipe', 'pipe'] });
    await fs.write(c.fds[3]!, new TextEncoder().encode('hello\n'));
    const buf = new Uint8Array(64);
    const n = await fs.read(c.fds[4]!, buf);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('got hello\n');
    await c.wait();
    await fs.close(c.fds[3]!);
    await fs.close(c.fds[4]!);
  });

  it.skipIf(!isRoot)('as root: uid and gid alone leave no supplementary groups', async () => {
    expect((await output('/usr/bin/id', ['id', '-G'], [null, 'pipe', 2], { uid: 65534, gid: 65534 })).text).toBe('65534');
    expect((await output('/usr/bin/id', ['id', '-u'], [null, 'pipe', 2], { uid: 65534, gid: 65534, groups: [65534] })).text).toBe('65534');
  });

  it.skipIf(!isRoot)('as root: supplementary groups are set exactly (setpriv), argv[0] survives', async () => {
    const r = await output('/usr/bin/id', ['id', '-G'], [null, 'pipe', 2], { uid: 65534, gid: 65534, groups: [65534, 100, 8] });
    expect(r.text.split(' ').sort()).toEqual(['100', '65534', '8']);
    const a = await output('/bin/sh', ['custom-name', '-c', 'echo "$0 $(id -u) $(id -g)"'], [null, 'pipe', 2], { uid: 65534, gid: 100, groups: [100, 8] });
    expect(a.text).toBe('custom-name 65534 100');
    await expect(proc.spawn(join(dir, 'nope'), ['x'], { env: {}, uid: 1, gid: 1, groups: [1, 2], fds: [] })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('kill delivers the signal; a dead pid is ESRCH', async () => {
    const c = await proc.spawn('/bin/sleep', ['sleep', '30'], { env: {}, fds: [] });
    await proc.kill(c.pid, 'SIGTERM');
    expect(await c.wait()).toEqual({ code: null, signal: 'SIGTERM' });
    await expect(proc.kill(c.pid, 'SIGTERM')).rejects.toMatchObject({ code: 'ESRCH' });
  });
});

describe('self and signals', () => {
  it('self describes this process', () => {
    expect(proc.self.pid).toBe(process.pid);
    expect(proc.self.uid).toBe(process.getuid!());
    expect(proc.self.argv[0]).toBe(basename(process.argv[1]!));
    expect(proc.self.env['PATH']).toBe(process.env['PATH']);
    expect(proc.self.exe.startsWith('/')).toBe(true);
  });

  it('onSignal runs the handler until removed; uncatchable signals are EINVAL', async () => {
    let hits = 0;
    const remove = proc.onSignal('SIGUSR2', () => hits++);
    await proc.kill(process.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 50));
    expect(hits).toBe(1);
    remove();
    expect(process.listenerCount('SIGUSR2')).toBe(0);
    expect(() => proc.onSignal('SIGKILL', () => undefined)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('umask returns the previous mask', () => {
    const old = proc.umask(0o077);
    expect(proc.umask(old)).toBe(0o077);
  });

  it('chdir changes where relative paths resolve; a missing dir is ENOENT', async () => {
    const before = proc.cwd();
    try {
      await proc.chdir(dir);
      expect(proc.cwd()).toBe(dir);
      writeFileSync(join(dir, 'rel'), 'r');
      expect((await fs.stat('rel')).kind).toBe('file');
      await expect(proc.chdir(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'chdir' });
    } finally {
      process.chdir(before);
    }
  });
});

describe('pipe direction', () => {
  it("our end of a child's stdin is write-only: reading it is EBADF, not a hang", async () => {
    const c = await proc.spawn('/bin/cat', ['cat'], { env: {}, fds: ['pipe', null, null] });
    await expect(fs.read(c.fds[0]!, new Uint8Array(1))).rejects.toMatchObject({ code: 'EBADF' });
    await fs.close(c.fds[0]!);
    await c.wait();
  });

  it("a child's stdout pipe is also writable (stdio pipes are socketpairs): the child reads fd 1", async () => {
    const c = await proc.spawn('/bin/sh', ['sh', '-c', 'read x <&1; echo "$x" >&2'], { env: {}, fds: [null, 'pipe', 'pipe'] });
    await fs.write(c.fds[1]!, new TextEncoder().encode('envelope\n'));
    const buf = new Uint8Array(32);
    const n = await fs.read(c.fds[2]!, buf);
    expect(new TextDecoder().decode(buf.subarray(0, n))).toBe('envelope\n');
    await c.wait();
    await fs.close(c.fds[1]!);
    await fs.close(c.fds[2]!);
  });
});
