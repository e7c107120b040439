// runMain: exit codes from main, ProgramExit, proc.exit, and bugs (uncaught, also from callbacks).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./run-fixture.ts', import.meta.url));
const filter = fileURLToPath(new URL('./stdio-fixture.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));

function run(how: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, how], {
    cwd: repo,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const events = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, plain: lines.filter((l) => !l.startsWith('{')), events };
}

describe('runMain', { timeout: 20_000 }, () => {
  it("exits with main's code and logs to fd 2 as JSON", () => {
    const r = run('return');
    expect(r.code).toBe(7);
    expect(r.events.map((e) => e['event'])).toEqual(['fixture.start']);
    expect(r.events[0]).toMatchObject({ name: 'run-fixture.ts', how: 'return' });
  });

  it('a ProgramExit ends with its code, silently', () => {
    const r = run('program-exit');
    expect([r.code, r.plain]).toEqual([5, []]);
  });

  it('proc.exit from a timer ends with its code', () => {
    expect(run('exit-from-timer').code).toBe(9);
  });

  it('a bug prints one line, logs internal_error and exits with the bug code', () => {
    const r = run('throw');
    expect(r.code).toBe(111);
    expect(r.plain).toEqual(['run-fixture.ts: internal error: boom']);
    expect(r.events.map((e) => e['event'])).toEqual(['fixture.start', 'internal_error']);
    expect(run('throw', { BUGCODE: '81' }).code).toBe(81);
  });

  it('a throw from a callback is the same bug', () => {
    const r = run('throw-from-timer');
    expect(r.code).toBe(111);
    expect(r.plain).toEqual(['run-fixture.ts: internal error: late boom']);
  });

  it('LOGLEVEL=warn hides info events', () => {
    expect(run('return', { LOGLEVEL: 'warn' }).events).toEqual([]);
  });
});

describe('inherited stdio', { timeout: 20_000 }, () => {
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256));

  /** Runs a shell line with IN, OUT and CMD (the filter) filled in; returns OUT's bytes. */
  function viaShell(line: string): Buffer {
    const dir = mkdtempSync(join(tmpdir(), 'run-stdio-'));
    try {
      writeFileSync(join(dir, 'in'), bytes);
      const script = line
        .replaceAll('IN', join(dir, 'in'))
        .replaceAll('OUT', join(dir, 'out'))
        .replaceAll('CMD', `node --import tsx ${filter}`);
      const r = spawnSync('/bin/sh', ['-c', script], { cwd: repo, env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(dir, 'out'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('fd 0 and fd 1 as pipe(2) pipes from a C parent', () => {
    expect(viaShell('cat IN | CMD | cat > OUT').equals(bytes)).toBe(true);
  });

  it('fd 0 and fd 1 as regular files', () => {
    expect(viaShell('CMD < IN > OUT').equals(bytes)).toBe(true);
  });
});
