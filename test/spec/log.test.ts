// The activity log grammar (spec/log.ts): notqmail's lines as qmail-log(5) and qmail-send.c print
// them, indimail's variants, a round trip for every event the formatter can write, and hostile
// input that never breaks the parser.
// Replay a property failure: SEED=<seed> npx vitest run test/spec/log.test.ts

import { describe, expect, it } from 'vitest';
import { checkProperty } from '../support/seed.ts';
import fc from 'fast-check';
import { alertTexts, cannotStartReasons, formatLogLine, parseLogLine, warningTexts, type LogEvent } from '../../spec/log.ts';

const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);

const lines: [string, Partial<LogEvent>][] = [
  ['status: local 0/10 remote 3/20', { kind: 'status', local: { used: 0, limit: 10 }, remote: { used: 3, limit: 20 }, exitasap: false }],
  ['status: local 1/10 remote 0/20 exitasap', { kind: 'status', exitasap: true }],
  ['status: exiting', { kind: 'exiting' }],
  ['new msg 12345', { kind: 'new', id: 12345, queue: null }],
  ['info msg 12345: bytes 789 from <a@b.c> qp 4242 uid 1000', { kind: 'info', id: 12345, bytes: 789, from: 'a@b.c', qp: 4242, uid: 1000 }],
  ['info msg 1: bytes 2 from <> qp 3 uid 4', { kind: 'info', from: '' }],
  ['info msg 1: bytes 2 from <a>b> qp 3 uid 4', { kind: 'info', from: 'a>b' }],
  ['starting delivery 7: msg 12345 to local joe@example.org', { kind: 'starting', delivery: { n: 7, qident: null }, channel: 'local', recipient: 'joe@example.org' }],
  ['starting delivery 7.3: msg 12345 to remote joe@example.org', { kind: 'starting', delivery: { n: 7, qident: '3' }, channel: 'remote' }],
  ['delivery 7: success: did_0+0+1/', { kind: 'delivery', result: 'success', report: 'did_0+0+1/' }],
  ['delivery 7: deferral: Connected_to_1.2.3.4_but_connection_died._(#4.4.2)/', { kind: 'delivery', result: 'deferral' }],
  ['delivery 7: failure: ', { kind: 'delivery', result: 'failure', report: '' }],
  ['delivery 7: report mangled, will defer', { kind: 'mangled' }],
  ['bounce msg 12345 qp 999', { kind: 'bounce', id: 12345, qp: 999 }],
  ['triple bounce: discarding bounce/12345', { kind: 'triple', id: 12345 }],
  ['end msg 12345', { kind: 'end', id: 12345, queue: null }],
  ['alert: oh no! lost spawn connection! dying...', { kind: 'alert', alert: 'lostSpawn' }],
  ['alert: unable to opendir todo, sleeping...', { kind: 'alert', alert: 'opendir', file: 'todo' }],
  ['alert: cannot start: qmail-send is already running', { kind: 'cannotStart', reason: 'running' }],
  ['alert: cannot start: hath the daemon spawn no fire?', { kind: 'cannotStart', reason: 'spawn' }],
  ['warning: trouble marking local/5/1234; message will be delivered twice!', { kind: 'warning', warning: 'mark', file: 'local/5/1234' }],
  ['warning: unknown record type in remote/1/8!', { kind: 'warning', warning: 'unknownRecordPass' }],
  ['warning: unknown record type in todo/8', { kind: 'warning', warning: 'unknownRecord' }],
  ['warning: unable to stat info/3/9; will try again later', { kind: 'warning', warning: 'statLater' }],
  ['warning: internal error: delivery report out of range', { kind: 'warning', warning: 'reportRange', file: null }],
  // indimail
  ['status: local 0/10 (held) remote 0/20 delayed jobs=2 queue1 exitasap', { kind: 'status', held: [true, false], delayedJobs: 2, queue: 'queue1', exitasap: true }],
  ['new msg 5 queue1', { kind: 'new', queue: 'queue1' }],
  ['delivery 7.1: success: did_1+0+0/ queue1', { kind: 'delivery', delivery: { n: 7, qident: '1' }, report: 'did_1+0+0/', queue: 'queue1' }],
  ['end msg 5 qmail-send: queue1', { kind: 'end', queue: 'queue1' }],
  ['local: a@b.c joe@x 5 798 bytes queue1 opendir mode', { kind: 'todoStat', channel: 'local', sender: 'a@b.c', recipient: 'joe@x', id: 5, bytes: 798 }],
  ['warn: todo-proc: queue1: subdir=todo/5 fn=todo/3/1234 incorrect split', { kind: 'todoSubdir', subdir: 5, fnSplit: 3, id: 1234, incorrect: true }],
  ['info: todo-proc: queue1: subdir=todo/3 fn=todo/3/1234', { kind: 'todoSubdir', incorrect: false }],
  ['info: todo-proc: pid 77: /var/qmail/queue: conf split=23, todo chunk size=64, bigtodo=no', { kind: 'todoStart', pid: 77, split: 23, chunk: 64, bigtodo: false }],
  ['alert: qmail-send: queue1: oh no! lost todo-proc connection! dying...', { kind: 'program', level: 'alert', program: 'qmail-send' }],
];

describe('log lines', () => {
  for (const [line, want] of lines) {
    it(line, () => {
      const e = parseLogLine(line);
      expect(e).toMatchObject(want);
      expect(formatLogLine(e as LogEvent)).toBe(line);
    });
  }
  it('refuses what is not a log line', () => {
    for (const bad of ['', 'status: local 1/2', 'delivery 7: success: three word report', 'new msg 012', 'new msg x', 'warning: made up', 'alert: cannot start: because', 'info msg 1: bytes 2 from <a b> qp 3 uid 4', 'starting delivery 1: msg 2 to moon x', 'delivery 1: success: 100%'])
      expect('error' in parseLogLine(bad), bad).toBe(true);
  });
});

const safe = fc.string({ unit: fc.integer({ min: 33, max: 126 }).filter((c) => c !== 37).map((c) => String.fromCharCode(c)), maxLength: 12 });
const safe1 = safe.filter((s) => s.length > 0);
const queue = fc.option(safe1.filter((s) => s !== 'exitasap'), { nil: null });
const n = fc.nat({ max: 2 ** 40 });
const file = fc.stringMatching(/^[a-z]{1,6}(\/[0-9]{1,5}){1,2}$/);
const delivery = fc.record({ n, qident: fc.option(safe1.filter((s) => !s.includes(':')), { nil: null }) });

const event: fc.Arbitrary<LogEvent> = fc.oneof(
  fc.record({ kind: fc.constant('status' as const), local: fc.record({ used: n, limit: n }), remote: fc.record({ used: n, limit: n }), exitasap: fc.boolean(), held: fc.tuple(fc.boolean(), fc.boolean()), delayedJobs: fc.option(n, { nil: null }), queue }),
  fc.constant({ kind: 'exiting' as const }),
  fc.record({ kind: fc.constant('new' as const), id: n, queue }),
  fc.record({ kind: fc.constant('info' as const), id: n, bytes: n, from: safe, qp: n, uid: n, queue }),
  fc.record({ kind: fc.constant('starting' as const), delivery, id: n, channel: fc.constantFrom('local' as const, 'remote' as const), recipient: safe, queue }),
  fc.record({ kind: fc.constant('delivery' as const), delivery, result: fc.constantFrom('success' as const, 'deferral' as const, 'failure' as const), report: safe, queue }),
  fc.record({ kind: fc.constant('mangled' as const), delivery }),
  fc.record({ kind: fc.constant('bounce' as const), id: n, qp: n, queue }),
  fc.record({ kind: fc.constant('triple' as const), id: n }),
  fc.record({ kind: fc.constant('end' as const), id: n, queue }),
  fc.constantFrom(...Object.keys(alertTexts)).chain((a) =>
    fc.record({ kind: fc.constant('alert' as const), alert: fc.constant(a as keyof typeof alertTexts), file: alertTexts[a as keyof typeof alertTexts].includes('{f}') ? file : fc.constant(null) }),
  ),
  fc.record({ kind: fc.constant('cannotStart' as const), reason: fc.constantFrom(...(Object.keys(cannotStartReasons) as (keyof typeof cannotStartReasons)[])) }),
  fc.constantFrom(...Object.keys(warningTexts)).chain((w) =>
    fc.record({ kind: fc.constant('warning' as const), warning: fc.constant(w as keyof typeof warningTexts), file: warningTexts[w as keyof typeof warningTexts].includes('{f}') ? file : fc.constant(null) }),
  ),
  fc.record({ kind: fc.constant('todoStat' as const), channel: fc.constantFrom('local' as const, 'remote' as const), sender: safe1, recipient: safe1, id: n, bytes: n, queue: safe1, mode: fc.constantFrom('opendir' as const, 'mqueue' as const, 'compat' as const) }),
  fc.record({ kind: fc.constant('todoSubdir' as const), queue: safe1, subdir: n, fnSplit: n, id: n, incorrect: fc.boolean() }),
  fc.record({ kind: fc.constant('todoStart' as const), pid: n, queueDir: file, split: n, chunk: n, bigtodo: fc.boolean() }),
  fc.record({ kind: fc.constant('program' as const), level: fc.constantFrom('info' as const, 'warn' as const, 'alert' as const), program: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/).filter((p) => p !== 'todo-proc'), text: fc.string({ unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)), maxLength: 30 }) }),
);

describe('log grammar properties', () => {
  it('every event the formatter writes parses back to itself', async () => {
    await checkProperty(
      'test/spec/log.test.ts',
      fc.property(event, (e) => {
        const line = formatLogLine(e);
        expect(parseLogLine(line)).toEqual(e);
      }),
      { seed, numRuns: 3000 },
    );
  });
  it('hostile bytes never break the parser', async () => {
    const hostile = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
      fc.tuple(fc.constantFrom(...lines.map(([l]) => l)), fc.string({ maxLength: 20 }), fc.nat({ max: 80 })).map(([l, junk, at]) => l.slice(0, at) + junk + l.slice(at)),
    );
    await checkProperty(
      'test/spec/log.test.ts',
      fc.property(hostile, (line) => {
        const r = parseLogLine(line);
        if (!('error' in r)) expect(formatLogLine(r)).toBe(line);
      }),
      { seed, numRuns: 3000 },
    );
  });
});
