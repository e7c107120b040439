// The machine's floor for the drain (bench/floor.c): the same file-system work per message as our
// pipeline, in C, with nothing else; and the same with fewer durability steps or fewer new inodes,
// to show what a different queue file lifecycle could gain here. Compiled with cc into a temporary directory and run in one
// whose TOPDIR attribute spreads the queue and the homes over block groups, as bench/host.ts does
// for the MTA. Needs cc; skipped without it.
//
// Alone: `npx tsx bench/floor.ts [--quick]`. Nothing here asserts a time.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from './host.ts';

export function floorBench(opts: { quick: boolean }): [string, string][] {
  if (spawnSync('cc', ['--version']).status !== 0) return [['drain floor (C)', 'skipped: no cc']];
  const dir = mkdtempSync(join(tmpdir(), 'qbench-floor-'));
  try {
    chmodSync(dir, 0o755);
    spawnSync('chattr', ['+T', dir], { stdio: 'ignore' });
    const bin = join(dir, 'floor');
    execFileSync('cc', ['-O2', '-pthread', '-o', bin, join(import.meta.dirname, 'floor.c')]);
    const n = opts.quick ? 2000 : 10_000;
    const rows: [string, string][] = [];
    const modes = [
      { dirsync: 1, pool: 0, what: '' },
      { dirsync: 0, pool: 0, what: ', no directory fsyncs' },
      { dirsync: 1, pool: 1, what: ', info and local from a pool of recycled files' },
      { dirsync: 0, pool: 1, what: ', recycled files and no directory fsyncs' },
    ];
    for (const m of modes) {
      const [queue, homes] = [join(dir, `queue${m.dirsync}${m.pool}`), join(dir, `homes${m.dirsync}${m.pool}`)];
      const out = execFileSync(bin, [queue, homes, String(n), '16', String(m.dirsync), String(m.pool)], { encoding: 'utf8', env: {} });
      for (const d of [queue, homes]) rmSync(d, { recursive: true, force: true });
      const [, , , rate, cpuMs] = out.trim().split(' ');
      rows.push([`drain floor: the same file work in C, 16 threads, ${n} msgs${m.what}`, `${rate} msg/s; ${cpuMs} ms CPU/msg (kernel work)`]);
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(table(floorBench({ quick: process.argv.includes('--quick') })));
