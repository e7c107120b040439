// .qmail files, pure: parsing (generated files with every line type, blanks, comments, trailing
// blanks, CR, NUL, long lines, a missing final LF) against the generator's own intent; and the
// lookup order (safeext, the -default fallbacks, DEFAULT) against a model written differently,
// then the search over generated sets of existing files.
//
// Replay a failure: SEED=<n> npx vitest run test/local/dot-qmail.test.ts

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SysError } from '../../impl/sys/errors.ts';
import { commandsOf, instructionOf, parseDotQmail, type Instruction } from '../../impl/local/dot-qmail.ts';
import { candidates, safeExt, search, verdict, type Probe } from '../../impl/local/dot-qmail-lookup.ts';
import { LocalFailure } from '../../impl/local/failure.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/local/dot-qmail.test.ts';

// ---- parsing ----

/** A byte string without LF. */
const lineBytes = (min = 0, max = 40): fc.Arbitrary<string> =>
  fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }).filter((b) => b !== 10), fc.constantFrom(32, 9, 0, 13, 47, 46)), { minLength: min, maxLength: max }).map((a) => String.fromCharCode(...a));
const blanks = fc.array(fc.constantFrom(' ', '\t'), { maxLength: 3 }).map((a) => a.join(''));
/** Content that is not blank after stripping trailing blanks, and does not start with `c`. */
const body = lineBytes(1).filter((s) => s.replace(/[ \t]+$/, '') !== '');
const cstr = (s: string): string => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);

interface GenLine {
  text: string;
  /** What the line means anywhere but first (null: nothing). */
  want: Instruction | null;
}

const genLine: fc.Arbitrary<GenLine> = fc.oneof(
  blanks.map((b) => ({ text: b, want: null })),
  fc.tuple(lineBytes(), blanks).map(([s, b]) => ({ text: `#${s}${b}`, want: null })),
  fc.tuple(fc.constantFrom('.', '/'), body, blanks).map(([c, s, b]) => {
    const said = (c + s).replace(/[ \t]+$/, '');
    return { text: c + s + b, want: { kind: said.endsWith('/') ? 'maildir' : 'mbox', path: cstr(said), said } as Instruction };
  }),
  fc.tuple(fc.constantFrom('./Maildir/', '/var/mail/joe', './mbox'), blanks).map(([p, b]) => ({
    text: p + b, want: { kind: p.endsWith('/') ? 'maildir' : 'mbox', path: p, said: p } as Instruction,
  })),
  fc.tuple(lineBytes(), blanks).map(([s, b]) => {
    const said = s.replace(/[ \t]+$/, '');
    return { text: `|${s}${b}`, want: { kind: 'program', command: cstr(said), said } as Instruction };
  }),
  fc.tuple(lineBytes(), blanks).map(([s, b]) => {
    const said = s.replace(/[ \t]+$/, '');
    return { text: `&${s}${b}`, want: { kind: 'forward', address: cstr(said), said } as Instruction };
  }),
  fc.tuple(body.filter((s) => !'#./|+&\0 \t'.includes(s[0] as string)), blanks).map(([s, b]) => {
    const said = s.replace(/[ \t]+$/, '');
    return { text: s + b, want: { kind: 'forward', address: cstr(said), said } as Instruction };
  }),
  blanks.map((b) => ({ text: `+list${b}`, want: { kind: 'forwardOnly' } as Instruction })),
  fc.tuple(lineBytes(), blanks).filter(([s]) => cstr(s.replace(/[ \t]+$/, '')) !== 'list').map(([s, b]) => ({ text: `+${s}${b}`, want: null })),
  fc.tuple(fc.string({ minLength: 2000, maxLength: 5000 }), blanks).map(([s, b]) => {
    const addr = `long${s.replace(/[\n\0]/g, 'x')}`.replace(/[ \t]+$/, '') || 'long';
    return { text: addr + b, want: { kind: 'forward', address: addr, said: addr } as Instruction };
  }),
);

describe('.qmail parsing', () => {
  it('every generated file parses to the instructions its lines mean, in order', async () => {
    await checkProperty(
      file,
      fc.property(fc.array(genLine, { minLength: 1, maxLength: 12 }), fc.boolean(), (lines, finalLf) => {
        const text = lines.map((l) => l.text).join('\n') + (finalLf ? '\n' : '');
        const got = parseDotQmail(commandsOf(text, './Maildir/\n').text);
        const firstBlank = lines[0]?.text.replace(/[ \t]+$/, '') === '';
        const want: Instruction[] = firstBlank ? [{ kind: 'blankFirst' }] : [];
        for (const l of lines) if (l.want !== null) want.push(l.want);
        if (text === '') return; // an empty file is defaultdelivery, tested below
        expect(got).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('an empty or missing file means defaultdelivery, and the x bit no longer counts', () => {
    expect(commandsOf(null, './Maildir/')).toEqual({ text: './Maildir/\n', fileCounts: false });
    expect(commandsOf('', '|prog\n')).toEqual({ text: '|prog\n', fileCounts: false });
    expect(commandsOf('&a@b', 'x')).toEqual({ text: '&a@b\n', fileCounts: true });
    // An empty defaultdelivery is a blank first line.
    expect(parseDotQmail(commandsOf(null, '').text)).toEqual([{ kind: 'blankFirst' }]);
  });

  it('classifies lines as qmail-local.c does', () => {
    expect(instructionOf('./Maildir/ \t', false)).toEqual({ kind: 'maildir', path: './Maildir/', said: './Maildir/' });
    expect(instructionOf('./Maildir/\r', false)).toEqual({ kind: 'mbox', path: './Maildir/\r', said: './Maildir/\r' });
    expect(instructionOf('|preline procmail ', false)).toEqual({ kind: 'program', command: 'preline procmail', said: 'preline procmail' });
    expect(instructionOf('&', false)).toEqual({ kind: 'forward', address: '', said: '' });
    expect(instructionOf(' joe', false)).toEqual({ kind: 'forward', address: ' joe', said: ' joe' });
    expect(instructionOf('+list', false)).toEqual({ kind: 'forwardOnly' });
    expect(instructionOf('+list\0junk', false)).toEqual({ kind: 'forwardOnly' });
    expect(instructionOf('+listx', false)).toBeNull();
    expect(instructionOf('\0abc', true)).toEqual({ kind: 'blankFirst' });
    expect(instructionOf('\0abc', false)).toBeNull();
    expect(instructionOf('/a\0b', false)).toEqual({ kind: 'mbox', path: '/a', said: '/a\0b' });
    expect(instructionOf('#./Maildir/', true)).toBeNull();
  });
});

// ---- lookup order ----

/** The model: the exact name, then `default` after each prefix of safeext that ends in `-` (cut
 *  at the dashes, longest first), then after the empty prefix. */
function modelNames(dash: string, ext: string): string[] {
  const safe = ext.toLowerCase().replace(/\./g, ':');
  const parts = safe.split('-');
  const names = [`.qmail${dash}${safe}`];
  for (let k = parts.length - 1; k >= 0; k--) {
    const prefix = parts.slice(0, k).join('-') + (k > 0 ? '-' : '');
    names.push(`.qmail${dash}${prefix}default`);
  }
  return names;
}

/** The model's DEFAULT for the n-th name. */
function modelDefault(ext: string, name: string, index: number, dash: string): string | null {
  const stem = name.slice(`.qmail${dash}`.length);
  if (index === 0) return stem.endsWith('default') ? ext.slice(ext.length - 7) : null;
  return ext.slice(stem.length - 'default'.length);
}

const extArb = fc.array(fc.constantFrom('a', 'B', '-', '.', 'x', 'default', 'Default', '-default', 'z9'), { maxLength: 8 }).map((a) => a.join(''));

describe('.qmail lookup order', () => {
  it('matches the spec examples', () => {
    expect(candidates('-', 'foo-bar').map((c) => c.name)).toEqual(['.qmail-foo-bar', '.qmail-foo-default', '.qmail-default']);
    expect(candidates('-', 'a-b-').map((c) => c.name)).toEqual(['.qmail-a-b-', '.qmail-a-b-default', '.qmail-a-default', '.qmail-default']);
    expect(candidates('-', 'Foo-Bar.Baz').map((c) => c.name)).toEqual(['.qmail-foo-bar:baz', '.qmail-foo-default', '.qmail-default']);
    expect(candidates('', '').map((c) => c.name)).toEqual(['.qmail', '.qmaildefault']);
    expect(safeExt('ÄB.c')).toBe('Äb:c'); // ASCII only, as case_lowerb
  });

  it('the candidates and their DEFAULT follow the model', async () => {
    await checkProperty(
      file,
      fc.property(fc.constantFrom('', '-'), extArb, (dash, ext) => {
        const got = candidates(dash, ext);
        const names = modelNames(dash, ext);
        expect(got.map((c) => c.name)).toEqual(names);
        got.forEach((c, i) => {
          const d = c.defaultAt === null ? null : ext.slice(c.defaultAt);
          expect(d, c.name).toBe(modelDefault(ext, c.name, i, dash));
        });
      }),
      { numRuns: 500 },
    );
  });

  type Kind = 'file' | 'xfile' | 'writable' | 'dir' | 'eacces' | 'eio' | 'enoent' | 'eloop' | 'fstat';
  const probeOf = (k: Kind): Probe => {
    switch (k) {
      case 'file': return { mode: 0o100644 };
      case 'xfile': return { mode: 0o100744 };
      case 'writable': return { mode: 0o100646 };
      case 'dir': return { mode: 0o040755 };
      case 'eacces': return { openError: new SysError('EACCES', 'open') };
      case 'eio': return { openError: new SysError('EIO', 'open') };
      case 'enoent': return { openError: new SysError('ENOENT', 'open') };
      case 'eloop': return { openError: new SysError('ELOOP', 'open') };
      case 'fstat': return { fstatError: new SysError('EIO', 'fstat') };
    }
  };
  const kinds: Kind[] = ['file', 'xfile', 'writable', 'dir', 'eacces', 'eio', 'enoent', 'eloop', 'fstat'];

  it('the search takes the first qualifying name, stops at the first deferring one, and releases the rest', async () => {
    await checkProperty(
      file,
      fc.asyncProperty(fc.constantFrom('', '-'), extArb, fc.array(fc.tuple(fc.nat(12), fc.constantFrom(...kinds)), { maxLength: 6 }), async (dash, ext, placed) => {
        const names = modelNames(dash, ext);
        const world = new Map<string, Kind>();
        for (const [i, k] of placed) world.set(names[i % names.length] as string, k);
        const opened: string[] = [];
        const released: string[] = [];
        const open = async (name: string): Promise<{ probe: Probe; handle: string | null }> => {
          opened.push(name);
          const probe = probeOf(world.get(name) ?? 'enoent');
          return { probe, handle: 'mode' in probe || 'fstatError' in probe ? name : null };
        };
        // The model: walk the names; regular and not world-writable wins; a temporary error, EACCES,
        // an fstat failure or a world-writable file defers; anything else is "no such file".
        let want: { name: string; forwardOnly: boolean } | 'defer' | null = null;
        for (const n of names) {
          const k = world.get(n) ?? 'enoent';
          if (k === 'file' || k === 'xfile') want = { name: n, forwardOnly: k === 'xfile' };
          else if (k === 'eacces' || k === 'eio' || k === 'writable' || k === 'fstat') want = 'defer';
          else continue;
          break;
        }
        let got: { name: string; forwardOnly: boolean } | 'defer' | null;
        try {
          const found = await search(candidates(dash, ext), open, async (h) => void released.push(h));
          got = found === null ? null : { name: found.candidate.name, forwardOnly: found.forwardOnly };
        } catch (e) {
          if (!(e instanceof LocalFailure)) throw e;
          expect(e.code).toBe(111);
          got = 'defer';
        }
        expect(got).toEqual(want);
        const kept = got !== null && got !== 'defer' ? [got.name] : [];
        const handles = opened.filter((n) => ['file', 'xfile', 'writable', 'dir', 'fstat'].includes(world.get(n) ?? 'enoent'));
        expect([...released, ...kept].sort()).toEqual(handles.sort());
      }),
      { numRuns: 500 },
    );
  });

  it('names what it could not open, as qmail does', () => {
    const v = verdict('.qmail-x', { openError: new SysError('EACCES', 'open') });
    expect(v).toBeInstanceOf(LocalFailure);
    expect((v as LocalFailure).text).toBe('Unable to open .qmail-x: access denied. (#4.3.0)');
    expect((verdict('.qmail', { mode: 0o100602 }) as LocalFailure).text).toBe('Uh-oh: .qmail file is writable. (#4.7.0)');
    expect(verdict('.qmail', { mode: 0o100620 })).toEqual({ use: true, forwardOnly: false }); // group-writable is fine
  });
});
