// sendmail's decision, pure (spec local.md 3.5): options, the qmail-inject command line, the
// environment it gets.

import { describe, expect, it } from 'vitest';
import { sendmailPlan } from '../../impl/sendmail/plan.ts';

const usage = { exit: 100, text: 'sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]' };

describe('sendmail options', () => {
  it.each([
    [['sendmail', 'a@b'], ['-a', '--', 'a@b']],
    [['sendmail', '-t'], ['-H', '--']],
    [['sendmail', '-oi', '-oem', '-i', '-v', '-x', '-m', '-B8BITMIME', '-p', 'smtp:x', '-e', 'q', '-bm', 'a'], ['-a', '--', 'a']],
    [['sendmail', '-Efoo', '-Jbar', 'a'], ['-a', '--', 'a']],
    [['sendmail', '-f', 'me@x.org', '--', '-weird'], ['-a', '-f', 'me@x.org', '--', '-weird']],
    [['sendmail', '-fme', 'a'], ['-a', '-f', 'me', '--', 'a']],
  ])('%j → qmail-inject %j', (argv, args) => {
    const p = sendmailPlan(argv, {});
    expect(p).toMatchObject({ program: 'qmail-inject', args });
  });

  it('-F sets MAILNAME; -f replaces the name and host variables with QMAILUSER/QMAILHOST', () => {
    expect(sendmailPlan(['sendmail', '-FJoe', 'a'], { USER: 'u' })).toMatchObject({ env: { USER: 'u', MAILNAME: 'Joe' } });
    const p = sendmailPlan(['sendmail', '-FJoe', '-f', 'x@y@lists.org', 'a'], { NAME: 'n', QMAILNAME: 'q', MAILHOST: 'h', QMAILHOST: 'qh' });
    expect(p).toMatchObject({ env: { QMAILUSER: 'x@y', QMAILHOST: 'lists.org' } });
    expect('env' in p && Object.keys(p.env).sort()).toEqual(['QMAILHOST', 'QMAILUSER']);
    expect(sendmailPlan(['sendmail', '-f', 'bare', 'a'], {})).toMatchObject({ env: { QMAILUSER: 'bare' } });
  });

  it('-bp, mailq: qmail-qread; -bs: qmail-smtpd, keeping PROTO when set', () => {
    expect(sendmailPlan(['sendmail', '-bp'], {})).toEqual({ program: 'qmail-qread', args: [], env: {} });
    expect(sendmailPlan(['/usr/bin/mailq', '-x'], {})).toEqual({ program: 'qmail-qread', args: [], env: {} });
    expect(sendmailPlan(['sendmail', '-bs'], { PROTO: 'X' })).toEqual({ program: 'qmail-smtpd', args: [], env: { PROTO: 'X' } });
    expect(sendmailPlan(['sendmail', '-bs'], {})).toMatchObject({ program: 'qmail-smtpd', env: { PROTO: 'TCP', TCPREMOTEINFO: 'sendmail-bs', DATABYTES: '0', RELAYCLIENT: '' } });
  });

  it('usage errors and newaliases', () => {
    expect(sendmailPlan(['sendmail', '-bi'], {})).toEqual(usage);
    expect(sendmailPlan(['sendmail', '-q'], {})).toEqual(usage);
    expect(sendmailPlan(['sendmail', '-f'], {})).toEqual(usage);
    expect(sendmailPlan(['newaliases'], {})).toEqual({ exit: 100, text: 'sendmail: fatal: please use fastforward/newaliases instead' });
  });
});
