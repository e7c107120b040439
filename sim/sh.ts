// A tiny /bin/sh for the simulated world, enough for qmail-local's `|program` lines:
// `sh -c 'WORD...'` runs one simple command. Words are split at blanks, with '...' and "..." quoting
// (\ escapes " \ $ ` inside double quotes, anything outside); no expansion, redirection, pipes or
// lists (a word holding an unquoted ; & | < > ( ) $ ` is refused: exit 2). `exit [N]` is built in.
// The command is found by path, or in PATH (default /usr/bin:/bin). Like dash and bash, which exec
// the last simple command of -c, the command's end is ours: its exit code, or its signal.

import type { Program, Signal, Sys } from '../impl/sys/types.ts';
import { SysError } from '../impl/sys/errors.ts';
import { writeAll } from '../impl/shared/fdio.ts';

const enc = new TextEncoder();
const special = /[;&|<>()$`]/;

export type Words = { words: string[] } | { error: string };

/** Pure: the words of a simple command. */
export function shellWords(cmd: string): Words {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) return { error: 'unterminated quoted string' };
      word = (word ?? '') + cmd.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = '';
      for (i++; i < cmd.length && cmd[i] !== '"'; i++) {
        if (cmd[i] === '\\' && '"\\$`'.includes(cmd[i + 1] ?? '')) i++;
        else if (cmd[i] === '$' || cmd[i] === '`') return { error: `${cmd[i]} is not supported by the simulator's sh` };
        s += cmd[i];
      }
      if (i >= cmd.length) return { error: 'unterminated quoted string' };
      word = (word ?? '') + s;
    } else if (c === '\\') {
      word = (word ?? '') + (cmd[++i] ?? '');
    } else if (special.test(c)) {
      return { error: `${c} is not supported by the simulator's sh` };
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return { words };
}

export const simSh: Program = async (sys: Sys) => {
  const argv = sys.proc.self.argv;
  if (argv[1] !== '-c' || argv[2] === undefined) return say(sys, 2, 'sh: only sh -c COMMAND is simulated');
  const parsed = shellWords(argv[2]);
  if ('error' in parsed) return say(sys, 2, `sh: ${parsed.error}`);
  const [name, ...args] = parsed.words;
  if (name === undefined) return 0;
  if (name === 'exit') return Number(args[0] ?? '0') & 0xff;
  for (const path of candidates(name, sys.proc.self.env['PATH'])) {
    let child;
    try {
      child = await sys.proc.spawn(path, [name, ...args], { env: sys.proc.self.env, fds: [0, 1, 2] });
    } catch (e) {
      if (e instanceof SysError && e.code === 'ENOENT' && !name.includes('/')) continue;
      if (e instanceof SysError) return say(sys, e.code === 'ENOENT' ? 127 : 126, `sh: 1: ${name}: ${e.code}`);
      throw e;
    }
    const status = await child.wait();
    if (status.signal !== null) await dieOf(sys, status.signal);
    return status.code ?? 128;
  }
  return say(sys, 127, `sh: 1: ${name}: not found`);
};

function candidates(name: string, path: string | undefined): string[] {
  if (name.includes('/')) return [name];
  return (path ?? '/usr/bin:/bin').split(':').map((dir) => `${dir === '' ? '.' : dir}/${name}`);
}

/** Ends this shell the way its command ended (it would have been exec'd). */
async function dieOf(sys: Sys, signal: string): Promise<void> {
  const catchable: readonly string[] = ['SIGTERM', 'SIGKILL', 'SIGHUP', 'SIGALRM', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGABRT'];
  if (catchable.includes(signal)) await sys.proc.kill(sys.proc.self.pid, signal as Signal);
  await sys.proc.kill(sys.proc.self.pid, 'SIGKILL');
}

async function say(sys: Sys, code: number, line: string): Promise<number> {
  await writeAll(sys, 2, enc.encode(`${line}\n`)).catch(() => undefined);
  return code;
}
