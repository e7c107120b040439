// qmail's control files (nq:control.c), read from <home>/control/<name>:
//   readline  the first line without its trailing \n, spaces and tabs; null when missing;
//   rldef     readline, else control/me when flagme, else the default;
//   readint   the leading decimal of readline; missing or no digits keep the default;
//   readfile  every line without trailing white space, blank lines and '#' lines dropped; a missing
//             file is [me] when flagme and me exists, else null.
// Any error but "no such file" is thrown (SysError): the caller decides (cannot start, or keep the
// old value). Strings are one character per byte.

import type { Sys } from '../sys/types.ts';
import { latin1 } from '../lib/latin1.ts';
import { readFileOrNull } from './fdio.ts';

function stripTrailing(s: string): string {
  return s.replace(/[\n \t]+$/, '');
}

export class Controls {
  private meLine: string | null | undefined = undefined;

  constructor(
    private readonly sys: Sys,
    readonly home: string,
  ) {}

  private path(name: string): string {
    return `${this.home}/control/${name}`;
  }

  async readline(name: string): Promise<string | null> {
    const bytes = await readFileOrNull(this.sys, this.path(name));
    if (bytes === null) return null;
    const nl = bytes.indexOf(0x0a);
    return stripTrailing(latin1(nl < 0 ? bytes : bytes.subarray(0, nl + 1)));
  }

  /** control/me, read once. */
  async me(): Promise<string | null> {
    if (this.meLine === undefined) this.meLine = await this.readline('me');
    return this.meLine;
  }

  async rldef(name: string, flagme: boolean, def: string): Promise<string> {
    const line = await this.readline(name);
    if (line !== null) return line;
    const me = flagme ? await this.me() : null;
    return me ?? def;
  }

  async readint(name: string, def: number): Promise<number> {
    const line = await this.readline(name);
    const m = line === null ? null : /^[0-9]+/.exec(line);
    if (m === null) return def;
    const v = Number(m[0]);
    return Number.isSafeInteger(v) ? v : def;
  }

  async readfile(name: string, flagme: boolean): Promise<string[] | null> {
    const bytes = await readFileOrNull(this.sys, this.path(name));
    if (bytes === null) {
      const me = flagme ? await this.me() : null;
      return me === null ? null : [me];
    }
    const lines = latin1(bytes).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map(stripTrailing).filter((l) => l !== '' && !l.startsWith('#'));
  }
}
