// qmail-inject's pure core against spec local.md section 3 (the VERIFIED examples, typed out):
// qualification, header parsing and rewriting, the added fields at a fixed time, recipients and
// the envelope sender.

import { describe, expect, it } from 'vitest';
import { compose, messageIdStamp, printed, type InjectInput } from '../../impl/inject/compose.ts';
import { qualify } from '../../impl/inject/qualify.ts';
import { splitMessage } from '../../impl/inject/header.ts';
import { getopt } from '../../impl/lib/getopt.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { latin1Bytes } from '../../impl/lib/latin1.ts';

const config = { defaulthost: 'mail.example.com', defaultdomain: 'example.com', plusdomain: 'example.com', idhost: 'host1.example.com' };
/** 5 Jan 2026 04:46:53 UTC. */
const nowMs = Date.UTC(2026, 0, 5, 4, 46, 53, 250);
const pid = 4242;

function run(message: string, over: Partial<InjectInput> = {}) {
  const r = compose({ message: latin1Bytes(message), args: [], strategy: 'A', sender: null, env: { USER: 'joe' }, config, nowMs, pid, ...over });
  if (!r.ok) throw new Error(`fatal ${r.code}: ${r.text}`);
  return { ...r, text: latin1(r.message) };
}

const fullHeader = 'Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: t@b.c\n';

describe('qualification (rwgeneric)', () => {
  it.each([
    ['bob', 'bob@mail.example.com'],
    ['alice@foo', 'alice@foo.example.com'],
    ['carol@bar+', 'carol@bar.example.com'],
    ['', ''],
    ['x@[]', 'x@[]'],
    ['u@[1.2.3.4]', 'u@[1.2.3.4]'],
    ['@a,@b:u@c.d', 'u@c.d'],
    ['u@c.d.', 'u@c.d'],
    ['u@', 'u@mail.example.com'],
    ['u@x.y', 'u@x.y'],
  ])('%j → %j', (a, want) => expect(qualify(a, config)).toBe(want));

  it('defaulthost itself gets plusdomain and defaultdomain', () => {
    expect(qualify('bob', { ...config, defaulthost: 'box+' })).toBe('bob@box.example.com');
    expect(qualify('bob', { ...config, defaulthost: 'box' })).toBe('bob@box.example.com');
  });
});

describe('header parsing', () => {
  it('continuations belong to their field; the first empty line ends the header', () => {
    const s = splitMessage(latin1Bytes('Subject: a\n b\n\tc\nX-Y :z\n\nbody\n'));
    expect(s.fields.map((f) => [f.name, f.text])).toEqual([['subject', 'Subject: a\n b\n\tc\n'], ['x-y', 'X-Y :z\n']]);
    expect(latin1(s.body)).toBe('body\n');
  });

  it('a line that is not a field starts the body, with an empty line inserted before it', () => {
    const r = run(`${fullHeader}not a header\nmore\n`);
    expect(r.text).toBe(`${fullHeader}\nnot a header\nmore\n`);
  });

  it('a From_ line in the header becomes MBOX-Line', () => {
    expect(run(`From joe Mon\n${fullHeader}\nb\n`).text).toBe(`MBOX-Line: From joe Mon\n${fullHeader}\nb\n`);
  });

  it('no body: the header ends at EOF and an empty line follows it', () => {
    expect(run(fullHeader).text).toBe(`${fullHeader}\n`);
    expect(run('Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: t@b.c').text).toBe(`${fullHeader}\n`);
  });

  it('Bcc, Resent-Bcc, Return-Path and Content-Length are removed', () => {
    const r = run(`${fullHeader}Bcc: h@b.c\nReturn-Path: <r@b.c>\nContent-Length: 3\n\nb\n`);
    expect(r.text).toBe(`${fullHeader}\nb\n`);
    expect(run(`Resent-From: a@b.c\nResent-Date: x\nResent-Message-ID: <m@n>\nResent-To: r@b.c\nResent-Bcc: z@b.c\n\nb\n`).text).toBe(
      'Resent-From: a@b.c\nResent-Date: x\nResent-Message-ID: <m@n>\nResent-To: r@b.c\n\nb\n',
    );
  });
});

describe('address rewriting', () => {
  it('folds a long list after a comma, continuations start with two spaces', () => {
    const r = run('Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: bob, alice@foo, carol@bar+, "Dave X" <dave>\n\n');
    expect(r.text).toContain('To: bob@mail.example.com, alice@foo.example.com, carol@bar.example.com,\n  "Dave X" <dave@mail.example.com>\n');
    expect(r.recipients).toEqual(['bob@mail.example.com', 'alice@foo.example.com', 'carol@bar.example.com', 'dave@mail.example.com']);
  });

  it('illegal spaces between addresses become commas', () => {
    expect(run('Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: djb fred\n\n').text).toContain('To: djb@mail.example.com, fred@mail.example.com\n');
  });

  it('source routes are removed; comments stay', () => {
    expect(run('Date: x\nMessage-ID: <a@b>\nFrom: joe (Joe X)\nTo: <@r1,@r2:u@d.e>\n\n').text).toBe(
      'Date: x\nMessage-ID: <a@b>\nFrom: joe@mail.example.com (Joe X)\nTo: <u@d.e>\n\n',
    );
  });

  it('a recipient field that does not parse is left as written (notqmail)', () => {
    const r = run('Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: foo: bar, baz\n\n');
    expect(r.text).toContain('To: foo: bar, baz\n');
  });

  it('groups keep their name and semicolon', () => {
    expect(run('Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: list: a, b@c.d;\n\n').text).toContain('To: list: a@mail.example.com, b@c.d;\n');
  });

  it('a From that does not parse is fatal: invalid header field, 100', () => {
    const r = compose({ message: latin1Bytes('From: a <b\nTo: t@b.c\n\n'), args: [], strategy: 'A', sender: null, env: {}, config, nowMs, pid });
    expect(r).toEqual({ ok: false, code: 100, text: 'invalid header field: From: a <b\n' });
  });

  it('phrases keep their words, quotes and dots', () => {
    expect(run('Date: x\nMessage-ID: <a@b>\nFrom: J. "Q \\" X" Smith <js>\nTo: t@b.c\n\n').text).toContain('From: J. "Q \\" X" Smith <js@mail.example.com>\n');
  });

  it('quoted local parts are quoted again', () => {
    expect(run('Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: "a b"@c\n\n').text).toContain('To: "a b"@c.example.com\n');
  });
});

describe('fields added', () => {
  it('Date, Message-ID, From, Cc in that order, before the original fields, at a fixed time', () => {
    const r = run('Subject: hi\n\nbody\n', { env: { USER: 'joe', NAME: 'Joe User' } });
    expect(r.text).toBe(
      'Date: 5 Jan 2026 04:46:53 -0000\n' +
        'Message-ID: <20260105044653.4242.qmail@host1.example.com>\n' +
        'From: "Joe User" <joe@mail.example.com>\n' +
        'Cc: recipient list not shown: ;\n' +
        'Subject: hi\n\nbody\n',
    );
  });

  it('From styles: QMAILINJECT c, no name, QMAILUSER/QMAILHOST precedence, anonymous', () => {
    const from = (env: Record<string, string>) => run('To: t@b.c\n\n', { env }).text.split('\n').find((l) => l.startsWith('From: '));
    expect(from({ USER: 'joe', MAILNAME: 'J', QMAILINJECT: 'c' })).toBe('From: joe@mail.example.com (J)');
    expect(from({ LOGNAME: 'lg' })).toBe('From: lg@mail.example.com');
    expect(from({})).toBe('From: anonymous@mail.example.com');
    expect(from({ USER: 'u', MAILUSER: 'mu', QMAILUSER: 'qu', MAILHOST: 'mh.org', QMAILHOST: 'qh' })).toBe('From: qu@qh.example.com');
    expect(from({ USER: 'a b' })).toBe('From: "a b"@mail.example.com');
  });

  it('resent messages get Resent- fields only', () => {
    const r = run('Date: x\nFrom: a@b.c\nTo: t@b.c\nResent-To: r@b.c\n\n');
    expect(r.text).toBe(
      'Resent-Date: 5 Jan 2026 04:46:53 -0000\nResent-Message-ID: <20260105044653.4242.qmail@host1.example.com>\nResent-From: joe@mail.example.com\n' +
        'Date: x\nFrom: a@b.c\nTo: t@b.c\nResent-To: r@b.c\n\n',
    );
    expect(r.recipients).toEqual(['r@b.c']);
    expect(run('Date: x\nResent-From: a@b.c\n\n').text).toContain('Resent-Cc: recipient list not shown: ;\n');
  });

  it('QMAILINJECT f and i replace From and Message-ID; s ignores Return-Path', () => {
    const r = run('From: x@y.z\nMessage-ID: <q@r>\nReturn-Path: <rp@y.z>\nTo: t@b.c\n\n', { env: { USER: 'joe', QMAILINJECT: 'fis' } });
    expect(r.text).toBe('Date: 5 Jan 2026 04:46:53 -0000\nMessage-ID: <20260105044653.4242.qmail@host1.example.com>\nFrom: joe@mail.example.com\nTo: t@b.c\n\n');
    expect(r.sender).toBe('joe@mail.example.com');
  });

  it('Mail-Followup-To: when a To/Cc address is a listed list; fields in reverse order', () => {
    const msg = 'Date: x\nMessage-ID: <a@b>\nFrom: f@b.c\nTo: a@x.y, b@x.y\nCc: List@L.org, c@x.y\n\n';
    expect(run(msg, { mftList: ['list@l.org'] }).text).toBe(
      'Mail-Followup-To: List@L.org,\n  c@x.y,\n  a@x.y,\n  b@x.y\n' + msg.replace('To: a@x.y, b@x.y', 'To: a@x.y, b@x.y'),
    );
    expect(run(msg, { mftList: ['other@l.org'] }).text).toBe(msg);
    expect(run(`Mail-Followup-To: z@z.z\n${msg}`, { mftList: ['list@l.org'] }).text).toBe(`Mail-Followup-To: z@z.z\n${msg}`);
  });

  it('Message-ID stamps are zero-padded', () => expect(messageIdStamp(Date.UTC(2001, 1, 3, 4, 5, 6))).toBe('20010203040506'));
});

describe('recipients and sender', () => {
  const msg = 'Date: x\nMessage-ID: <a@b>\nFrom: a@b.c\nTo: h1\nCc: h2@x.y\nBcc: h3\nApparently-To: h4\n\n';
  const hdr = ['h1@mail.example.com', 'h2@x.y', 'h3@mail.example.com', 'h4@mail.example.com'];
  it.each([
    ['A', ['bob'], ['bob@mail.example.com']],
    ['A', [], hdr],
    ['a', [], []],
    ['h', ['bob'], hdr],
    ['H', ['bob'], ['bob@mail.example.com', ...hdr]],
  ] as const)('-%s %j', (strategy, args, want) => expect(run(msg, { strategy, args: [...args] }).recipients).toEqual(want));

  it('an argument that does not parse is fatal, 100', () => {
    const r = compose({ message: latin1Bytes(msg), args: ['a@b@c<'], strategy: 'A', sender: null, env: {}, config, nowMs, pid });
    expect(r).toEqual({ ok: false, code: 100, text: 'unable to parse address: a@b@c<' });
  });

  it('sender: -f, then Return-Path, then the default (QMAILSUSER, QMAILSHOST)', () => {
    expect(run(msg, { sender: 'me@foo' }).sender).toBe('me@foo.example.com');
    expect(run(msg, { sender: '' }).sender).toBe('');
    expect(run(`Return-Path: <rp@x.y>\n${msg}`).sender).toBe('rp@x.y');
    expect(run(`Return-Path: <>\n${msg}`).sender).toBe('');
    expect(run(msg, { env: { USER: 'joe', QMAILSUSER: 'bounces', QMAILSHOST: 'lists.org' } }).sender).toBe('bounces@lists.org');
    expect(run(msg, { env: { USER: 'joe', QMAILHOST: 'h.org' } }).sender).toBe('joe@h.org');
  });

  it('VERP flags: m appends -start.pid, r appends - and -@[]', () => {
    expect(run(msg, { env: { USER: 'joe', QMAILINJECT: 'm' } }).sender).toBe(`joe-${Math.floor(nowMs / 1000)}.4242@mail.example.com`);
    expect(run(msg, { env: { USER: 'joe', QMAILINJECT: 'r' } }).sender).toBe('joe-@mail.example.com-@[]');
  });

  it('-n prints a Return-Path line first', () => {
    expect(latin1(printed('a b@c.d', latin1Bytes('X: y\n\n')))).toBe('Return-Path: <"a b"@c.d>\nX: y\n\n');
  });
});

describe('getopt', () => {
  it('bundles, attached and separate arguments, --, unknown', () => {
    expect(getopt(['-nH', '-fme', 'x'], 'aAhHnNf:')).toEqual({ opts: [{ opt: 'n', arg: null }, { opt: 'H', arg: null }, { opt: 'f', arg: 'me' }], rest: ['x'], bad: null });
    expect(getopt(['-f', 'me', '--', '-a'], 'aAhHnNf:').rest).toEqual(['-a']);
    expect(getopt(['-F', 'x'], 'aAhHnNf:').bad).toBe('F');
    expect(getopt(['-f'], 'aAhHnNf:').bad).toBe('f');
  });
});
