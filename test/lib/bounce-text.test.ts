// Bounce bytes (impl/lib/bounce-text.ts, ../shared/spec/queue.md 3.7), logsafe (3.8), and the
// quoting they use (impl/lib/quote.ts): vectors from the spec, and a property of the block format.
// Replay a property failure: SEED=<seed> npx vitest run test/lib/bounce-text.test.ts

import { describe, expect, it } from 'vitest';
import { checkProperty } from '../support/seed.ts';
import fc from 'fast-check';
import { bounceBlock, bounceHeads } from '../../impl/lib/bounce-text.ts';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { logsafe } from '../../impl/lib/logsafe.ts';
import { quote, quote2 } from '../../impl/lib/quote.ts';

const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);
const none = new ConstMap([], true);

describe('addbounce blocks', () => {
  it('recipient, report, a newline added, a blank line after', () => {
    expect(bounceBlock('joe@example.org', 'Sorry, no mailbox here by that name. (#5.1.1)\n', none)).toBe(
      '<joe@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n',
    );
    expect(bounceBlock('joe@example.org', 'no newline', none)).toBe('<joe@example.org>:\nno newline\n\n');
    expect(bounceBlock('joe@example.org', '', none)).toBe('<joe@example.org>:\n\n');
  });
  it('no empty line inside a block: every second newline of a pair becomes /', () => {
    expect(bounceBlock('a@b', 'one\n\ntwo\n', none)).toBe('<a@b>:\none\n/two\n\n');
    expect(bounceBlock('a@b', 'x\n\n\ny', none)).toBe('<a@b>:\nx\n//y\n\n');
    // qmail's scan starts at len-2: a report ending in \n\n keeps its last pair (a quirk we keep).
    expect(bounceBlock('a@b', '\n', none)).toBe('<a@b>:\n\n\n');
    expect(bounceBlock('a@b', 'x\n\n', none)).toBe('<a@b>:\nx\n\n\n');
  });
  it('newlines in the recipient become _, and a virtual-domain prepend is stripped', () => {
    expect(bounceBlock('a\nb@c', 'r\n', none)).toBe('<a_b@c>:\nr\n\n');
    expect(bounceBlock('vv-joe@v.example', 'r\n', new ConstMap(['v.example:vv'], true))).toBe('<joe@v.example>:\nr\n\n');
  });
  it('any report: no empty line before the last report newline, and a blank line at the end', async () => {
    await checkProperty(
      'test/lib/bounce-text.test.ts',
      fc.property(fc.string({ unit: fc.constantFrom('a', '\n', ' ', '<', '>'), maxLength: 30 }), fc.string({ unit: fc.constantFrom('a', '\n', '@'), maxLength: 8 }), (report, recip) => {
        const b = bounceBlock(recip, report, none);
        expect(b.endsWith('\n\n')).toBe(true);
        expect(b.slice(0, -2).includes('\n\n')).toBe(false);
        expect(b.startsWith(`<${recip.replace(/\n/g, '_')}>:\n`)).toBe(true);
      }),
      { seed, numRuns: 500 },
    );
  });
});

describe('bounce message heads', () => {
  const nowMs = Date.UTC(2026, 0, 5, 1, 2, 3);
  it('single bounce', () => {
    const h = bounceHeads({ bouncefrom: 'MAILER-DAEMON', bouncehost: 'me.example', recipient: 'a b@x.example', sender: 'a b@x.example', nowMs });
    expect(h.head).toBe(
      'Date: 5 Jan 2026 01:02:03 -0000\nFrom: MAILER-DAEMON@me.example\nTo: "a b"@x.example\nSubject: failure notice\n\n' +
        'Hi. This is the qmail-send program at me.example.\n' +
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n",
    );
    expect(h.middle).toBe('--- Below this line is a copy of the message.\n\nReturn-Path: <"a b"@x.example>\n');
  });
  it('double bounce', () => {
    const h = bounceHeads({ bouncefrom: 'bounce daemon', bouncehost: 'me.example', recipient: 'postmaster@me.example', sender: '', nowMs });
    expect(h.head).toBe(
      'Date: 5 Jan 2026 01:02:03 -0000\nFrom: "bounce daemon"@me.example\nTo: postmaster@me.example\nSubject: failure notice\n\n' +
        'Hi. This is the qmail-send program at me.example.\n' +
        'I tried to deliver a bounce message to this address, but the bounce bounced!\n\n',
    );
    expect(h.middle).toBe('--- Below this line is the original bounce.\n\nReturn-Path: <>\n');
  });
});

describe('quote and quote2 (nq:quote.c)', () => {
  it('quotes only when needed', () => {
    expect(quote('joe')).toBe('joe');
    expect(quote('')).toBe('""');
    expect(quote('a b')).toBe('"a b"');
    expect(quote('.joe')).toBe('".joe"');
    expect(quote('joe.')).toBe('"joe."');
    expect(quote('a..b')).toBe('"a..b"');
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('a\rb\nc')).toBe('"a\\\rb\\\nc"');
    expect(quote('caf\u00e9')).toBe('"caf\u00e9"');
    expect(quote("!#$%&'*+-/=?^_`{|}~")).toBe("!#$%&'*+-/=?^_`{|}~");
    for (const c of '(),:;<>@[\\]') expect(quote(`a${c}b`).startsWith('"')).toBe(true);
  });
  it('quote2 quotes the part before the last @; empty stays empty', () => {
    expect(quote2('')).toBe('');
    expect(quote2('a b@c d')).toBe('"a b"@c d');
    expect(quote2('x@y@z')).toBe('"x@y"@z');
    expect(quote2('nohost')).toBe('nohost');
    expect(quote2('#@[]')).toBe('#@[]');
  });
});

describe('logsafe', () => {
  it('newline to /, % space controls and 8-bit to _', () => {
    expect(logsafe('did 0+0+1\n')).toBe('did_0+0+1/');
    expect(logsafe('100%\tok\r\u00ff~!')).toBe('100__ok__~!');
    expect(logsafe(new Uint8Array([0x61, 0x0a, 0x00, 0x62]))).toBe('a/');
  });
  it('its output is one word of printable ASCII without %', async () => {
    await checkProperty(
      'test/lib/bounce-text.test.ts',
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const s = logsafe(b);
        expect(/^[!-$&-~]*$/.test(s)).toBe(true);
        expect(s.length).toBe(b.indexOf(0) < 0 ? b.length : b.indexOf(0));
      }),
      { seed, numRuns: 500 },
    );
  });
});
