// qmail-clean and qmail-rspawn-defer on the real host Sys (a queue made by queue-fix -u in a
// temporary directory): the same bytes as in the simulator, against the Linux file system.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main as qmailClean } from '../../impl/clean/main.ts';
import { main as rspawnDefer } from '../../impl/rspawn-defer/main.ts';
import { main as queueFix } from '../../impl/queue-fix/main.ts';
import { remoteDeferReport, remoteDeferSlots } from '../../spec/send.ts';
import { runProgram } from '../support/host-program.ts';

let tmp: string;
let q: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'clean-'));
  q = join(tmp, 'queue');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('qmail-clean on the host', () => {
  it('removes intd and todo, or intd and mess, and answers + and x', async () => {
    await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3' } });
    for (const f of ['mess/1/4', 'intd/4', 'todo/4', 'mess/2/5', 'intd/5']) writeFileSync(join(q, f), 'x');
    const r = await runProgram(qmailClean, { argv: ['qmail-clean'], env: { QUEUEDIR: q, CONFSPLIT: '3' }, input: { 0: enc('todo/4\0foop/5\0oops\0') } });
    expect(r).toMatchObject({ code: 0, stdout: '++x' });
    expect(['intd/4', 'todo/4', 'intd/5', 'mess/2/5'].filter((f) => existsSync(join(q, f)))).toEqual([]);
    expect(existsSync(join(q, 'mess/1/4'))).toBe(true);
  });

  it('exits 111 without a queue', async () => {
    const r = await runProgram(qmailClean, { argv: ['qmail-clean'], env: { QUEUEDIR: join(tmp, 'nowhere') }, input: { 0: enc('todo/4\0') } });
    expect(r.code).toBe(111);
  });
});

describe('qmail-rspawn-defer on the host', () => {
  it('advertises its slots and defers every command at once', async () => {
    const r = await runProgram(rspawnDefer, { argv: ['qmail-rspawn-defer'], input: { 0: enc('\x000/7\0a@b\0c@d\0\x050/8\0\0e@f\0') } });
    expect(r.code).toBe(0);
    expect(Array.from(r.stdoutBytes)).toEqual(Array.from(enc(`${String.fromCharCode(remoteDeferSlots)}\x00${remoteDeferReport}\0\x05${remoteDeferReport}\0`)));
  });
});
