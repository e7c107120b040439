// Proc.setCreds in the simulator, as on the host (test/sys/host-set-creds.test.ts): root becomes
// another user for good, the kernel's process credentials and self follow, file access is checked
// with the new ids, a child inherits them, and a second change (or a non-root one) is EPERM.

import { describe, expect, it } from 'vitest';
import { O } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { addProgram, enc, errnoOf, newKernel } from './helpers.ts';

describe('setCreds (simulator)', () => {
  it('root drops to uid/gid/groups for good; access, children and self follow', async () => {
    const k = newKernel(3);
    k.writeFile('/tmp/root-only', 'secret', { uid: 0, gid: 0, mode: 0o600 });
    const id = addProgram(k, 'id', async (sys) => {
      const s = sys.proc.self;
      await writeAll(sys, 1, enc(`child ${s.uid} ${s.euid} ${s.gid} ${s.groups.join(',')}\n`));
      return 0;
    });
    let pid = 0;
    const prog = addProgram(k, 'dropper', async (sys) => {
      pid = sys.proc.self.pid;
      const before = await errnoOf(sys.fs.open('/tmp/root-only', O.RDONLY));
      await sys.proc.setCreds(500, 600, [600, 700]);
      const s = sys.proc.self;
      const lines = [
        `before ${before}`,
        `self ${s.uid} ${s.euid} ${s.gid} ${s.egid} ${s.groups.join(',')}`,
        `after ${await errnoOf(sys.fs.open('/tmp/root-only', O.RDONLY))}`,
        `again ${await errnoOf(sys.proc.setCreds(0, 0, [0]))}`,
      ];
      await writeAll(sys, 1, enc(`${lines.join('\n')}\n`));
      await (await sys.proc.spawn(id, ['id'], { env: {}, fds: [null, 1, 2] })).wait();
      expect(k.procs.get(pid)!.creds).toEqual({ uid: 500, gid: 600, euid: 500, egid: 600, groups: [600, 700] });
      return 0;
    });
    const h = k.spawn(prog, ['dropper']);
    await k.run();
    expect((await h.wait()).stdout).toBe('before ok\nself 500 500 600 600 600,700\nafter EACCES\nagain EPERM\nchild 500 500 600 600,700\n');
  });

  it('a process that is not root gets EPERM, and bad ids EINVAL', async () => {
    const k = newKernel(4);
    const prog = addProgram(k, 'p', async (sys) => {
      await writeAll(sys, 1, enc(`${await errnoOf(sys.proc.setCreds(0, 0, [0]))} ${await errnoOf(sys.proc.setCreds(-1, 0, [0]))}`));
      return 0;
    });
    const h = k.spawn(prog, ['p'], { uid: 100, gid: 100 });
    await k.run();
    expect((await h.wait()).stdout).toBe('EPERM EINVAL');
  });
});
