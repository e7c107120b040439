// Program registry: the sim's equivalent of the binaries on disk. A file installed with the line
// `#!sim <name>` runs the Program registered under <name>.

import type { Program } from '../impl/sys/types.ts';
import { latin1 } from '../impl/lib/latin1.ts';
import { assert } from './assert.ts';

/** First line of an installed program file. */
export const simShebang = '#!sim ';

export class Programs {
  private readonly table = new Map<string, Program>();

  register(name: string, main: Program): void {
    assert(/^[A-Za-z0-9._+-]+$/.test(name), `program name ${name}`);
    assert(!this.table.has(name), `program ${name} registered once`);
    this.table.set(name, main);
  }

  get(name: string): Program | undefined {
    return this.table.get(name);
  }

  names(): string[] {
    return [...this.table.keys()].sort();
  }
}

/** The program name in a file's first bytes, or null when it is not a `#!sim` file. */
export function parseShebang(head: Uint8Array): string | null {
  const nl = head.indexOf(0x0a);
  const line = latin1(head.subarray(0, nl < 0 ? head.length : nl));
  if (!line.startsWith(simShebang)) return null;
  const name = line.slice(simShebang.length).trim();
  return name === '' ? null : name;
}
