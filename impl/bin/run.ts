// runMain: the host's program runner. Entry points are three lines:
//   import { runMain } from './run.ts'; import { main } from '../queue/main.ts'; await runMain(main);
// It builds the host Sys, runs main, and ends the process with main's code. A ProgramExit (from a
// program that unwinds the sim way) ends it with its code; anything else is a bug: one line
// `<argv0>: internal error: <message>` on fd 2, an `internal_error` log event, and `bugCode`.

import { stat, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { ProgramExit } from '../sys/errors.ts';
import { hostSys, type HostSys, type HostSysOptions } from '../sys/host/index.ts';
import type { Program } from '../sys/types.ts';

/** qmail's "temporary failure" code; programs with other conventions pass their own. */
const defaultBugCode = 111;

export async function runMain(main: Program, bugCode = defaultBugCode, opts: HostSysOptions = {}): Promise<never> {
  let sys: HostSys;
  try {
    if (opts.threadpool !== undefined) await sizeThreadpool(opts.threadpool);
    sys = await hostSys(opts);
  } catch (e) {
    say(`${programName()}: internal error: cannot start: ${messageOf(e)}`);
    process.exit(bugCode);
  }
  /** The code to end with for a throw: its own for a ProgramExit, else bugCode after saying why. */
  const codeFor = (e: unknown): number => {
    if (e instanceof ProgramExit) return e.code;
    // Where fd 2 is a protocol pipe, a stray line would corrupt it: the exit code says enough.
    if (opts.diagnostics !== 'protocol') say(`${sys.proc.self.argv[0] ?? programName()}: internal error: ${messageOf(e)}`);
    sys.log.event('error', 'internal_error', { message: messageOf(e), stack: e instanceof Error ? e.stack : undefined });
    return bugCode;
  };
  const crash = (e: unknown): never => sys.proc.exit(codeFor(e));
  // A throw from a callback (a timer, a signal handler) is a bug of the same program.
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  let code: number;
  try {
    code = await main(sys);
  } catch (e) {
    code = codeFor(e);
  }
  await settled(sys);
  return sys.proc.exit(code);
}

/** Waits (briefly) for log events not yet written: the logger loads on first use. */
async function settled(sys: HostSys): Promise<void> {
  await sys.log.settle().catch(() => undefined);
}

function programName(): string {
  const script = process.argv[1];
  return script === undefined ? 'node' : basename(script);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Writes a line to fd 2 even when fd 2 is a non-blocking pipe (EAGAIN: try again). */
function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let off = 0;
  for (let tries = 0; off < bytes.length && tries < 1000; tries++) {
    try {
      off += writeSync(2, bytes, off);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EAGAIN') return;
    }
  }
}

/** libuv reads UV_THREADPOOL_SIZE once, when the pool starts (the first threadpool request). It is
 *  set for that moment only, so that no child and no delivery program inherits it; one already in
 *  the environment (an administrator's choice) is left alone. */
async function sizeThreadpool(threads: number): Promise<void> {
  if (process.env['UV_THREADPOOL_SIZE'] !== undefined) return;
  process.env['UV_THREADPOOL_SIZE'] = String(threads);
  try {
    await new Promise<void>((resolve) => stat('/', () => resolve()));
  } finally {
    delete process.env['UV_THREADPOOL_SIZE'];
  }
}
