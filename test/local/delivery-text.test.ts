// The texts qmail-local computes, pure: DTLINE, RPLINE (quote2), UFLINE (myctime), the program
// environment (EXT2-4, HOST2-4, order), NEWSENDER, the program exit-code rule, the command line,
// maildir names. Fixed cases are the VERIFIED bytes of ../shared/spec/local.md section 2.
//
// Replay a failure: SEED=<n> npx vitest run test/local/delivery-text.test.ts

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dtLine, rpLine, ufLine } from '../../impl/local/delivery-lines.ts';
import { extParts, hostParts, localVarList, programEnv, type LocalVars } from '../../impl/local/environment.ts';
import { newSender } from '../../impl/local/forward.ts';
import { programVerdict } from '../../impl/local/program.ts';
import { parseArgv } from '../../impl/local/args.ts';
import { maildirHost, maildirName } from '../../impl/local/maildir-name.ts';
import { maySearchBy } from '../../impl/local/access.ts';
import { homeVerdict } from '../../impl/local/home.ts';
import { LocalFailure } from '../../impl/local/failure.ts';
import { quote, quote2, quoteNeeded } from '../../impl/lib/quote.ts';
import { myctime } from '../../impl/lib/myctime.ts';
import { envNames, usageText } from '../../spec/local.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/local/delivery-text.test.ts';
const sec = (iso: string): number => Date.parse(iso) / 1000;

describe('DTLINE, RPLINE, UFLINE', () => {
  it('are the VERIFIED bytes', () => {
    expect(dtLine('joe-foo-Bar.Baz', 'a.b.c.example.com')).toBe('Delivered-To: joe-foo-Bar.Baz@a.b.c.example.com\n');
    expect(rpLine('snd er@x.org')).toBe('Return-Path: <"snd er"@x.org>\n');
    expect(rpLine('')).toBe('Return-Path: <>\n');
    expect(ufLine('snd er@x.org', sec('2026-11-21T22:57:08Z'))).toBe('From snd-er@x.org Sat Nov 21 22:57:08 2026\n');
    expect(ufLine('', sec('2026-01-05T01:02:03Z'))).toBe('From MAILER-DAEMON Mon Jan 05 01:02:03 2026\n');
  });

  it('turn every LF into _ (DTLINE, RPLINE) or - (UFLINE, with space and tab)', () => {
    expect(dtLine('a\nb', 'c\n')).toBe('Delivered-To: a_b@c_\n');
    expect(rpLine('a\nb@c\nd')).toBe('Return-Path: <"a\\_b"@c_d>\n');
    expect(ufLine('a b\tc\nd', 0)).toBe('From a-b-c-d Thu Jan 01 00:00:00 1970\n');
  });

  it('myctime agrees with the platform calendar', async () => {
    await checkProperty(
      file,
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (t) => {
        const d = new Date(t * 1000);
        const [wd, mon, day, year, time] = d.toUTCString().replace(',', '').split(' ') as string[];
        // toUTCString: "Sat, 21 Nov 2026 22:57:08 GMT"
        expect(myctime(t)).toBe(`${wd} ${day} ${mon} ${time} ${year}\n`.replace(/^(\w+) (\d+) (\w+)/, '$1 $3 $2'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('quote2', () => {
  it('quotes only what RFC 821 needs', () => {
    expect(quote2('joe@x')).toBe('joe@x');
    expect(quote2('a.b@x')).toBe('a.b@x');
    expect(quote2('.a@x')).toBe('".a"@x');
    expect(quote2('a..b@x')).toBe('"a..b"@x');
    expect(quote2('a"b\\c@x@y')).toBe('"a\\"b\\\\c@x"@y');
    expect(quote2('@x')).toBe('""@x');
    expect(quote2('noat')).toBe('noat');
    expect(quote2('no at')).toBe('"no at"');
    expect(quote2('é@x')).toBe('"é"@x');
  });

  it('a quoted box reads back as the box, and an unquoted one is the box', async () => {
    await checkProperty(
      file,
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)), maxLength: 20 }), (box) => {
        const q = quote(box);
        if (!quoteNeeded(box)) return void expect(q).toBe(box);
        expect(q.startsWith('"') && q.endsWith('"')).toBe(true);
        expect(q.slice(1, -1).replace(/\\([\r\n"\\])/g, '$1')).toBe(box);
      }),
      { numRuns: 500 },
    );
  });
});

describe('environment', () => {
  it('EXT2-4 and HOST2-4 as the spec shows', () => {
    expect(extParts('foo-Bar.Baz')).toEqual(['Bar.Baz', '', '']);
    expect(extParts('a-b-c-d-e')).toEqual(['b-c-d-e', 'c-d-e', 'd-e']);
    expect(hostParts('a.b.c.example.com')).toEqual(['a.b.c.example', 'a.b.c', 'a.b']);
    expect(hostParts('x.y')).toEqual(['x', 'x', 'x']);
    expect(hostParts('localhost')).toEqual(['localhost', 'localhost', 'localhost']);
    expect(hostParts('.x')).toEqual(['', '', '']);
  });

  it('EXT2-4 and HOST2-4 follow a split-based model', async () => {
    const afterDash = (s: string): string => (s.includes('-') ? s.split('-').slice(1).join('-') : '');
    const beforeDot = (s: string): string => (s.includes('.') ? s.slice(0, s.lastIndexOf('.')) : s);
    const text = fc.array(fc.constantFrom('a', '-', '.', 'b'), { maxLength: 10 }).map((a) => a.join(''));
    await checkProperty(
      file,
      fc.property(text, text, (ext, host) => {
        const e2 = afterDash(ext);
        expect(extParts(ext)).toEqual([e2, afterDash(e2), afterDash(afterDash(e2))]);
        const h2 = beforeDot(host);
        expect(hostParts(host)).toEqual([h2, beforeDot(h2), beforeDot(beforeDot(h2))]);
      }),
      { numRuns: 500 },
    );
  });

  const vars: LocalVars = {
    host: 'example.com', home: '/home/joe', user: 'joe', local: 'joe-x', dtLine: 'Delivered-To: joe-x@example.com\n', sender: 's@o',
    rpLine: 'Return-Path: <s@o>\n', ufLine: 'From s@o Thu Jan 01 00:00:00 2026\n', ext: 'x', defaultPart: null, newSender: 's@o',
  };

  it("sets qmail's variables in qmail's order, after what it inherited, replacing inherited ones", () => {
    const env = programEnv({ PATH: '/bin', HOST: 'old', DEFAULT: 'inherited', Z: 'z' }, vars);
    const names = envNames.filter((n) => n !== 'DEFAULT');
    expect(Object.keys(env)).toEqual(['PATH', 'DEFAULT', 'Z', ...names]);
    expect(env['DEFAULT']).toBe('inherited'); // not set by qmail-local: the inherited one stays
    expect(env['RECIPIENT']).toBe('joe-x@example.com');
    const withDefault = programEnv({ DEFAULT: 'inherited' }, { ...vars, defaultPart: 'Bar.Baz' });
    expect(Object.keys(withDefault)).toEqual([...envNames]);
    expect(withDefault['DEFAULT']).toBe('Bar.Baz');
  });

  it('converts byte strings to text at the boundary', () => {
    const list = localVarList({ ...vars, user: 'j\xc3\xb6e' });
    expect(list.find(([n]) => n === 'USER')?.[1]).toBe('j\xc3\xb6e');
    expect(programEnv({}, { ...vars, user: 'j\xc3\xb6e' })['USER']).toBe('jöe');
  });
});

describe('NEWSENDER', () => {
  it('follows the -owner files (VERIFIED envelope)', () => {
    expect(newSender('s@o', 'joe-foo-Bar.Baz', 'a.b.c.example.com', true, true)).toBe('joe-foo-Bar.Baz-owner-@a.b.c.example.com-@[]');
    expect(newSender('s@o', 'joe-l', 'x.org', true, false)).toBe('joe-l-owner@x.org');
    expect(newSender('s@o', 'joe-l', 'x.org', false, true)).toBe('s@o');
    expect(newSender('', 'joe-l', 'x.org', true, true)).toBe('');
    expect(newSender('#@[]', 'joe-l', 'x.org', true, true)).toBe('#@[]');
  });
});

describe('program exit codes', () => {
  it('0 continues, 99 stops, 64 65 70 76 77 78 100 112 bounce, the rest defer, a signal crashes', () => {
    const perm = [64, 65, 70, 76, 77, 78, 100, 112];
    for (let code = 0; code <= 255; code++) {
      const v = programVerdict({ code, signal: null });
      if (code === 0) expect(v).toBe('continue');
      else if (code === 99) expect(v).toBe('stop');
      else {
        expect(v, String(code)).toBeInstanceOf(LocalFailure);
        expect((v as LocalFailure).code).toBe(perm.includes(code) ? 100 : 111);
        expect((v as LocalFailure).text).toBe('');
      }
    }
    expect((programVerdict({ code: null, signal: 'SIGKILL' }) as LocalFailure).text).toBe('Aack, child crashed. (#4.3.0)');
  });
});

describe('command line', () => {
  const eight = ['joe', '/home/joe', 'joe-x', '-', 'x', 'example.com', 's@o', './Maildir/'];
  it('takes -n, -N, bundles and --, then exactly eight arguments', () => {
    expect(parseArgv(['qmail-local', '--', ...eight])).toMatchObject({ args: { user: 'joe', dryRun: false, defaultDelivery: './Maildir/' } });
    expect(parseArgv(['qmail-local', '-n', ...eight])).toMatchObject({ args: { dryRun: true } });
    expect(parseArgv(['qmail-local', '-nN', ...eight])).toMatchObject({ args: { dryRun: false } });
    expect(parseArgv(['qmail-local', '-Nn', '--', ...eight])).toMatchObject({ args: { dryRun: true, dash: '-' } });
    expect(parseArgv(['qmail-local', ...eight.slice(1)])).toEqual({ usage: [usageText] });
    expect(parseArgv(['qmail-local', ...eight, 'x'])).toEqual({ usage: [usageText] });
    expect(parseArgv(['/var/qmail/bin/qmail-local', '-x', ...eight])).toEqual({ usage: ['qmail-local: illegal option -- x', usageText] });
    // A `-` alone is an argument (here: an empty-ish dash field would need --).
    expect(parseArgv(['qmail-local', 'joe', '/h', 'l', '-', 'x', 'd', 's', 'dd'])).toMatchObject({ args: { dash: '-' } });
  });
});

describe('home directory and maildir names', () => {
  it('world-writable defers, group-writable does not, sticky defers (warns with -n)', () => {
    expect((homeVerdict(0o40757, false) as LocalFailure).text).toBe('Uh-oh: home directory is writable. (#4.7.0)');
    expect(homeVerdict(0o40775, false)).toBe('ok');
    expect((homeVerdict(0o41755, false) as LocalFailure).text).toBe('Home directory is sticky: user is editing his .qmail file. (#4.2.1)');
    expect(homeVerdict(0o41755, true)).toBe('stickyWarning');
  });

  it('search permission as chdir checks it', () => {
    const ids = { euid: 1001, egid: 100, groups: [100, 7] };
    expect(maySearchBy(ids, { uid: 1001, gid: 0, mode: 0o700 })).toBe(true);
    expect(maySearchBy(ids, { uid: 1001, gid: 100, mode: 0o070 })).toBe(false);
    expect(maySearchBy(ids, { uid: 5, gid: 7, mode: 0o010 })).toBe(true);
    expect(maySearchBy(ids, { uid: 5, gid: 8, mode: 0o770 })).toBe(false);
    expect(maySearchBy({ euid: 0, egid: 0, groups: [] }, { uid: 5, gid: 8, mode: 0 })).toBe(true);
  });

  it('maildir names are maildir-spec unique names', async () => {
    expect(maildirHost('a/b:c', 63)).toBe('a\\057b\\072c');
    expect(maildirName(1_795_301_828_123.4, 42, Uint8Array.from([0, 1, 254, 255]), 'vm')).toBe('1795301828.M123400P42R0001feff.vm');
    await checkProperty(
      file,
      fc.property(fc.integer({ min: 0, max: 2 ** 42 }), fc.nat(4_000_000), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.string(), (ms, pid, rnd, host) => {
        const name = maildirName(ms, pid, rnd, maildirHost(host, 63));
        expect(name).toMatch(/^[0-9]+\.M[0-9]{1,6}P[0-9]+R[0-9a-f]{16}\.[^/:]*$/);
      }),
      { numRuns: 300 },
    );
  });
});
