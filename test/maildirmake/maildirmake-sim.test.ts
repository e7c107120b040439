// maildirmake in the simulator: the tree and its modes and owner, qmail's messages, and that a
// maildir made (exit 0) survives a power loss under the posix profile.

import { describe, expect, it } from 'vitest';
import { main as maildirmakeMain } from '../../impl/maildirmake/main.ts';
import type { Kernel } from '../../sim/kernel.ts';
import { addProgram, newKernel } from '../sim/helpers.ts';
import { runInSim } from '../support/sim-program.ts';

const joe = { uid: 507, gid: 100 };

function world(seed = 1): { k: Kernel; bin: string } {
  const k = newKernel(seed, { profile: 'posix' });
  k.mkdirs('/home/joe', { ...joe, mode: 0o755 });
  return { k, bin: addProgram(k, 'maildirmake', maildirmakeMain) };
}

const run = (w: { k: Kernel; bin: string }, args: string[]) => runInSim(w.k, w.bin, ['maildirmake', ...args], { ...joe, cwd: '/home/joe' });

describe('maildirmake (sim)', () => {
  it('makes name, name/tmp, name/new, name/cur, 0700, owned by the caller, whatever the umask', async () => {
    const w = world();
    const r = await runInSim(w.k, w.bin, ['maildirmake', 'Maildir'], { ...joe, cwd: '/home/joe', umask: 0o000 });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    for (const d of ['', '/tmp', '/new', '/cur']) {
      const st = w.k.fs.peekStat(`/home/joe/Maildir${d}`)!;
      expect([st.kind, st.mode & 0o7777, st.uid], d).toEqual(['dir', 0o700, 507]);
    }
    expect(w.k.fs.peekDir('/home/joe/Maildir')!.sort()).toEqual(['cur', 'new', 'tmp']);
  });

  it('is durable once it exits 0: a power loss keeps the whole maildir', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const w = world(seed);
      expect((await run(w, ['/home/joe/Maildir/'])).code).toBe(0);
      w.k.powerLoss();
      expect(w.k.fs.peekDir('/home/joe/Maildir')?.sort(), `seed ${seed}`).toEqual(['cur', 'new', 'tmp']);
    }
  });

  it('an existing name is qmail\'s fatal, exit 111', async () => {
    const w = world();
    await run(w, ['Maildir']);
    expect(await run(w, ['Maildir'])).toMatchObject({ code: 111, stderr: 'maildirmake: fatal: unable to mkdir Maildir: file already exists\n' });
  });

  it('a subdirectory in the way, or no permission, names the path and the error', async () => {
    const w = world();
    w.k.mkdirs('/home/joe/M', { ...joe, mode: 0o700 });
    w.k.fs.setFaultHook((op, p) => (op === 'mkdir' && p === 'new' ? 'EEXIST' : null));
    expect(await runInSim(w.k, w.bin, ['maildirmake', 'M2'], { ...joe, cwd: '/home/joe' })).toMatchObject({
      code: 111,
      stderr: 'maildirmake: fatal: unable to mkdir M2/new: file already exists\n',
    });
    w.k.fs.setFaultHook(null);
    expect(await runInSim(w.k, w.bin, ['maildirmake', '/root-only/x'], { ...joe, cwd: '/home/joe' })).toMatchObject({
      code: 111,
      stderr: 'maildirmake: fatal: unable to mkdir /root-only/x: file does not exist\n',
    });
    w.k.mkdirs('/locked', { uid: 0, gid: 0, mode: 0o755 });
    expect(await run(w, ['/locked/Maildir'])).toMatchObject({ code: 111, stderr: 'maildirmake: fatal: unable to mkdir /locked/Maildir: access denied\n' });
  });

  it('no name: usage, exit 100', async () => {
    expect(await run(world(), [])).toMatchObject({ code: 100, stderr: 'maildirmake: usage: maildirmake name\n' });
  });
});
