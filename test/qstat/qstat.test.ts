// qmail-qstat's two counts on a hand-built queue, on the real host Sys.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../impl/qstat/main.ts';
import { main as queueFix } from '../../impl/queue-fix/main.ts';
import { runProgram } from '../support/host-program.ts';

let tmp: string;
let q: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'qstat-'));
  q = join(tmp, 'queue');
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('qmail-qstat', () => {
  it('counts messages in mess/*/ and unprocessed ones in todo/', async () => {
    await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3' } });
    for (const f of ['mess/0/3', 'mess/1/4', 'mess/2/5', 'todo/4']) writeFileSync(join(q, f), 'x');
    const r = await runProgram(main, { argv: ['qmail-qstat'], env: { QUEUEDIR: q } });
    expect(r).toMatchObject({ code: 0, stdout: 'messages in queue: 3\nmessages in queue but not yet preprocessed: 1\n' });
  });

  it('counts todo/S/ID under BIGTODO, and flat names left from before', async () => {
    await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3', BIGTODO: '1' } });
    for (const f of ['mess/1/4', 'todo/1/4', 'todo/7']) writeFileSync(join(q, f), 'x');
    const r = await runProgram(main, { argv: ['qmail-qstat'], env: { QUEUEDIR: q, BIGTODO: '1' } });
    expect(r.stdout).toBe('messages in queue: 1\nmessages in queue but not yet preprocessed: 2\n');
  });

  it('an empty queue is two zeros; a missing one is fatal', async () => {
    await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3' } });
    expect((await runProgram(main, { argv: ['qmail-qstat'], env: { QUEUEDIR: q } })).stdout).toBe(
      'messages in queue: 0\nmessages in queue but not yet preprocessed: 0\n',
    );
    const r = await runProgram(main, { argv: ['qmail-qstat'], env: { QUEUEDIR: join(tmp, 'nowhere') } });
    expect(r.code).toBe(111);
    expect(r.stderr).toMatch(/^qmail-qstat: fatal: unable to read .*nowhere\/mess: file does not exist\n$/);
  });
});
