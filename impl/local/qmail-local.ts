// qmailLocal: the whole of qmail-local as a function, for qmail-lspawn's long-lived delivery
// workers (one per user; many deliveries, some at once). Output and exit code are the standalone
// program's (main.ts), with fd 1 and fd 2 joined as qmail-lspawn joins them.
//
// Runs as the recipient user (the caller arranges the uid). Like qmail-lspawn's child after setuid
// (../shared/spec/local.md 1.5), it refuses to deliver as root: exit 113 (QLX_ROOT), no output,
// which qmail-lspawn reports as `ZNot allowed to perform deliveries as root.`.
//
// Process-wide effects: none but the umask, set to 077 as qmail-local sets it (delivery programs
// inherit it, and spawn cannot set it per child); it is the same for every delivery. No chdir
// (every path is absolute, from args.homedir), no exit, and the environment comes from `env`.

import type { Sys } from '../sys/types.ts';
import { localExit, localUmask } from '../../spec/local.ts';
import { runLocal } from './deliver.ts';
import { CapturedOutput } from './output.ts';
import type { LocalArgs, LocalResult, MessageSource } from './types.ts';

export async function qmailLocal(sys: Sys, args: LocalArgs, message: MessageSource, env: Record<string, string>): Promise<LocalResult> {
  const self = sys.proc.self;
  if (self.uid === 0 || self.euid === 0) return { code: localExit.refusedRoot, output: new Uint8Array(0) };
  sys.proc.umask(localUmask);
  const out = new CapturedOutput(sys);
  const code = await runLocal(sys, args, message, env, out);
  return { code, output: out.bytes() };
}
