// The simulated kernel: processes, exit codes, crashes of programs, virtual time, spawn and exec
// checks, setuid, signals, run-loop bounds and power loss.

import { describe, expect, it } from 'vitest';
import type { Sys } from '../../impl/sys/types.ts';
import { O } from '../../impl/sys/types.ts';
import { readAll, writeAll } from '../../impl/shared/fdio.ts';
import { addProgram, dayMs, dec, enc, errnoOf, newKernel } from './helpers.ts';


describe('processes', () => {
  it('runs a program with stdin, captured stdout and an exit code', async () => {
    const k = newKernel(1);
    const cat = addProgram(k, 'cat', async (sys) => {
      const input = await readAll(sys, 0);
      await writeAll(sys, 1, input);
      await writeAll(sys, 2, enc(`argv=${sys.proc.self.argv.join(',')}`));
      return 3;
    });
    const h = k.spawn(cat, ['cat', '-x'], { stdin: 'hello\n' });
    await k.run();
    const r = await h.wait();
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'hello\n', stderr: 'argv=cat,-x' });
  });

  it('exit() unwinds with ProgramExit and nothing after it runs', async () => {
    const k = newKernel(2);
    let after = false;
    const p = addProgram(k, 'exiter', async (sys) => {
      const deep = (): never => sys.proc.exit(7);
      await sys.clock.sleep(1);
      deep();
      after = true;
      return 0;
    });
    const h = k.spawn(p, ['exiter']);
    await k.run();
    expect(await h.wait()).toMatchObject({ code: 7, signal: null });
    expect(after).toBe(false);
    expect(k.bugs).toEqual([]);
  });

  it('records an escaping exception as a bug and ends the process with SIGABRT', async () => {
    const k = newKernel(3);
    const p = addProgram(k, 'buggy', async (sys) => {
      await sys.clock.sleep(5);
      throw new TypeError('oops');
    });
    const h = k.spawn(p, ['buggy']);
    await k.run();
    expect(await h.wait()).toMatchObject({ code: null, signal: 'SIGABRT' });
    expect(k.bugs.map((b) => b.message)).toEqual(['TypeError: oops']);
    expect(k.trace.lines.some((l) => l.includes('"event":"proc.crashed"'))).toBe(true);
  });

  it('sleeps a virtual day at once', async () => {
    const k = newKernel(4);
    const p = addProgram(k, 'sleeper', async (sys) => {
      const t0 = sys.clock.nowMs();
      await sys.clock.sleep(dayMs);
      return sys.clock.nowMs() - t0 >= dayMs ? 0 : 1;
    });
    const h = k.spawn(p, ['sleeper']);
    const started = performance.now();
    await k.run();
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await h.wait()).code).toBe(0);
    expect(k.nowMs).toBeGreaterThanOrEqual(dayMs);
  });

  it('timers fire in virtual-time order and can be cancelled', async () => {
    const k = newKernel(5);
    const p = addProgram(k, 'timers', async (sys) => {
      const seen: string[] = [];
      sys.clock.timer(30, () => seen.push('30'));
      const cancel = sys.clock.timer(20, () => seen.push('20'));
      sys.clock.timer(10, () => seen.push('10'));
      cancel();
      await sys.clock.sleep(50);
      await writeAll(sys, 1, enc(seen.join(' ')));
      return 0;
    });
    const h = k.spawn(p, ['timers']);
    await k.run();
    expect((await h.wait()).stdout).toBe('10 30');
  });
});

describe('spawn', () => {
  it('wires pipe fds both ways and reports the child exit status', async () => {
    const k = newKernel(6);
    const upper = addProgram(k, 'upper', async (sys) => {
      const input = await readAll(sys, 0);
      await writeAll(sys, 1, enc(dec(input).toUpperCase()));
      return 5;
    });
    const parent = addProgram(k, 'parent', async (sys) => {
      const child = await sys.proc.spawn(upper, ['upper'], { env: {}, fds: ['pipe', 'pipe', 2] });
      const to = child.fds[0] as number;
      const from = child.fds[1] as number;
      await writeAll(sys, to, enc('mail'));
      await sys.fs.close(to);
      const out = dec(await readAll(sys, from));
      const st = await child.wait();
      await writeAll(sys, 1, enc(`${out} ${st.code}`));
      return 0;
    });
    const h = k.spawn(parent, ['parent']);
    await k.run();
    expect((await h.wait()).stdout).toBe('MAIL 5');
  });

  it('gives a child /dev/null for a missing fd 0, 1 or 2', async () => {
    const k = newKernel(16);
    let seen = '';
    const quiet = addProgram(k, 'quiet', async (sys) => {
      const n = await sys.fs.read(0, new Uint8Array(8));
      const w = await sys.fs.write(2, enc('into the void'));
      const st = await sys.fs.fstat(1);
      seen = `${n} ${w} ${st.kind} ${await errnoOf(sys.fs.fstat(3))}`;
      return 0;
    });
    const p = addProgram(k, 'p', async (sys) => {
      await (await sys.proc.spawn(quiet, ['quiet'], { env: {}, fds: [null] })).wait();
      return 0;
    });
    k.spawn(p, ['p']);
    await k.run();
    expect(seen).toBe('0 13 other EBADF');
  });

  it('fails like execve: ENOENT, EACCES without x, ENOEXEC for a plain file', async () => {
    const k = newKernel(7);
    k.writeFile('/bin/data', 'just text\n', { uid: 0, gid: 0, mode: 0o755 });
    k.programs.register('noexec', async () => 0);
    k.install('/bin/noexec', 'noexec', { uid: 0, gid: 0, mode: 0o644 });
    const codes: string[] = [];
    const p = addProgram(k, 'try', async (sys) => {
      for (const path of ['/bin/missing', '/bin/noexec', '/bin/data']) {
        codes.push(await errnoOf(sys.proc.spawn(path, [path], { env: {}, fds: [] })));
      }
      return 0;
    });
    k.spawn(p, ['try'], { uid: 1000, gid: 1000 });
    await k.run();
    expect(codes).toEqual(['ENOENT', 'EACCES', 'ENOEXEC']);
  });

  it('runs a setuid program with the owner as effective uid; files it creates are the owner\'s', async () => {
    const k = newKernel(8);
    const ids: string[] = [];
    const suid = addProgram(k, 'suid', async (sys) => {
      const s = sys.proc.self;
      ids.push(`uid=${s.uid} euid=${s.euid} gid=${s.gid} egid=${s.egid}`);
      const fd = await sys.fs.open('/tmp/made', O.WRONLY | O.CREAT | O.EXCL, 0o600);
      await sys.fs.close(fd);
      return 0;
    }, { uid: 500, gid: 0, mode: 0o4711 });
    const h = k.spawn(suid, ['suid'], { uid: 1000, gid: 1000 });
    await k.run();
    expect((await h.wait()).code).toBe(0);
    expect(ids).toEqual(['uid=1000 euid=500 gid=1000 egid=1000']);
    expect(k.fs.peekStat('/tmp/made')).toMatchObject({ uid: 500 });
  });

  it('lets only root spawn with other credentials', async () => {
    const k = newKernel(9);
    const ids: string[] = [];
    const who = addProgram(k, 'who', async (sys) => {
      ids.push(`${sys.proc.self.uid}/${sys.proc.self.gid}/${sys.proc.self.groups.join(',')}`);
      return 0;
    });
    const codes: string[] = [];
    const p = addProgram(k, 'spawner', async (sys) => {
      codes.push(await errnoOf(sys.proc.spawn(who, ['who'], { env: {}, fds: [], uid: 0, gid: 0 })));
      const c = await sys.proc.spawn(who, ['who'], { env: {}, fds: [] });
      await c.wait();
      return 0;
    });
    const root = addProgram(k, 'rootspawner', async (sys) => {
      const c = await sys.proc.spawn(who, ['who'], { env: {}, fds: [], uid: 77, gid: 78, groups: [78, 5] });
      await c.wait();
      return 0;
    });
    k.spawn(p, ['spawner'], { uid: 1000, gid: 100 });
    await k.run();
    k.spawn(root, ['rootspawner']);
    await k.run();
    expect(codes).toEqual(['EPERM']);
    expect(ids).toEqual(['1000/100/100', '77/78/78,5']);
  });
});

describe('cwd and umask', () => {
  it('resolves relative paths against cwd, masks modes with umask, spawns relative to the new cwd', async () => {
    const k = newKernel(15);
    k.mkdirs('/var/q', { uid: 0, gid: 0, mode: 0o755 });
    const seen: string[] = [];
    const child = addProgram(k, 'child', async (sys) => {
      seen.push(`${sys.proc.cwd()} ${sys.proc.self.exe}`);
      return 0;
    });
    const p = addProgram(k, 'p', async (sys) => {
      expect(sys.proc.umask(0o027)).toBe(0o022);
      await sys.proc.chdir('/var/q');
      const fd = await sys.fs.open('f', O.WRONLY | O.CREAT, 0o666);
      await sys.fs.close(fd);
      seen.push(`${sys.proc.cwd()} ${((await sys.fs.stat('/var/q/f')).mode & 0o777).toString(8)}`);
      seen.push(await errnoOf(sys.proc.chdir('/var/q/f')));
      const c = await sys.proc.spawn('../../bin/child', ['child'], { env: {}, fds: [], cwd: '/tmp/../var/q' });
      await c.wait();
      return 0;
    });
    k.spawn(p, ['p']);
    await k.run();
    expect(k.bugs.map((b) => b.message)).toEqual([]);
    expect(seen).toEqual(['/var/q 640', 'ENOTDIR', `/var/q ${child}`]);
  });

  it('a relative path follows the cwd path as it is now: after its directory is renamed, replaced or removed', async () => {
    const k = newKernel(16);
    const dir = { uid: 0, gid: 0, mode: 0o755 };
    k.mkdirs('/q/d', dir);
    k.writeFile('/q/d/f', 'first', { ...dir, mode: 0o644 });
    const seen: string[] = [];
    const p = addProgram(k, 'p', async (sys) => {
      const size = async (): Promise<string> => {
        try {
          return String((await sys.fs.stat('f')).size);
        } catch (e) {
          return (e as { code: string }).code;
        }
      };
      await sys.proc.chdir('/q/d');
      seen.push(await size());
      await sys.fs.rename('/q/d', '/q/old');
      seen.push(await size());
      await sys.fs.mkdir('/q/d', 0o755);
      const fd = await sys.fs.open('/q/d/f', O.WRONLY | O.CREAT, 0o644);
      await sys.fs.write(fd, new Uint8Array(2), 0, 2, null);
      await sys.fs.close(fd);
      seen.push(await size());
      await sys.fs.unlink('/q/d/f');
      await sys.fs.rmdir('/q/d');
      seen.push(await size());
      await sys.fs.symlink('/q/old', '/q/d');
      seen.push(await size());
      return 0;
    });
    k.spawn(p, ['p']);
    await k.run();
    expect(k.bugs.map((b) => b.message)).toEqual([]);
    expect(seen).toEqual(['5', 'ENOENT', '2', 'ENOENT', '5']);
  });
});

describe('signals', () => {
  it('SIGTERM kills by default, runs a handler when one is set; SIGKILL always kills', async () => {
    const k = newKernel(10);
    const got: string[] = [];
    const plain = addProgram(k, 'plain', async (sys) => {
      await sys.clock.sleep(dayMs);
      return 0;
    });
    const handled = addProgram(k, 'handled', async (sys) => {
      sys.proc.onSignal('SIGTERM', () => got.push('term'));
      await sys.clock.sleep(dayMs);
      return 0;
    });
    const a = k.spawn(plain, ['plain']);
    const b = k.spawn(handled, ['handled']);
    await k.run({ untilMs: 10 });
    k.kill(a.pid, 'SIGTERM');
    k.kill(b.pid, 'SIGTERM');
    await k.run({ untilMs: 20 });
    expect(a.status()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(b.status()).toBeNull();
    k.kill(b.pid, 'SIGKILL');
    expect(await b.wait()).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(got).toEqual(['term']);
  });

  it('kill(2) needs a matching uid unless root', async () => {
    const k = newKernel(11);
    const sleeper = addProgram(k, 'sleeper', async (sys) => {
      await sys.clock.sleep(dayMs);
      return 0;
    });
    const target = k.spawn(sleeper, ['sleeper'], { uid: 0 });
    const mine = k.spawn(sleeper, ['sleeper'], { uid: 1000 });
    const codes: string[] = [];
    const killer = addProgram(k, 'killer', async (sys) => {
      codes.push(await errnoOf(sys.proc.kill(target.pid, 'SIGTERM')));
      codes.push(await errnoOf(sys.proc.kill(mine.pid, 'SIGTERM')));
      codes.push(await errnoOf(sys.proc.kill(99_999, 'SIGTERM')));
      return 0;
    });
    k.spawn(killer, ['killer'], { uid: 1000 });
    await k.run({ untilMs: 1000 });
    expect(codes).toEqual(['EPERM', 'ok', 'ESRCH']);
    expect(mine.status()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(target.status()).toBeNull();
  });

  it('a signal sent to oneself is delivered before kill(2) returns', async () => {
    const k = newKernel(12);
    const after: string[] = [];
    const suicide = addProgram(k, 'suicide', async (sys) => {
      await sys.proc.kill(sys.proc.self.pid, 'SIGKILL');
      after.push('ran on'); // POSIX: never reached
      return 0;
    });
    const handled = addProgram(k, 'handled', async (sys) => {
      sys.proc.onSignal('SIGUSR1', () => after.push('handler'));
      await sys.proc.kill(sys.proc.self.pid, 'SIGUSR1');
      after.push('returned');
      return 0;
    });
    const a = k.spawn(suicide, ['suicide']);
    const b = k.spawn(handled, ['handled']);
    await k.run();
    expect(await a.wait()).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(await b.wait()).toMatchObject({ code: 0, signal: null });
    expect(after).toEqual(['handler', 'returned']);
  });
});

describe('run loop and power loss', () => {
  it('stops after exactly maxEvents events', async () => {
    const k = newKernel(12);
    const p = addProgram(k, 'busy', async (sys) => {
      for (let i = 0; i < 100; i++) await sys.fs.stat('/');
      return 0;
    });
    k.spawn(p, ['busy']);
    const before = k.eventsRun;
    expect(await k.run({ maxEvents: 10 })).toEqual({ end: 'maxEvents', events: 10 });
    expect(k.eventsRun - before).toBe(10);
    expect((await k.run()).end).toBe('idle');
  });

  it('power loss: unsynced files vanish, processes die with SIGKILL, the world boots again', async () => {
    const k = newKernel(13);
    const writer = addProgram(k, 'writer', async (sys) => {
      const synced = await sys.fs.open('/tmp/synced', O.WRONLY | O.CREAT, 0o644);
      await writeAll(sys, synced, enc('kept'));
      await sys.fs.fsync(synced);
      await sys.fs.syncDir('/tmp');
      const loose = await sys.fs.open('/tmp/loose', O.WRONLY | O.CREAT, 0o644);
      await writeAll(sys, loose, enc('lost'));
      await sys.clock.sleep(dayMs);
      return 0;
    });
    const h = k.spawn(writer, ['writer']);
    await k.run({ untilMs: 1000 });
    expect(k.fs.peekFile('/tmp/loose')).not.toBeNull();
    k.powerLoss(() => 0);
    expect(await h.wait()).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(k.pids()).toEqual([]);
    expect(k.fs.peekFile('/tmp/loose')).toBeNull();
    expect(dec(k.fs.peekFile('/tmp/synced') ?? new Uint8Array(0))).toBe('kept');
    expect((await k.run()).end).toBe('idle');
    const again = k.spawn(writer, ['writer']);
    await k.run({ untilMs: k.nowMs + 100 });
    expect(again.status()).toBeNull();
  });
});

describe('users', () => {
  it('answers passwd and group lookups from the world table', async () => {
    const k = newKernel(14);
    k.users.addUser({ name: 'alias', uid: 7790, gid: 2108, home: '/var/qmail/alias' });
    k.users.addGroup('nofiles', 2108);
    k.users.addGroup('mail', 12, ['alias']);
    let out = '';
    const p = addProgram(k, 'pw', async (sys: Sys) => {
      const pw = await sys.users.getpwnam('alias');
      const gr = await sys.users.getgrnam('nofiles');
      const groups = await sys.users.groupsOf('alias', 2108);
      const none = await sys.users.getpwnam('nobody');
      out = `${pw?.uid} ${pw?.home} ${gr?.gid} ${groups.join(',')} ${none}`;
      return 0;
    });
    k.spawn(p, ['pw']);
    await k.run();
    expect(out).toBe('7790 /var/qmail/alias 2108 2108,12 null');
  });
});

