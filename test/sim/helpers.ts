// Kernel fixtures for the sim tests: a kernel on the real SimFs and one-line program installs.

import type { Fd, Program, Sys } from '../../impl/sys/types.ts';
import { SysError } from '../../impl/sys/errors.ts';
import type { KernelOptions } from '../../sim/kernel.ts';
import { Kernel } from '../../sim/kernel.ts';
import type { FileOwner } from '../../sim/world.ts';

export function newKernel(seed: number, opts: Partial<KernelOptions> = {}): Kernel {
  const k = new Kernel({ seed, ...opts });
  k.mkdirs('/tmp', { uid: 0, gid: 0, mode: 0o1777 });
  return k;
}

/** Registers main as `name` and installs it at /bin/<name>. */
export function addProgram(k: Kernel, name: string, main: Program, owner: Partial<FileOwner> = {}): string {
  const path = `/bin/${name}`;
  k.programs.register(name, main);
  k.install(path, name, { uid: 0, gid: 0, mode: 0o755, ...owner });
  return path;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export const dayMs = 86_400_000;

/** The errno a Sys call fails with, or 'ok'. */
export async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SysError) return e.code;
    throw e;
  }
  return 'ok';
}

/** Reads one SMTP reply (through the final `NNN ` line) a byte at a time; what came before EOF. */
export async function smtpReply(sys: Sys, fd: Fd): Promise<string> {
  let got = '';
  const buf = new Uint8Array(1);
  while (!/(^|\n)[0-9]{3} [^\n]*\r\n$/.test(got)) {
    if ((await sys.fs.read(fd, buf, 0, 1, null)) === 0) break;
    got += String.fromCharCode(buf[0]!);
  }
  return got;
}
