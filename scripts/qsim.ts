// Entry point of the simulator's command line: hands the real world to sim/cli.ts.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { runCli } from '../sim/cli.ts';
import { hostIo } from './qsim-io.ts';

function commit(): string {
  try {
    const id = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty === '' ? id : `${id}+dirty`;
  } catch {
    return 'unknown';
  }
}

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  wallMs: () => performance.now(),
  freshSeed: () => randomInt(1, 2 ** 31),
  commit: commit(),
  io: hostIo(),
});
