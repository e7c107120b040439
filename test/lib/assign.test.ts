// users/assign -> records (qmail-newu's rules), and qmail-lspawn's lookup over the resulting cdb
// (impl/lib/assign.ts; ../shared/spec/local.md 1.3).
// Replay a failing property: SEED=<n> npx vitest run test/lib/assign.test.ts

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignLine, assignLookup, parseAssign, userRecordBytes, userRecordOf } from '../../impl/lib/assign.ts';
import { CdbReader, cdbMake } from '../../impl/lib/cdb.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/lib/assign.test.ts';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function records(text: string): [string, string][] {
  const r = parseAssign(enc(text));
  if (!('records' in r)) throw new Error(`bad format at line ${r.format}`);
  return r.records.map(([k, v]) => [dec(k), dec(v)]);
}

function formatLine(text: string): number | null {
  const r = parseAssign(enc(text));
  return 'format' in r ? r.format : null;
}

function lookup(assign: string, local: string): string | null | 'noWildchars' {
  const r = parseAssign(enc(assign));
  if (!('records' in r)) throw new Error('format');
  const m = assignLookup(CdbReader.open(cdbMake(r.records)), enc(local));
  if ('none' in m) return null;
  if ('noWildchars' in m) return 'noWildchars';
  return dec(m.value);
}

describe('users/assign records (qmail-newu)', () => {
  it('the VERIFIED example: +joe- gives key !joe-, six fields without a final NUL, wildchars -', () => {
    expect(records('+joe-:joe:507:100:/home/joe:-::\n.\n')).toEqual([
      ['!joe-', 'joe\x00507\x00100\0/home/joe\0-\0'],
      ['', '-'],
    ]);
  });

  it('= lines: the key is lowercased and ends in NUL; the value keeps its case', () => {
    expect(records('=Joe.Smith:Joe:507:100:/Home/Joe:-:Ext:\n.\n')).toEqual([
      ['!joe.smith\0', 'Joe\x00507\x00100\0/Home/Joe\0-\0Ext'],
      ['', ''],
    ]);
  });

  it('+: is the catch-all key "!" and adds no wildchar', () => {
    expect(records('+:alias:7790:2108:/var/qmail/alias:-::\n.\n')).toEqual([
      ['!', 'alias\x007790\x002108\0/var/qmail/alias\0-\0'],
      ['', ''],
    ]);
  });

  it('wildchars: distinct last bytes, in order of first use, taken before lowercasing', () => {
    const r = records('+a-:u:1:1:/h:-::\n+b.:u:1:1:/h:-::\n+c-:u:1:1:/h:-::\n+dX:u:1:1:/h:-::\n.\n');
    expect(r.map(([k]) => k)).toEqual(['!a-', '!b.', '!c-', '!dx', '']);
    expect(r.at(-1)).toEqual(['', '-.X']);
  });

  it('text after the sixth colon is ignored; any first byte but + means =', () => {
    expect(records('=a:u:1:2:/h:d:e:junk:more\n.\n')[0]).toEqual(['!a\0', 'u\x001\x002\0/h\0d\0e']);
    expect(records('#a:u:1:2:/h:::\n.\n')[0]).toEqual(['!a\0', 'u\x001\x002\0/h\0\0']);
  });

  it('duplicates are all kept, in file order', () => {
    expect(records('=a:u1:1:1:/h:::\n=A:u2:2:2:/h:::\n.\n').map(([k, v]) => [k, v.split('\0')[0]])).toEqual([
      ['!a\0', 'u1'],
      ['!a\0', 'u2'],
      ['', ''],
    ]);
  });

  it('reading stops at the first line starting with "." (even without LF); what follows is ignored', () => {
    expect(records('.').length).toBe(1);
    expect(records('=a:u:1:1:/h:::\n.anything\n\0garbage without colons')).toHaveLength(2);
  });

  it('bad format: no final "." line, a last line without LF, no colon, colon first, fewer than 6 colons, NUL', () => {
    expect(formatLine('')).toBe(1);
    expect(formatLine('=a:u:1:1:/h:::\n')).toBe(2);
    expect(formatLine('=a:u:1:1:/h:::')).toBe(1);
    expect(formatLine('\n.\n')).toBe(1);
    expect(formatLine('=a\n.\n')).toBe(1);
    expect(formatLine(':a:u:1:1:/h:::\n.\n')).toBe(1);
    expect(formatLine('=a:u:1:1:/h::\n.\n')).toBe(1);
    expect(formatLine('=a:u:1:1:/h:::\n=b:u\0:1:1:/h:::\n.\n')).toBe(2);
    expect(assignLine(enc('=a:u:1:1:/h:::\n'), false)).toEqual({ kind: 'format' });
  });
});

describe('users/cdb lookup (qmail-lspawn nughde_get)', () => {
  const assign = [
    '=joe:joe:507:100:/home/joe:::',
    '+joe-:joe:507:100:/home/joe:-::',
    '+joe-list-:list:600:100:/home/list:-:l-:',
    '+joe-list-:second:601:100:/home/second:-::',
    '+:alias:7790:2108:/var/qmail/alias:-::',
    '.',
  ].join('\n');

  it('exact match', () => expect(lookup(assign, 'joe')).toBe('joe\x00507\x00100\0/home/joe\0\0'));
  it('exact match ignores case', () => expect(lookup(assign, 'JoE')).toBe('joe\x00507\x00100\0/home/joe\0\0'));
  it('wildcard: ext = stored ext + the rest in its original case', () => {
    expect(lookup(assign, 'JOE-Foo')).toBe('joe\x00507\x00100\0/home/joe\0-\0Foo');
  });
  it('the longer wildcard wins, and of duplicates the first', () => {
    expect(lookup(assign, 'joe-list-Bar')).toBe('list\x00600\x00100\0/home/list\0-\0l-Bar');
  });
  it('a wildcard matches its own prefix exactly too (empty rest)', () => {
    expect(lookup(assign, 'joe-list-')).toBe('list\x00600\x00100\0/home/list\0-\0l-');
  });
  it('the catch-all takes the rest, the whole local part', () => {
    expect(lookup(assign, 'Someone')).toBe('alias\x007790\x002108\0/var/qmail/alias\0-\0Someone');
  });
  it('a prefix is probed only where it ends in a wildchar (or is the bare "!")', () => {
    // A hand-made cdb: key !jo exists, but 'o' is not a wildchar, so joex never probes it.
    const cdb = CdbReader.open(cdbMake([[enc('!jo'), enc('x\x001\x001\0/x\0-\0')], [enc(''), enc('-')]]));
    expect(assignLookup(cdb, enc('joex'))).toEqual({ none: true });
    expect(assignLookup(cdb, enc('jo'))).toEqual({ none: true });
  });
  it('a wildcard ending in an uppercase letter never matches (wildchar kept in its case)', () => {
    const a = '+joeX:joe:507:100:/home/joe:-::\n.\n';
    expect(lookup(a, 'joexyz')).toBeNull();
    expect(lookup(a, 'joeXyz')).toBeNull();
  });
  it('no match and no catch-all: none', () => expect(lookup('=a:u:1:1:/h:::\n.\n', 'b')).toBeNull());
  it('a cdb without the wildchars record is trouble', () => {
    const cdb = CdbReader.open(cdbMake([[enc('!a\0'), enc('u\x001\x001\0/h\0\0')]]));
    expect(assignLookup(cdb, enc('a'))).toEqual({ noWildchars: true });
  });

  it('agrees with a direct reading of the rules, for random assignments and addresses', async () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'B', '-', '.', 'x'), maxLength: 5 });
    const line = fc.tuple(fc.constantFrom('=', '+'), part, fc.nat(99));
    await checkProperty(
      file,
      fc.property(fc.array(line, { maxLength: 12 }), part, (lines, local) => {
        const text = lines.map(([t, loc, n]) => `${t}${loc}:u${n}:${n}:1:/h/${n}:-:p${n}:\n`).join('') + '.\n';
        const got = lookup(text, local);
        expect(got === null || got === 'noWildchars' ? got : got.split('\0')[0]).toEqual(model(lines, local));
      }),
    );
  });

  /** The rules as prose says them: exact '=' (first), else the longest '+' prefix probed (all of
   *  local, or ending in a wildchar, or empty), first of equals; a user name is the answer. */
  function model(lines: [string, string, number][], local: string): string | null {
    const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const wild = new Set(lines.filter(([t, loc]) => t === '+' && loc !== '').map(([, loc]) => loc.at(-1)));
    const exact = lines.find(([t, loc]) => t === '=' && lower(loc) === lower(local));
    if (exact) return `u${exact[2]}`;
    for (let len = local.length; len >= 0; len--) {
      const prefix = lower(local.slice(0, len));
      if (len > 0 && !wild.has(prefix.at(-1))) continue;
      const hit = lines.find(([t, loc]) => t === '+' && lower(loc) === prefix);
      if (hit) return `u${hit[2]}`;
    }
    return null;
  }
});

describe('user records', () => {
  it('six fields; more are ignored; fewer is null', () => {
    expect(userRecordOf(enc('u\x001\x002\0/h\0-\0e'), false)).toEqual({ user: 'u', uid: '1', gid: '2', homedir: '/h', dash: '-', ext: 'e' });
    expect(userRecordOf(enc('u\x001\x002\0/h\0-\0e\0f\0'), true)?.ext).toBe('e');
    expect(userRecordOf(enc('u\x001\x002\0/h\0-'), false)).toBeNull();
    expect(userRecordOf(enc('u\x001\x002\0/h\0-\0e'), true)).toBeNull();
  });
  it('qmail-getpw output round trips', () => {
    const r = { user: 'joe', uid: '507', gid: '100', homedir: '/home/joe', dash: '-', ext: 'Foo' };
    expect(dec(userRecordBytes(r))).toBe('joe\x00507\x00100\0/home/joe\0-\0Foo\0');
    expect(userRecordOf(userRecordBytes(r), true)).toEqual(r);
  });
});
