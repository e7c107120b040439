// qmail-qread's output, byte for byte, on a queue built by hand (info, local, remote and bounce
// files written here, info mtimes set with utimes), on the real host Sys. One message per info
// subdirectory, so the expected bytes do not depend on the order readdir returns names in.

import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../impl/qread/main.ts';
import { recipientLines } from '../../impl/qread/recipients.ts';
import { statsLine } from '../../impl/qread/stats-line.ts';
import { main as queueFix } from '../../impl/queue-fix/main.ts';
import { runProgram } from '../support/host-program.ts';

let tmp: string;
let q: string;
const env = () => ({ CONFSPLIT: '3', QUEUEDIR: q });
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

beforeEach(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'qread-'));
  q = join(tmp, 'queue');
  expect((await runProgram(queueFix, { argv: ['queue-fix', '-u', q], env: { CONFSPLIT: '3' } })).code).toBe(0);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function put(rel: string, content: string, mtimeIso?: string): void {
  writeFileSync(join(q, rel), bytes(content));
  if (mtimeIso !== undefined) {
    const t = Date.parse(mtimeIso) / 1000;
    utimesSync(join(q, rel), t, t);
  }
}

describe('qmail-qread', () => {
  it('prints stats and recipients exactly as notqmail does', async () => {
    put('info/0/9', 'Fnobody@x\0'); // no mess: trouble
    put('mess/1/4', 'abc');
    put('info/1/4', 'F\0', '2001-01-01T00:00:05Z'); // the null sender, no channel files
    put('mess/2/8', 'xy');
    put('info/2/8', 'Fjoe@ex\x01ample.com\0', '2024-11-09T17:03:12Z');
    put('local/2/8', 'Tbob@x\0Dalice@y\0Zignored\0\0Tpartial');
    put('remote/2/8', 'Tr@remote\0D\xc3\xa9\x7f\0');
    put('bounce/8', '');
    const r = await runProgram(main, { argv: ['qmail-qread'], env: env() });
    expect(r.code).toBe(0);
    expect(text(r.stdoutBytes)).toBe(
      'warning: trouble with #9: file does not exist\n' +
        '1 Jan 2001 00:00:05 GMT  #4  3  <> \n' +
        '9 Nov 2024 17:03:12 GMT  #8  2  <joe@ex_ample.com>  bouncing\n' +
        '\tlocal\tbob@x\n' +
        '  done\tlocal\talice@y\n' +
        '\tremote\tr@remote\n' +
        '  done\tremote\t___\n',
    );
  });

  it('ignores names that are not message numbers', async () => {
    put('info/1/junk', 'Fa\0');
    expect(await runProgram(main, { argv: ['qmail-qread'], env: env() })).toMatchObject({ code: 0, stdout: '' });
  });

  it('fatal: unable to chdir, exit 111', async () => {
    const r = await runProgram(main, { argv: ['qmail-qread'], env: { QUEUEDIR: join(tmp, 'nowhere') } });
    expect(r).toMatchObject({ code: 111, stdout: 'fatal: unable to chdir: file does not exist\n' });
  });

  it('fatal: unable to opendir a missing info subdirectory, after what it listed', async () => {
    put('mess/1/4', 'abc');
    put('info/1/4', 'Fa@b\0', '2001-01-01T00:00:05Z');
    const r = await runProgram(main, { argv: ['qmail-qread'], env: { ...env(), CONFSPLIT: '4' } });
    expect(r.code).toBe(111);
    // readsubdir lists info/1/4, but with split 4 the files are looked up at mess/0/4: trouble.
    expect(r.stdout).toBe('warning: trouble with #4: file does not exist\nfatal: unable to opendir info/3: file does not exist\n');
  });
});

describe('qmail-qread formatting', () => {
  it('statsLine: two spaces before bouncing, one after > otherwise', () => {
    const base = { queuedMs: Date.parse('2024-02-29T23:59:59Z'), id: 1, size: 0, sender: bytes('a@b') };
    expect(text(statsLine({ ...base, bouncing: false }))).toBe('29 Feb 2024 23:59:59 GMT  #1  0  <a@b> \n');
    expect(text(statsLine({ ...base, bouncing: true }))).toBe('29 Feb 2024 23:59:59 GMT  #1  0  <a@b>  bouncing\n');
  });

  it('recipientLines: T and D records only, complete records only, non-printables as _', () => {
    expect(text(recipientLines('local', bytes('Ta\0Db\0Xc\0\0T\tx\0Tcut')))).toBe('\tlocal\ta\n  done\tlocal\tb\n\tlocal\t_x\n');
    expect(text(recipientLines('remote', bytes('')))).toBe('');
  });
});
