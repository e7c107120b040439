// qmail-getpw in the simulator: the rules of ../shared/spec/local.md 1.4 over a simulated passwd
// table and file system (homes made with k.mkdirs, owned as each case needs).

import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../sim/kernel.ts';
import { main as getpwMain } from '../../impl/getpw/main.ts';
import { addProgram, newKernel } from '../sim/helpers.ts';
import { runInSimBytes } from '../support/sim-program.ts';

const dir = (uid: number) => ({ uid, gid: 100, mode: 0o755 });

/** A world: alias, joe (507), joe-foo (508), root, an uppercase account, a user with no home, one
 *  whose home belongs to someone else, and 31- and 32-byte user names. */
function world(opts: { alias?: boolean } = {}): { k: Kernel; bin: string } {
  const k = newKernel(7);
  const add = (name: string, uid: number, home: string, owner: number | null): void => {
    k.users.addUser({ name, uid, gid: 100, home });
    if (owner !== null) k.mkdirs(home, dir(owner));
  };
  if (opts.alias !== false) add('alias', 7790, '/var/qmail/alias', 7790);
  add('root', 0, '/root', 0);
  add('joe', 507, '/home/joe', 507);
  add('joe-foo', 508, '/home/joe-foo', 508);
  add('Bob', 509, '/home/Bob', 509);
  add('nohome', 510, '/home/nohome', null);
  add('stranger', 511, '/home/stranger', 507);
  add('a'.repeat(31), 512, '/home/a31', 512);
  add('b'.repeat(32), 513, '/home/b32', 513);
  return { k, bin: addProgram(k, 'qmail-getpw', getpwMain) };
}

async function getpw(w: { k: Kernel; bin: string }, ...args: string[]): Promise<{ code: number | null; fields: string[] }> {
  const { exit, out } = await runInSimBytes(w.k, w.bin, ['qmail-getpw', ...args], { uid: 7793, gid: 2108 });
  const text = new TextDecoder().decode(out);
  return { code: exit.code, fields: text === '' ? [] : text.split('\0') };
}

const rec = (user: string, uid: number, home: string, dash: string, ext: string): string[] => [user, String(uid), '100', home, dash, ext, ''];

describe('qmail-getpw (sim)', () => {
  it('a user by name: empty dash and ext, six NUL-terminated fields, exit 0', async () => {
    expect(await getpw(world(), 'joe')).toEqual({ code: 0, fields: rec('joe', 507, '/home/joe', '', '') });
  });

  it('the longest user prefix at a break wins: joe-foo-bar is joe-foo with ext bar', async () => {
    const w = world();
    expect(await getpw(w, 'joe-foo-bar')).toEqual({ code: 0, fields: rec('joe-foo', 508, '/home/joe-foo', '-', 'bar') });
    expect(await getpw(w, 'joe-bar-baz')).toEqual({ code: 0, fields: rec('joe', 507, '/home/joe', '-', 'bar-baz') });
    expect(await getpw(w, 'joe-')).toEqual({ code: 0, fields: rec('joe', 507, '/home/joe', '-', '') });
  });

  it('the address may use any case for the user part; the ext keeps its case', async () => {
    expect(await getpw(world(), 'JOE-Foo-Bar')).toEqual({ code: 0, fields: rec('joe-foo', 508, '/home/joe-foo', '-', 'Bar') });
  });

  it('accounts whose names hold uppercase letters are never matched', async () => {
    const w = world();
    expect(await getpw(w, 'Bob')).toEqual({ code: 0, fields: ['alias', '7790', '100', '/var/qmail/alias', '-', 'Bob', ''] });
    expect((await getpw(w, 'bob')).fields[0]).toBe('alias');
  });

  it('uid 0 is skipped: root goes to alias with ext root', async () => {
    expect(await getpw(world(), 'root')).toEqual({ code: 0, fields: ['alias', '7790', '100', '/var/qmail/alias', '-', 'root', ''] });
  });

  it('a missing home, or a home owned by another uid, rejects the account', async () => {
    const w = world();
    expect((await getpw(w, 'nohome')).fields).toEqual(['alias', '7790', '100', '/var/qmail/alias', '-', 'nohome', '']);
    expect((await getpw(w, 'stranger-x')).fields).toEqual(['alias', '7790', '100', '/var/qmail/alias', '-', 'stranger-x', '']);
  });

  it('candidates are shorter than 32 bytes', async () => {
    const w = world();
    expect((await getpw(w, 'a'.repeat(31))).fields[0]).toBe('a'.repeat(31));
    expect((await getpw(w, `${'a'.repeat(31)}-x`)).fields.slice(0, 6)).toEqual(['a'.repeat(31), '512', '100', '/home/a31', '-', 'x']);
    expect((await getpw(w, 'b'.repeat(32))).fields[0]).toBe('alias');
  });

  it('no user matches and no alias user: exit 116 (QLX_NOALIAS), nothing printed', async () => {
    expect(await getpw(world({ alias: false }), 'nobody')).toEqual({ code: 116, fields: [] });
  });

  it('no argument: exit 100', async () => {
    expect(await getpw(world())).toEqual({ code: 100, fields: [] });
  });

  it('a temporary stat failure of a candidate home is QLX_NFS (115); a permanent one rejects it', async () => {
    const w = world();
    w.k.fs.setFaultHook((op, path) => (op === 'stat' && path !== null && path.endsWith('/home/joe') ? 'EIO' : null));
    expect(await getpw(w, 'joe-x')).toEqual({ code: 115, fields: [] });
    w.k.fs.setFaultHook((op, path) => (op === 'stat' && path !== null && path.endsWith('/home/joe') ? 'EACCES' : null));
    expect((await getpw(w, 'joe-x')).fields[0]).toBe('alias');
  });
});
