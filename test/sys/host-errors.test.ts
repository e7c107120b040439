// Node error -> SysError mapping, DNS answer classes, signal names.

import { describe, expect, it } from 'vitest';
import { SysError } from '../../impl/sys/errors.ts';
import { sysErrorFrom } from '../../impl/sys/host/errors.ts';
import { dnsEmptyOrThrow } from '../../impl/sys/host/net.ts';
import { signalOf } from '../../impl/sys/host/signals.ts';
import { statFrom } from '../../impl/sys/host/stat.ts';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import type { BigIntStats } from 'node:fs';

describe('sysErrorFrom', () => {
  it('keeps a known errno name, with the syscall and path given', () => {
    const e = sysErrorFrom(Object.assign(new Error('x'), { code: 'ENOENT' }), 'open', '/a');
    expect([e.code, e.syscall, e.path, e.message]).toEqual(['ENOENT', 'open', '/a', 'open /a: ENOENT']);
  });

  it('folds Linux aliases', () => {
    expect(sysErrorFrom({ code: 'EWOULDBLOCK' }, 'read').code).toBe('EAGAIN');
    expect(sysErrorFrom({ code: 'EOPNOTSUPP' }, 'x').code).toBe('ENOTSUP');
  });

  it('turns unknown codes into EIO, keeping the original in the message', () => {
    const e = sysErrorFrom(Object.assign(new Error('stream gone'), { code: 'ERR_STREAM_DESTROYED' }), 'write');
    expect(e.code).toBe('EIO');
    expect(e.message).toContain('ERR_STREAM_DESTROYED');
    expect(e.message).toContain('stream gone');
    expect(sysErrorFrom('weird', 'x').code).toBe('EIO');
    expect(sysErrorFrom(null, 'x').message).toContain('no code');
  });

  it('passes a SysError through unchanged', () => {
    const e = new SysError('EXDEV', 'rename', '/x');
    expect(sysErrorFrom(e, 'other')).toBe(e);
  });

  it('maps what the real kernel says through HostFs', async () => {
    const fs = new HostFs(new FdTable(), () => 0o022);
    await expect(fs.open('/nonexistent/dir/file', 0)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    await expect(fs.read(987, new Uint8Array(1))).rejects.toMatchObject({ code: 'EBADF', syscall: 'read' });
    await expect(fs.close(987)).rejects.toMatchObject({ code: 'EBADF' });
  });
});

describe('dnsEmptyOrThrow', () => {
  it('NXDOMAIN and NODATA are an empty answer', () => {
    expect(dnsEmptyOrThrow({ code: 'ENOTFOUND' }, 'resolveMx', 'x.invalid')).toEqual([]);
    expect(dnsEmptyOrThrow({ code: 'ENODATA' }, 'resolveA', 'x')).toEqual([]);
  });

  it('SERVFAIL, timeouts and the rest are EAGAIN, cause kept', () => {
    for (const code of ['ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED']) {
      let err: unknown;
      try {
        dnsEmptyOrThrow({ code }, 'resolveMx', 'example.org');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SysError);
      expect((err as SysError).code).toBe('EAGAIN');
      expect((err as SysError).message).toContain(code);
    }
  });
});

describe('signalOf', () => {
  it('keeps known names and folds aliases', () => {
    expect(signalOf('SIGTERM')).toBe('SIGTERM');
    expect(signalOf('SIGSEGV')).toBe('SIGSEGV');
    expect(signalOf('SIGIOT')).toBe('SIGABRT');
    expect(signalOf('SIGRTMIN+3')).toBe('SIGKILL');
  });
});

describe('statFrom', () => {
  const base = {
    dev: 2049n, ino: 12n, mode: 0o100644n, nlink: 1n, uid: 0n, gid: 0n, size: 5n,
    atimeNs: 1_700_000_000_123_456_789n, mtimeNs: 1_700_000_000_000_000_000n, ctimeNs: 0n,
  };

  it('converts, keeping sub-millisecond time as a fraction', () => {
    const st = statFrom(base as unknown as BigIntStats, 'stat', '/f');
    expect([st.ino, st.kind, st.mode, st.size]).toEqual([12, 'file', 0o100644, 5]);
    expect(st.atimeMs).toBeCloseTo(1_700_000_000_123.456789, 6);
    expect(st.mtimeMs).toBe(1_700_000_000_000);
  });

  it('an inode number above 2^53 is EOVERFLOW, never a rounded id', () => {
    const big = { ...base, ino: 2n ** 60n } as unknown as BigIntStats;
    expect(() => statFrom(big, 'stat', '/f')).toThrow(expect.objectContaining({ code: 'EOVERFLOW', path: '/f' }));
  });
});
