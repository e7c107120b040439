// HostFs.open classifies what it opened without fstat when the flags already say it:
// O_CREAT|O_EXCL made a regular file, O_DIRECTORY opened a directory. Anything else is still
// classified by fstat, so that a FIFO reached by a plain open (with or without O_CREAT) stays a
// stream and never blocks a threadpool thread. Both modes (threadpool and syncMetadata).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { O } from '../../impl/sys/types.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'host-fs-open-kind-'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof SysError) return e.code;
    throw e;
  }
}

for (const syncMetadata of [false, true]) {
  describe(`HostFs.open kinds (syncMetadata ${syncMetadata})`, () => {
    const fs = (): HostFs => new HostFs(new FdTable(), () => 0o022, { syncMetadata });

    it('a file made with O_CREAT|O_EXCL is a file: positional IO, fstat, fsync', async () => {
      const f = fs();
      const path = join(dir, `new-${syncMetadata}`);
      const fd = await f.open(path, O.RDWR | O.CREAT | O.EXCL, 0o600);
      expect(await f.write(fd, enc('hello world'))).toBe(11);
      expect(await f.write(fd, enc('J'), 0, 1, 0)).toBe(1);
      const buf = new Uint8Array(5);
      expect(await f.read(fd, buf, 0, 5, 0)).toBe(5);
      expect(new TextDecoder().decode(buf)).toBe('Jello');
      await f.fsync(fd);
      expect((await f.fstat(fd)).kind).toBe('file');
      await f.close(fd);
      expect(readFileSync(path, 'utf8')).toBe('Jello world');
    });

    it('O_CREAT|O_EXCL on an existing FIFO is EEXIST at once', async () => {
      expect(await codeOf(fs().open(join(dir, 'fifo'), O.WRONLY | O.CREAT | O.EXCL, 0o600))).toBe('EEXIST');
    });

    it('an O_DIRECTORY fd can be fsynced and closed; on a file it is ENOTDIR', async () => {
      const f = fs();
      const fd = await f.open(dir, O.RDONLY | O.DIRECTORY);
      await f.fsync(fd);
      await f.close(fd);
      expect(await codeOf(f.open(join(dir, `new-${syncMetadata}`), O.RDONLY | O.DIRECTORY))).toBe('ENOTDIR');
    });

    it('a FIFO opened with O_CREAT (no O_EXCL) is still classified by fstat: direct, not a file', async () => {
      const fds = new FdTable();
      const f = new HostFs(fds, () => 0o022, { syncMetadata });
      const fd = await f.open(join(dir, 'fifo'), O.RDONLY | O.CREAT | O.NONBLOCK, 0o600);
      expect((await fds.entry(fd)).kind).toBe('direct');
      expect(await f.read(fd, new Uint8Array(10))).toBe(0);
      await f.close(fd);
    });

    it('the files and directories opened without fstat are file entries', async () => {
      const fds = new FdTable();
      const f = new HostFs(fds, () => 0o022, { syncMetadata });
      const a = await f.open(join(dir, `entry-${syncMetadata}`), O.WRONLY | O.CREAT | O.EXCL, 0o600);
      const b = await f.open(dir, O.RDONLY | O.DIRECTORY);
      expect([(await fds.entry(a)).kind, (await fds.entry(b)).kind]).toEqual(['file', 'file']);
      await f.close(a);
      await f.close(b);
    });
  });
}
