import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { qqOutcome } from '../../impl/lib/qq-message.ts';
import { qqMessages } from '../../spec/exit-codes.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const enc = new TextEncoder();

/** The seed table, parsed from the seed document itself, so a typo in spec/ cannot hide. */
function seedTable(): Map<number, string> {
  const seedPath = join(import.meta.dirname, '../../../shared/seeds/003_1345f6a0c0b6e5a5.txt');
  const text = readFileSync(seedPath, 'utf8');
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9,]+)\t([DZ].*?)(\s*\/\*.*)?$/.exec(line);
    if (m === null) continue;
    for (const code of (m[1] as string).split(',')) out.set(Number(code), (m[2] as string).trimEnd());
  }
  return out;
}

describe('qmail-queue exit code → client message', () => {
  it('spec/exit-codes.ts is the seed table byte for byte', () => {
    const seed = seedTable();
    expect(seed.size).toBeGreaterThan(40);
    for (const [code, msg] of seed) expect([code, qqMessages[code]]).toEqual([code, msg]);
    for (const code of Object.keys(qqMessages)) expect(seed.has(Number(code))).toBe(true);
  });

  it('maps every code as the seed says', () => {
    for (const [code, msg] of seedTable()) {
      if (code === 82) continue; // custom error when a message is present
      expect(qqOutcome({ code }, null).message).toBe(msg);
    }
  });

  test.prop([fc.integer({ min: 1, max: 255 })])('unknown codes: 11..40 permanent, others temporary', (code) => {
    fc.pre(qqMessages[code] === undefined && code !== 88);
    const o = qqOutcome({ code }, null);
    if (code >= 11 && code <= 40) expect(o).toEqual({ kind: 'D', message: 'Dqq permanent problem (#5.3.0)' });
    else expect(o).toEqual({ kind: 'Z', message: 'Zqq temporary problem (#4.3.0)' });
  });

  it('custom errors: exit 88 with the frontend message, or the temporary default', () => {
    expect(qqOutcome({ code: 88 }, enc.encode('Zunable to read private key. #(4.3.0)\n'))).toEqual({
      kind: 'Z',
      message: 'Zunable to read private key. #(4.3.0)',
    });
    expect(qqOutcome({ code: 88 }, enc.encode('Dno such policy (#5.7.1)'))).toMatchObject({ kind: 'D' });
    expect(qqOutcome({ code: 88 }, null)).toEqual({ kind: 'Z', message: 'Zqq temporary problem (#4.3.0)' });
    expect(qqOutcome({ code: 82 }, enc.encode('Dbad'))).toMatchObject({ kind: 'D', message: 'Dbad' });
    expect(qqOutcome({ code: 82 }, null).message).toBe('Zqq unable to exec qq (#4.3.0)');
  });

  it('a crash and success', () => {
    expect(qqOutcome({ signal: 'SIGKILL' }, null).message).toBe('Zqq crashed (#4.3.0)');
    expect(qqOutcome({ code: 0 }, null)).toEqual({ kind: 'ok', message: '' });
  });
});
