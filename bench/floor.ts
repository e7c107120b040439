// The machine's floor for the drain (bench/floor.c): the same file-system work per message as our
// pipeline, in C, with nothing else. Compiled with cc into a temporary directory and run in one
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
    for (const dirsync of [1, 0]) {
      const [queue, homes] = [join(dir, `queue${dirsync}`), join(dir, `homes${dirsync}`)];
      const out = execFileSync(bin, [queue, homes, String(n), '16', String(dirsync)], { encoding: 'utf8', env: {} });
      for (const d of [queue, homes]) rmSync(d, { recursive: true, force: true });
      const [, , , rate, cpuMs] = out.trim().split(' ');
      rows.push([
        `drain floor: the same file work in C, 16 threads, ${n} msgs${dirsync === 1 ? '' : ', no directory fsyncs'}`,
        `${rate} msg/s; ${cpuMs} ms CPU/msg (kernel work, the share no implementation avoids)`,
      ]);
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(table(floorBench({ quick: process.argv.includes('--quick') })));
