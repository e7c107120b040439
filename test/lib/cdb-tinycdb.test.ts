// Golden compatibility with Debian's tinycdb (the `cdb` tool): it reads the files we write, we read
// the files it writes, and for the same records in the same order both write the same bytes
// (tinycdb and cdbmake place records alike while no table holds more than 254 of them).
// Needs `cdb` (apt-get install tinycdb; .ci/run installs it); skips, saying so, without it.
// Replay a failing property: SEED=<n> npx vitest run test/lib/cdb-tinycdb.test.ts

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cdbFindAll, cdbMake, cdbRecords } from '../../impl/lib/cdb.ts';
import { parseAssign } from '../../impl/lib/assign.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/lib/cdb-tinycdb.test.ts';
const haveCdb = spawnSync('cdb', ['-h']).error === undefined;
const skipWhy = 'tinycdb is not installed (no `cdb` on PATH): apt-get install tinycdb';
if (!haveCdb) process.stderr.write(`${file}: skipped: ${skipWhy}\n`);

const tmp = mkdtempSync(join(tmpdir(), 'cdb-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** cdbmake's input format: +klen,dlen:key->data\n ... \n */
function cdbmakeInput(rs: readonly (readonly [Uint8Array, Uint8Array])[]): Buffer {
  const parts = rs.flatMap(([k, v]) => [Buffer.from(`+${k.length},${v.length}:`), Buffer.from(k), Buffer.from('->'), Buffer.from(v), Buffer.from('\n')]);
  return Buffer.concat([...parts, Buffer.from('\n')]);
}

function cdb(args: string[], input?: Buffer): { code: number | null; out: Buffer } {
  const r = spawnSync('cdb', args, { input, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout };
}

let n = 0;
function theirs(rs: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  const path = join(tmp, `theirs${n++}.cdb`);
  const r = cdb(['-c', path, '-'], cdbmakeInput(rs));
  if (r.code !== 0) throw new Error(`cdb -c exited ${r.code}`);
  return new Uint8Array(readFileSync(path));
}

function ours(rs: readonly (readonly [Uint8Array, Uint8Array])[]): string {
  const path = join(tmp, `ours${n++}.cdb`);
  writeFileSync(path, cdbMake(rs));
  return path;
}

const records = fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }).map((b) => b.map((c) => (c % 3) + 0x61)), fc.uint8Array({ maxLength: 20 })), { maxLength: 40 });

describe.skipIf(!haveCdb)('cdb files against tinycdb', () => {
  it('tinycdb dumps our files record for record, and finds each key', () => {
    const rs: [Uint8Array, Uint8Array][] = [
      [enc('one'), enc('1')],
      [enc(''), enc('empty key')],
      [enc('two'), new Uint8Array([0, 1, 2, 255])],
      [enc('one'), enc('again')],
    ];
    const path = ours(rs);
    expect(cdb(['-d', path]).out.equals(cdbmakeInput(rs))).toBe(true);
    expect(cdb(['-q', '-n', '1', path, 'one']).out.toString()).toBe('1');
    expect(cdb(['-q', '-n', '2', path, 'one']).out.toString()).toBe('again');
    expect(cdb(['-q', path, 'nope']).code).toBe(100);
  });

  it('same records, same order: byte-identical files, and each side reads the other', async () => {
    await checkProperty(
      file,
      fc.property(records, (rs) => {
        const them = theirs(rs);
        expect(hex(cdbMake(rs))).toBe(hex(them));
        expect(cdbRecords(them).map(([k, v]) => [hex(k), hex(v)])).toEqual(rs.map(([k, v]) => [hex(k), hex(v)]));
        for (const [k] of rs) expect(cdbFindAll(them, k).map(hex)).toEqual(rs.filter(([k2]) => hex(k2) === hex(k)).map(([, v]) => hex(v)));
        expect(cdb(['-d', ours(rs)]).out.equals(cdbmakeInput(rs))).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('a large file (5000 records, ~20 per table) is byte-identical', () => {
    const rs: [Uint8Array, Uint8Array][] = Array.from({ length: 5000 }, (_, i) => [enc(`user${i}`), enc(`home/${i}`)]);
    expect(hex(cdbMake(rs))).toBe(hex(theirs(rs)));
  });

  it('users/cdb for the VERIFIED assign example reads back through tinycdb', () => {
    const parsed = parseAssign(enc('+joe-:joe:507:100:/home/joe:-::\n=Bob:bob:508:100:/home/bob:::\n.\n'));
    if (!('records' in parsed)) throw new Error('format');
    const path = ours(parsed.records);
    expect(cdb(['-q', path, '!joe-']).out.toString('latin1')).toBe('joe\x00507\x00100\x00/home/joe\x00-\x00');
    expect(cdb(['-q', path, '']).out.toString()).toBe('-');
    const dump = cdb(['-d', path]).out.toString('latin1');
    expect(dump).toBe('+5,24:!joe-->joe\x00507\x00100\x00/home/joe\x00-\x00\n+5,23:!bob\x00->bob\x00508\x00100\x00/home/bob\x00\x00\n+0,1:->-\n\n');
  });
});
