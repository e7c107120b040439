// usersCdbLookup (impl/shared/users-cdb.ts) on the host file system: outcomes as qmail-lspawn's
// child has them, and the (dev, ino, size, mtime, ctime) cache of a long-lived caller.

import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAssign } from '../../impl/lib/assign.ts';
import { cdbMake } from '../../impl/lib/cdb.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { hostSys } from '../../impl/sys/host/index.ts';
import type { Sys } from '../../impl/sys/types.ts';
import { UsersCdbCache, usersCdbLookup } from '../../impl/shared/users-cdb.ts';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'users-cdb-'));
  mkdirSync(join(home, 'users'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function cdbOf(assign: string): Uint8Array {
  const r = parseAssign(enc(assign));
  if (!('records' in r)) throw new Error('format');
  return cdbMake(r.records);
}

/** qmail-newu's way: a new file renamed over the old. */
function install(assign: string): void {
  writeFileSync(join(home, 'users/cdb.tmp'), cdbOf(assign));
  renameSync(join(home, 'users/cdb.tmp'), join(home, 'users/cdb'));
}

/** The host Sys, counting opens (and failing them with `openError` when set). */
async function countingSys(): Promise<{ sys: Sys; opens: () => number; fail: (code: 'EACCES' | null) => void }> {
  const base = await hostSys();
  let opens = 0;
  let openError: 'EACCES' | null = null;
  const fs = new Proxy(base.fs, {
    get(t, p) {
      if (p === 'open')
        return async (path: string, flags: number, mode?: number) => {
          opens++;
          if (openError !== null) throw new SysError(openError, 'open', path);
          return t.open(path, flags, mode);
        };
      const v = Reflect.get(t, p) as unknown;
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return { sys: { ...base, fs }, opens: () => opens, fail: (c) => (openError = c) };
}

const assign = '=joe:joe:507:100:/home/joe:::\n+joe-:joe:507:100:/home/joe:-:x-:\n.\n';

describe('usersCdbLookup', () => {
  it('no users/cdb: none (qmail-getpw decides)', async () => {
    expect(await usersCdbLookup(await hostSys(), home, 'joe')).toEqual({ none: true });
  });

  it('an exact match and a wildcard match with the original-case rest appended to ext', async () => {
    install(assign);
    const sys = await hostSys();
    expect(await usersCdbLookup(sys, home, 'JOE')).toEqual({ record: { user: 'joe', uid: '507', gid: '100', homedir: '/home/joe', dash: '', ext: '' } });
    expect(await usersCdbLookup(sys, home, 'Joe-Déjà-Vu')).toEqual({ record: { user: 'joe', uid: '507', gid: '100', homedir: '/home/joe', dash: '-', ext: 'x-Déjà-Vu' } });
    expect(await usersCdbLookup(sys, home, 'bob')).toEqual({ none: true });
  });

  it('trouble is QLX_CDB (117): unreadable, a directory, corrupt, or no wildchars record', async () => {
    const c = await countingSys();
    install(assign);
    c.fail('EACCES');
    expect(await usersCdbLookup(c.sys, home, 'joe')).toEqual({ qlx: 117 });
    c.fail(null);
    writeFileSync(join(home, 'users/cdb'), cdbOf(assign).subarray(0, 2100));
    expect(await usersCdbLookup(c.sys, home, 'joe')).toEqual({ qlx: 117 });
    writeFileSync(join(home, 'users/cdb'), cdbMake([[enc('!joe\0'), enc('joe\x00507\x00100\0/h\0\0')]]));
    expect(await usersCdbLookup(c.sys, home, 'joe')).toEqual({ qlx: 117 });
    unlinkSync(join(home, 'users/cdb'));
    mkdirSync(join(home, 'users/cdb'));
    expect(await usersCdbLookup(c.sys, home, 'joe')).toEqual({ qlx: 117 });
  });

  it('a matched value with fewer than six fields is QLX_USAGE (112), as lspawn parses it', async () => {
    writeFileSync(join(home, 'users/cdb'), cdbMake([[enc('!joe\0'), enc('joe\x00507\x00100')], [enc(''), enc('')]]));
    expect(await usersCdbLookup(await hostSys(), home, 'joe')).toEqual({ qlx: 112 });
  });

  it('with a cache: one read while users/cdb is unchanged, a fresh read after qmail-newu replaces it', async () => {
    const c = await countingSys();
    const cache = new UsersCdbCache();
    install(assign);
    expect(await usersCdbLookup(c.sys, home, 'joe', cache)).toMatchObject({ record: { user: 'joe' } });
    expect(await usersCdbLookup(c.sys, home, 'joe-a', cache)).toMatchObject({ record: { ext: 'x-a' } });
    expect(await usersCdbLookup(c.sys, home, 'nobody', cache)).toEqual({ none: true });
    expect(c.opens()).toBe(1);
    install('=joe:joseph:600:100:/home/joseph:::\n.\n');
    expect(await usersCdbLookup(c.sys, home, 'joe', cache)).toMatchObject({ record: { user: 'joseph', uid: '600' } });
    expect(c.opens()).toBe(2);
    unlinkSync(join(home, 'users/cdb'));
    expect(await usersCdbLookup(c.sys, home, 'joe', cache)).toEqual({ none: true });
    install(assign);
    expect(await usersCdbLookup(c.sys, home, 'joe', cache)).toMatchObject({ record: { user: 'joe' } });
    expect(c.opens()).toBe(3);
  });

  it('without a cache every lookup opens users/cdb, as qmail does', async () => {
    const c = await countingSys();
    install(assign);
    for (let i = 0; i < 3; i++) await usersCdbLookup(c.sys, home, 'joe');
    expect(c.opens()).toBe(3);
  });
});
