// The shape the qmail-send tests boot with (send-world.ts, send-crash.ts), now on top of the real
// qmail-start (sim/boot.ts): one way to wire the daemons. The spawners given by path are installed
// as bin/qmail-lspawn and bin/qmail-rspawn first, since qmail-start starts its daemons by name only.
//
//   qmail-send  qmails   0 log, 1/2 lspawn, 3/4 rspawn, 5/6 its qmail-clean, 7/8 todo-proc
//   todo-proc   qmails   0/1 qmail-send, 2/3 its own qmail-clean
//   qmail-clean qmailq   0 commands, 1 replies (two of them)
//   lspawn      root     0 commands, 1 reports          (a fake spawner in tests)
//   rspawn      qmailr   0 commands, 1 reports

import type { Kernel } from './kernel.ts';
import type { Installation } from './install.ts';
import type { SpawnHandle } from './world.ts';
import { bootQmail, installAs, type DaemonPids } from './boot.ts';
import { parseShebang } from './programs.ts';

export type SendPids = DaemonPids;

export interface SendBoot {
  handle: SpawnHandle;
  /** The daemons' pids, once qmail-start has started them all (null before). */
  pids(): SendPids | null;
  /** qmail-send's activity log so far (one character per byte). */
  log(): string;
}

/** Nothing to install any more: qmail-start is part of every installation. Kept for callers. */
export function installBootSend(_k: Kernel, _inst: Installation): void {}

/** Starts the daemons through qmail-start with the given spawner programs (installed paths);
 *  todoFlags are qmail-start's options (-s, -c, -d), which it passes on as indimail does. */
export function bootSend(k: Kernel, inst: Installation, spawners: { lspawn: string; rspawn: string }, env: Record<string, string> = {}, todoFlags: string[] = []): SendBoot {
  for (const [name, path] of [['qmail-lspawn', spawners.lspawn], ['qmail-rspawn', spawners.rspawn]] as const) {
    if (path !== `${inst.home}/bin/${name}`) installAs(k, inst, name, programAt(k, path));
  }
  const b = bootQmail(k, inst, { defaultDelivery: './Mailbox', flags: todoFlags, env: { QMAILHOME: inst.home, ...env } });
  return { handle: b.handle, pids: () => b.pids(), log: () => b.log() };
}

/** The registered program an installed `#!sim` file runs. */
function programAt(k: Kernel, path: string): string {
  const name = parseShebang(k.fs.peekFile(path) ?? new Uint8Array(0));
  if (name === null) throw new Error(`bootSend: ${path} is not an installed program`);
  return name;
}
