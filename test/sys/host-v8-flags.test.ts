// HostSysOptions.v8Flags (impl/sys/host/v8-flags.ts): flags set at run time govern the code that
// runs hot afterwards. A child node (natives syntax on, to ask V8 about one function) runs a small
// function hot after applyV8Flags: optimized with V8's budget, still unoptimized with a budget
// too large to reach. The delivery worker's own list applies without complaint.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyV8Flags } from '../../impl/sys/host/v8-flags.ts';
import { workerV8Flags } from '../../impl/local-worker/main.ts';

const root = join(import.meta.dirname, '../..');

/** V8's optimization status bit for "optimized code" (runtime-test.cc OptimizationStatus). */
const optimizedBit = 16;

/** Runs a function hot in a child after applyV8Flags(flags); returns its optimization status. */
function statusAfterHotLoop(flags: readonly string[]): number {
  const code = `
    const { applyV8Flags } = await import(${JSON.stringify(join(root, 'impl/sys/host/v8-flags.ts'))});
    applyV8Flags(${JSON.stringify(flags)});
    function hot(x) { let s = 0; for (let i = 0; i < 20; i++) s += (x + i) & 7; return s; }
    const status = new Function('f', 'return %GetOptimizationStatus(f)');
    let t = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 20000; i++) t += hot(i);
      await new Promise((r) => setTimeout(r, 5));
    }
    process.stdout.write(String(status(hot)) + (t > 0 ? '' : '?'));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--allow-natives-syntax', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return Number(r.stdout);
}

describe('applyV8Flags', () => {
  it('V8 optimizes a hot function with its own budget, not with one out of reach', () => {
    expect(statusAfterHotLoop([]) & optimizedBit).toBe(optimizedBit);
    expect(statusAfterHotLoop(['--interrupt-budget=2000000000']) & optimizedBit).toBe(0);
  }, 120_000);

  it('takes the delivery worker\'s flags (in a child: never this process), refuses what is not one plain flag', () => {
    expect(statusAfterHotLoop(workerV8Flags) & 1).toBe(1); // kIsFunction: the child ran
    for (const bad of ['interrupt-budget=1', '--a --b', '--x=1 --y', '', '--expose gc']) {
      expect(() => applyV8Flags([bad])).toThrow(/not a single --flag/);
    }
  }, 60_000);
});
