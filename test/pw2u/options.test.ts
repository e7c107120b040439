// qmail-pw2u's options as sgetopt parses them, and the control-file maps (pure parts).

import { describe, expect, it } from 'vitest';
import { parsePw2uArgs } from '../../impl/pw2u/options.ts';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { controlEntries } from '../../impl/pw2u/control-file.ts';
import { parseAccount, scanUlong } from '../../impl/pw2u/account.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const opts = (...args: string[]) => parsePw2uArgs(['/var/qmail/bin/qmail-pw2u', ...args], '-');

describe('qmail-pw2u options', () => {
  it('defaults: -o, -U, break "-", dash "-"', () => {
    expect(opts()).toEqual({ opts: { dashColon: '-:', homeStrategy: 2, noUpper: true, breakByte: 0x2d } });
  });
  it('bundled flags, the last one wins; -c takes the rest of the word or the next word', () => {
    expect(opts('-hHu/', '-c+')).toEqual({ opts: { dashColon: '-/:', homeStrategy: 0, noUpper: false, breakByte: 0x2b } });
    expect(opts('-uc', '=', '-U')).toEqual({ opts: { dashColon: '-:', homeStrategy: 2, noUpper: true, breakByte: 0x3d } });
    expect(opts('-c', '')).toMatchObject({ opts: { breakByte: null } });
    expect(opts('-C')).toMatchObject({ opts: { breakByte: null } });
  });
  it('"--", "-", or a word without "-" ends the options', () => {
    expect(opts('--', '-h')).toMatchObject({ opts: { homeStrategy: 2 } });
    expect(opts('-', '-h')).toMatchObject({ opts: { homeStrategy: 2 } });
    expect(opts('x', '-h')).toMatchObject({ opts: { homeStrategy: 2 } });
  });
  it('an unknown option or a missing argument: the message with the program\'s base name', () => {
    expect(opts('-h', '-q')).toEqual({ problem: 'qmail-pw2u: illegal option -- q\n' });
    expect(opts('-c')).toEqual({ problem: 'qmail-pw2u: option requires an argument -- c\n' });
  });
});

describe('control files and constmap', () => {
  it('drops comments, empty lines and trailing blanks; a missing last LF is fine', () => {
    expect(controlEntries(enc('a \t\n#c\n\n b\nlast'))).toEqual(['a', ' b', 'last']);
  });
  it('a NUL inside a line splits it into two entries, as constmap sees the buffer', () => {
    expect(controlEntries(enc('joe:a\0bob:b\n'))).toEqual(['joe:a', 'bob:b']);
  });
  it('looks keys up case-insensitively; the later entry wins; flagColon drops entries without ":"', () => {
    const m = new ConstMap(controlEntries(enc('Joe:one\njoe:two\nnocolon\n')), true);
    expect(m.get('JOE')).toBe('two');
    expect(m.has('nocolon')).toBe(false);
    expect(new ConstMap(controlEntries(enc('Joe\n')), false).has('joe')).toBe(true);
  });
});

describe('passwd lines', () => {
  it('needs six colons; uid is scan_ulong of its field', () => {
    expect(parseAccount(enc('joe:x:507:100:g:/home/joe:/bin/sh\n'))).toMatchObject({ uid: 507n });
    expect(parseAccount(enc('joe:x:507:100:g:/home/joe'))).toBeNull();
    expect(parseAccount(enc('joe:x:5x7:100:g:/h:'))).toMatchObject({ uid: 5n });
    expect(scanUlong(enc('18446744073709551617'))).toBe(1n);
  });
});
