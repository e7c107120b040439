// HostProc.setCreds: a root process becomes another user for good (groups, gid, uid: real,
// effective and saved), self follows, the kernel checks the new ids, and there is no way back.
// Each case runs in a child process (tsx), since the change cannot be undone.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const isRoot = process.getuid?.() === 0;
const fixture = join(import.meta.dirname, 'fixtures/set-creds.ts');
let dir: string;
let rootOnly: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'set-creds-'));
  rootOnly = join(dir, 'root-only');
  writeFileSync(rootOnly, 'secret', { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(uid: number, gid: number, asUid?: number): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, String(uid), String(gid), rootOnly], {
    encoding: 'utf8', cwd: join(import.meta.dirname, '../..'), ...(asUid === undefined ? {} : { uid: asUid, gid: asUid }),
  });
  if (r.status !== 0) throw new Error(`fixture: ${r.status} ${r.stderr}`);
  return r.stdout;
}

if (!isRoot) console.warn('host-set-creds: not root, so setCreds cannot be tried: skipped');

describe('HostProc.setCreds', () => {
  it.skipIf(!isRoot)('root becomes uid/gid with groups [gid]; no way back; the kernel agrees', () => {
    const out = run(65534, 65533);
    expect(out).toContain('Uid: 65534 65534 65534 65534|Gid: 65533 65533 65533 65533|Groups: 65533');
    expect(out).toContain('self 65534 65534 65533 65533 65533\n');
    expect(out).toContain('again EPERM\n');
    expect(out).toContain('open EACCES\n');
  });

  it.skipIf(!isRoot)('anyone else gets EPERM', () => {
    expect(run(1, 1, 65534)).toBe('first: EPERM\n');
  });
});
