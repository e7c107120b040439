// qmail-start's pure parts: the command line (indimail's getopt "cds"), each daemon's argv,
// USE_SETGROUPS's user list, and which daemon is blamed when the MTA comes down by itself.

import { describe, expect, it } from 'vitest';
import { parseOptions, todoFlags, sendFlags } from '../../impl/start/options.ts';
import { daemonArgv, queueDirOf } from '../../impl/start/argv.ts';
import { setgroupsFor } from '../../impl/start/creds.ts';
import { causeOf } from '../../impl/start/supervise.ts';
import type { Running } from '../../impl/start/wire.ts';
import type { ExitStatus } from '../../impl/sys/types.ts';

describe('qmail-start command line', () => {
  it('defaults to ./Mailbox with no logger', () => {
    expect(parseOptions([])).toEqual({ flags: [], defaultDelivery: './Mailbox', logger: [] });
  });

  it('takes options first, grouped or not, then defaultdelivery, then the logger argv', () => {
    expect(parseOptions(['-s', './Maildir/', 'splogger', 'qmail'])).toEqual({ flags: ['s'], defaultDelivery: './Maildir/', logger: ['splogger', 'qmail'] });
    expect(parseOptions(['-cd', '-s', '-d', './Maildir/'])).toEqual({ flags: ['c', 'd', 's'], defaultDelivery: './Maildir/', logger: [] });
    expect(parseOptions(['--', '-odd-delivery'])).toEqual({ flags: [], defaultDelivery: '-odd-delivery', logger: [] });
    // Options end at the first non-option: a logger's own flags are its own.
    expect(parseOptions(['./Maildir/', 'multilog', '-t', './main'])).toEqual({ flags: [], defaultDelivery: './Maildir/', logger: ['multilog', '-t', './main'] });
  });

  it('refuses an unknown option letter', () => {
    expect(parseOptions(['-sx'])).toEqual({ error: 'illegal option -- x' });
  });

  it('passes -c -d -s to todo-proc and -d -s to qmail-send, in order', () => {
    expect(todoFlags(['c', 'd', 's'])).toEqual(['-c', '-d', '-s']);
    expect(sendFlags(['c', 'd', 's'])).toEqual(['-d', '-s']);
    expect(sendFlags(['c'])).toEqual([]);
  });
});

describe('daemon argv', () => {
  const opts = { flags: ['s'], defaultDelivery: './Maildir/', logger: [] };

  it('without QUEUEDIR', () => {
    expect(daemonArgv('send', opts, null)).toEqual(['qmail-send', '-s']);
    expect(daemonArgv('todo', opts, null)).toEqual(['todo-proc', '-s']);
    expect(daemonArgv('lspawn', opts, null)).toEqual(['qmail-lspawn', './Maildir/']);
    expect(daemonArgv('rspawn', opts, null)).toEqual(['qmail-rspawn']);
    expect(daemonArgv('cleanSend', opts, null)).toEqual(['qmail-clean']);
    expect(daemonArgv('cleanTodo', opts, null)).toEqual(['qmail-clean']);
  });

  it('with QUEUEDIR appended (and the cleans naming their client after it)', () => {
    const q = '/var/qmail/queue1';
    expect(daemonArgv('send', opts, q)).toEqual(['qmail-send', '-s', q]);
    expect(daemonArgv('lspawn', opts, q)).toEqual(['qmail-lspawn', './Maildir/', q]);
    expect(daemonArgv('cleanSend', opts, q)).toEqual(['qmail-clean', q, 'qmail-send']);
    expect(daemonArgv('cleanTodo', opts, q)).toEqual(['qmail-clean', q, 'todo-proc']);
  });

  it('an empty QUEUEDIR counts as unset', () => {
    expect(queueDirOf({ QUEUEDIR: '' })).toBeNull();
    expect(queueDirOf({})).toBeNull();
    expect(queueDirOf({ QUEUEDIR: 'queue2' })).toBe('queue2');
  });
});

describe('USE_SETGROUPS', () => {
  it('unset: nobody; 1 (first character): everybody; otherwise a colon-separated list', () => {
    expect(setgroupsFor(undefined, 'qmailr')).toBe(false);
    expect(setgroupsFor('1', 'qmailr')).toBe(true);
    expect(setgroupsFor('1yes', 'qmailq')).toBe(true);
    expect(setgroupsFor('qmailr:qmaill', 'qmailr')).toBe(true);
    expect(setgroupsFor('qmailr:qmaill', 'qmaill')).toBe(true);
    expect(setgroupsFor('qmailr:qmaill', 'qmailq')).toBe(false);
    expect(setgroupsFor('', 'qmailr')).toBe(false);
    expect(setgroupsFor('qmailrr', 'qmailr')).toBe(false);
  });
});

describe('who brought the MTA down', () => {
  const r = (label: string, status: ExitStatus): Running => ({ role: 'lspawn', label, pid: 1, status, done: Promise.resolve(status) });
  const ok: ExitStatus = { code: 0, signal: null };
  const killed: ExitStatus = { code: null, signal: 'SIGKILL' };

  it('a helper killed beats a helper that ended on EOF, whatever was seen first', () => {
    const send = r('qmail-send', ok);
    const clean = r('qmail-clean (todo-proc)', ok);
    const todo = r('todo-proc', killed);
    expect(causeOf(send, [clean, todo])).toBe(todo);
  });

  it('a non-zero exit beats a clean one; the first seen wins a tie', () => {
    const send = r('qmail-send', ok);
    const a = r('a', { code: 1, signal: null });
    const b = r('b', { code: 100, signal: null });
    expect(causeOf(send, [r('c', ok), a, b])).toBe(a);
  });

  it('helpers that only saw EOF are blamed only when qmail-send exited 0', () => {
    const clean = r('qmail-clean (qmail-send)', ok);
    expect(causeOf(r('qmail-send', ok), [clean])).toBe(clean);
    expect(causeOf(r('qmail-send', { code: 111, signal: null }), [clean])).toBeNull();
    const send = r('qmail-send', killed);
    expect(causeOf(send, [clean])).toBe(send);
  });

  it('nothing ended before qmail-send: its own status tells', () => {
    expect(causeOf(r('qmail-send', ok), [])).toBeNull();
    const send = r('qmail-send', { code: null, signal: 'SIGSEGV' });
    expect(causeOf(send, [])).toBe(send);
  });
});
