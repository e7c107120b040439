// The built qmail-local on this host, as root with a real ordinary user (created when missing):
// run under setpriv with that user's uid and gid and no other groups, as qmail-lspawn runs it, with
// a message file on fd 0. The maildir file lands owned by the user with the right bytes; a program
// line runs with the user's ids in the home directory and gets the message on its fd 0; an mbox
// entry; a forward through a stand-in $QMAILQUEUE; a message on a pipe cannot be rewound.
// Needs root (skipped otherwise), setpriv, useradd.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIntoTemp, removeTemp } from '../../conformance/queue/host-install.ts';
import { ensureUser, isRoot } from '../../conformance/host/accounts.ts';
import { maildirHost } from '../../impl/local/maildir-name.ts';

if (!isRoot) console.warn('local-host.test.ts: skipped: needs root (creates a user, runs qmail-local as that user)');

const userName = 'qlocaltest';
const message = 'Subject: host\n\nFrom me\nbody\n';

describe.skipIf(!isRoot)('qmail-local on this host (root, as an ordinary user)', () => {
  let tmp: string;
  let home: string;
  let user: { uid: number; gid: number };

  const own = (path: string, mode: number): void => {
    chownSync(path, user.uid, user.gid);
    chmodSync(path, mode);
  };
  const dotQmail = (name: string, text: string): void => {
    writeFileSync(join(home, name), text);
    own(join(home, name), 0o644);
  };

  /** Runs dist/bin/qmail-local as the user; fd 0 is the message file (or a pipe with `viaPipe`). */
  const run = (ext: string, opts: { env?: Record<string, string>; viaPipe?: boolean } = {}) => {
    const msgPath = join(tmp, `msg-${ext}`);
    writeFileSync(msgPath, message, { mode: 0o644 });
    const fd = openSync(msgPath, 'r');
    try {
      const argv = ['--', userName, home, ext === '' ? userName : `${userName}-${ext}`, ext === '' ? '' : '-', ext, 'example.com', 'sender@example.org', './Maildir/\n'];
      const r = spawnSync('setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', '--', join(tmp, 'dist/bin/qmail-local'), ...argv], {
        stdio: [opts.viaPipe === true ? 'pipe' : fd, 'pipe', 'pipe'],
        input: opts.viaPipe === true ? message : undefined,
        env: { PATH: '/usr/bin:/bin', ...opts.env },
        encoding: 'utf8',
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    } finally {
      closeSync(fd);
    }
  };

  beforeAll(() => {
    tmp = buildIntoTemp('qmail-local-');
    user = ensureUser(userName, userName);
    home = join(tmp, 'home');
    mkdirSync(home);
    own(home, 0o755);
    for (const d of ['Maildir', 'Maildir/cur', 'Maildir/new', 'Maildir/tmp']) {
      mkdirSync(join(home, d));
      own(join(home, d), 0o700);
    }
  });
  afterAll(() => removeTemp(tmp));

  it('delivers to ./Maildir/: a file owned by the user, 0600, Return-Path + Delivered-To + message', () => {
    expect(run('')).toEqual({ code: 0, stdout: 'did 1+0+0\n', stderr: '' });
    const names = readdirSync(join(home, 'Maildir/new'));
    expect(names.length).toBe(1);
    const name = names[0] as string;
    const host = maildirHost(hostname(), 63).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(name).toMatch(new RegExp(`^[0-9]+\\.M[0-9]+P[0-9]+R[0-9a-f]{16}\\.${host}$`));
    const st = statSync(join(home, 'Maildir/new', name));
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ uid: user.uid, gid: user.gid, mode: 0o600 });
    expect(readFileSync(join(home, 'Maildir/new', name), 'utf8')).toBe(`Return-Path: <sender@example.org>\nDelivered-To: ${userName}@example.com\n${message}`);
    expect(readdirSync(join(home, 'Maildir/tmp'))).toEqual([]);
  });

  it("runs a program line as the user, in the home directory, with the message on fd 0 and qmail's variables", () => {
    dotQmail('.qmail-prog', '|id -u; id -g; id -G; pwd; echo "$EXT2|$DEFAULT|$RECIPIENT"; cat > stdin-copy\n');
    dotQmail('.qmail-prog-default', '|echo "$DEFAULT"\n');
    const r = run('prog');
    expect(r).toEqual({ code: 0, stdout: `${user.uid}\n${user.gid}\n${user.gid}\n${home}\n||${userName}-prog@example.com\ndid 0+0+1\n`, stderr: '' });
    const copy = join(home, 'stdin-copy');
    expect(readFileSync(copy, 'utf8')).toBe(message);
    const st = statSync(copy);
    expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: user.uid, mode: 0o600 }); // umask 077
    expect(run('prog-Some.Thing')).toEqual({ code: 0, stdout: 'Some.Thing\ndid 0+0+1\n', stderr: '' });
  });

  it('maps program exit codes: 100 bounces, 111 defers, a signal is a crash', () => {
    dotQmail('.qmail-bounce', '|exit 100\n');
    dotQmail('.qmail-defer', '|echo trouble >&2; exit 111\n');
    dotQmail('.qmail-crash', '|kill -9 $$\n');
    expect(run('bounce')).toEqual({ code: 100, stdout: '', stderr: '' });
    expect(run('defer')).toEqual({ code: 111, stdout: '', stderr: 'trouble\n' });
    expect(run('crash')).toEqual({ code: 111, stdout: '', stderr: 'Aack, child crashed. (#4.3.0)\n' });
  });

  it('appends an mbox entry, creating the mbox 0600 for the user', () => {
    dotQmail('.qmail-mbox', './mbox\n');
    expect(run('mbox')).toEqual({ code: 0, stdout: 'did 1+0+0\n', stderr: '' });
    expect(run('mbox').code).toBe(0);
    const text = readFileSync(join(home, 'mbox'), 'utf8');
    const entry = `Return-Path: <sender@example.org>\nDelivered-To: ${userName}-mbox@example.com\nSubject: host\n\n>From me\nbody\n\n`;
    expect(text).toMatch(/^From sender@example\.org [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} [0-9]{4}\n/);
    expect(text.split(/^From sender@example\.org .*\n/m)).toEqual(['', entry, entry]);
    const st = statSync(join(home, 'mbox'));
    expect({ uid: st.uid, mode: st.mode & 0o7777 }).toEqual({ uid: user.uid, mode: 0o600 });
    expect(readdirSync(home)).not.toContain('mbox.qmail-pending');
  });

  it('forwards through $QMAILQUEUE: DTLINE + message on fd 0, the envelope on fd 1, qp', () => {
    const qq = join(tmp, 'fake-qq');
    writeFileSync(qq, `#!/bin/sh\ncat > ${home}/qq-message\ncat <&1 > ${home}/qq-envelope\n`, { mode: 0o755 });
    dotQmail('.qmail-fwd', '&a@example.org\nb@example.net\n');
    dotQmail('.qmail-fwd-owner', 'x\n');
    const r = run('fwd', { env: { QMAILQUEUE: qq } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^did 0\+2\+0\nqp [0-9]+\n$/);
    expect(readFileSync(join(home, 'qq-message'), 'utf8')).toBe(`Delivered-To: ${userName}-fwd@example.com\n${message}`);
    expect(readFileSync(join(home, 'qq-envelope'), 'latin1')).toBe(`F${userName}-fwd-owner@example.com\0Ta@example.org\0Tb@example.net\0\0`);
  });

  it('cannot rewind a message on a pipe', () => {
    expect(run('', { viaPipe: true })).toEqual({ code: 111, stdout: '', stderr: 'Unable to rewind message. (#4.3.0)\n' });
  });
});
