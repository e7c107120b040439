// qmail-inject and sendmail on the real host Sys (no root needed): -n output with control files
// from a temporary installation, a QMAILQUEUE frontend's exit code, sendmail's exec failure.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main as inject } from '../../impl/inject/main.ts';
import { main as sendmail } from '../../impl/sendmail/main.ts';
import { runProgram } from '../support/host-program.ts';

const home = mkdtempSync(join(tmpdir(), 'inject-host-'));
mkdirSync(join(home, 'control'));
mkdirSync(join(home, 'bin'));
writeFileSync(join(home, 'control/me'), 'mail.example.com\n');
writeFileSync(join(home, 'control/defaultdomain'), 'example.com \t\n');
writeFileSync(join(home, 'control/idhost'), 'host1.example.com\n');
const refuse = join(home, 'refuse');
writeFileSync(refuse, '#!/bin/sh\nexit 31\n', { mode: 0o755 });
afterAll(() => rmSync(home, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('qmail-inject on the host', () => {
  it('-n prints Return-Path and the rewritten message', async () => {
    const r = await runProgram(inject, { argv: ['qmail-inject', '-n'], env: { QMAILHOME: home, USER: 'joe', QMAILNAME: 'Joe User' }, input: { 0: enc('To: bob, alice@foo\n\nhi\n') } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Return-Path: <joe@mail\.example\.com>\nDate: [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} -0000\nMessage-ID: <[0-9]{14}\.[0-9]+\.qmail@host1\.example\.com>\nFrom: "Joe User" <joe@mail\.example\.com>\nTo: bob@mail\.example\.com, alice@foo\.example\.com\n\nhi\n$/,
    );
  });

  it('a frontend exiting 31 is a permanent failure: exit 100', async () => {
    const r = await runProgram(inject, { argv: ['qmail-inject', 'x@y.z'], env: { QMAILHOME: home, QMAILQUEUE: refuse }, input: { 0: enc('Subject: s\n\nb\n') } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 100, stderr: 'qmail-inject: fatal: qq mail server permanently rejected message (#5.3.0)\n' });
  });
});

describe('sendmail on the host', () => {
  it('a missing program: unable to run, 111', async () => {
    const r = await runProgram(sendmail, { argv: ['sendmail', '-bs'], env: { QMAILHOME: home } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 111, stderr: 'sendmail: fatal: unable to run qmail-smtpd\n' });
  });

  it('an unreachable home: 111', async () => {
    const r = await runProgram(sendmail, { argv: ['sendmail', 'x'], env: { QMAILHOME: join(home, 'nonexistent') } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 111, stderr: 'sendmail: fatal: unable to switch to qmail home directory\n' });
  });
});
