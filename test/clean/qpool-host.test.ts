// qpool/ on the host (spec/queue.md 8): qmail-clean gives a finished message's mess and intd to the
// pool under their inode numbers, and qmail-queue takes them back for the next message: its number is
// one of theirs, its files hold exactly its own bytes (cut to length), and its mess has a fresh atime
// (the OSSIFIED cleanup judges mess by it). Without qpool/ both programs create and unlink as qmail.
// Real programs' mains on the real file system, in a queue made by queue-fix -u.

import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main as qmailClean } from '../../impl/clean/main.ts';
import { main as qmailQueue } from '../../impl/queue/main.ts';
import { main as queueFix } from '../../impl/queue-fix/main.ts';
import { runProgram } from '../support/host-program.ts';

let tmp: string;
let q: string;
const env = (): Record<string, string> => ({ QMAILHOME: tmp, QUEUEDIR: q, CONFSPLIT: '3' });

beforeEach(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'qpool-'));
  q = join(tmp, 'queue');
  await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: env() });
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Queues one message; its number (the one new todo/ name). */
async function queue(body: string, rcpt: string): Promise<number> {
  const before = new Set(readdirSync(join(q, 'todo')));
  const r = await runProgram(qmailQueue, { argv: ['qmail-queue'], env: env(), input: { 0: enc(body), 1: enc(`Fs@example\0T${rcpt}\0\0`) } });
  expect(r.code).toBe(0);
  const added = readdirSync(join(q, 'todo')).filter((n) => !before.has(n));
  expect(added.length).toBe(1);
  return Number(added[0]);
}

const mess = (id: number): string => join(q, 'mess', String(id % 3), String(id));

async function clean(input: string): Promise<string> {
  const r = await runProgram(qmailClean, { argv: ['qmail-clean'], env: env(), input: { 0: enc(input) } });
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('qpool/ on the host', () => {
  it('gives intd (not mess) to the pool by its inode number; the next message is made of it, cut to its length, with a fresh atime', async () => {
    const long = `${'r'.repeat(900)}@example`; // a long envelope: the recycled file is longer than the next mess
    const a = await queue(`Subject: a\n\nbody\n`, long);
    const aIntd = lstatSync(join(q, 'intd', String(a))).ino;
    expect(await clean(`todo/${a}\0foop/${a}\0`)).toBe('++');
    for (const f of [`intd/${a}`, `todo/${a}`]) expect(existsSync(join(q, f))).toBe(false);
    expect(existsSync(mess(a))).toBe(false);
    const free = readdirSync(join(q, 'qpool'));
    expect(free).toEqual([String(aIntd)]); // mess was unlinked: a late reader keeps its bytes
    const st = lstatSync(join(q, 'qpool', String(aIntd)));
    expect({ ino: st.ino, nlink: st.nlink, mode: st.mode & 0o7777 }).toEqual({ ino: aIntd, nlink: 1, mode: 0o644 });
    expect(st.size).toBeGreaterThan(900);
    utimesSync(join(q, 'qpool', String(aIntd)), new Date(Date.now() - 3 * 86_400_000), new Date(Date.now() - 3 * 86_400_000));

    const b = await queue('Subject: b\n\nshort\n', 'second@example');
    expect(readdirSync(join(q, 'qpool'))).toEqual([]);
    expect(b).toBe(aIntd); // the message number is the recycled file's inode number
    const text = readFileSync(mess(b), 'latin1');
    expect(text).toMatch(/^Received: \(qmail [0-9]+ invoked by uid [0-9]+\); .*\nSubject: b\n\nshort\n$/);
    expect(Date.now() - lstatSync(mess(b)).atimeMs).toBeLessThan(60_000);
    const todo = readFileSync(join(q, 'todo', String(b)), 'latin1');
    expect(todo).toMatch(/^u[0-9]+\0p[0-9]+\0Fs@example\0Tsecond@example\0$/);
    expect(lstatSync(join(q, 'todo', String(b))).nlink).toBe(2); // intd/ID and todo/ID
    expect(readdirSync(join(q, 'pid'))).toEqual([]);
  });

  it('a pool name with a second name is never handed out: the name is dropped and the file created', async () => {
    const a = await queue('Subject: a\n\nbody\n', 'first@example');
    // As a crash on a file system without atomic renames could leave it: mess/S/A also in qpool/.
    const { linkSync } = await import('node:fs');
    linkSync(mess(a), join(q, 'qpool', String(a)));
    const b = await queue('Subject: b\n\nother\n', 'second@example');
    expect(b).not.toBe(a);
    expect(readFileSync(mess(a), 'latin1')).toMatch(/\n\nbody\n$/);
    expect(readdirSync(join(q, 'qpool'))).toEqual([]);
    expect(lstatSync(mess(a)).nlink).toBe(1);
  });

  it('a full pool (4096 free files) takes no more: qmail-clean unlinks as qmail does', async () => {
    const { writeFileSync } = await import('node:fs');
    for (let i = 0; i < 4096; i++) writeFileSync(join(q, 'qpool', `x${i}`), '');
    const a = await queue('Subject: a\n\nbody\n', 'first@example');
    expect(readdirSync(join(q, 'qpool')).length).toBe(4096); // x names are not free files: not taken
    expect(await clean(`todo/${a}\0foop/${a}\0`)).toBe('++');
    expect(existsSync(mess(a))).toBe(false);
    expect(readdirSync(join(q, 'qpool')).length).toBe(4096);
  });

  it('without qpool/ (a queue made by another qmail) qmail-clean unlinks and qmail-queue creates', async () => {
    rmdirSync(join(q, 'qpool'));
    const a = await queue('Subject: a\n\nbody\n', 'first@example');
    expect(await clean(`todo/${a}\0foop/${a}\0`)).toBe('++');
    expect(existsSync(mess(a))).toBe(false);
    const b = await queue('Subject: b\n\nbody\n', 'second@example');
    expect(readFileSync(mess(b), 'latin1')).toMatch(/\n\nbody\n$/);
    expect(existsSync(join(q, 'qpool'))).toBe(false);
  });
});
