// Booting the MTA in the simulator through the same code as on a host: the installed qmail-start,
// run as root from outside the world the way /var/qmail/rc runs it (`env - PATH=... qmail-start
// ./Maildir/ [logger ...]`), its fd 1 (the activity log, or the logger's output) and fd 2 captured.
// After a power loss the world boots again by calling bootQmail again.
//
// From outside the world the boot can also be looked at: which processes qmail-start started
// (pids()), and who is on the other end of each of their pipes (peerOf), straight from the
// kernel's fd tables, so that tests check the wiring itself rather than what a daemon says of it.

import type { ExitStatus, Fd, Program, Signal } from '../impl/sys/types.ts';
import { SysError } from '../impl/sys/errors.ts';
import type { ChanDesc } from './files.ts';
import type { Installation } from './install.ts';
import type { Kernel } from './kernel.ts';
import type { SimProcess } from './proc.ts';
import type { SpawnHandle, WorldExit } from './world.ts';
import { latin1 } from '../impl/lib/latin1.ts';

export interface BootOpts {
  /** qmail-lspawn's defaultdelivery (default ./Maildir/). */
  defaultDelivery?: string;
  /** true: the sim's logger (simLoggerProgram, a cat from fd 0 to fd 1); or a logger's argv, its
   *  program found through PATH. Default: no logger (qmail-send logs to qmail-start's fd 1). */
  logger?: true | string[];
  /** qmail-start's options (-s, -c, -d). */
  flags?: string[];
  /** Added to the environment (default: PATH=<home>/bin:/usr/bin:/bin and nothing else). */
  env?: Record<string, string>;
}

export interface DaemonPids {
  send: number;
  todo: number;
  /** qmail-send's qmail-clean, then todo-proc's. */
  clean: [number, number];
  lspawn: number;
  rspawn: number;
  logger: number | null;
}

export interface QmailBoot {
  /** qmail-start's pid. */
  readonly pid: number;
  readonly handle: SpawnHandle;
  /** The activity log so far, one character per byte. */
  log(): string;
  /** Its complete lines so far. */
  logLines(): string[];
  /** qmail-start's fd 2 (and the helpers'): errors and warnings. */
  stderr(): string;
  /** Signals qmail-start from outside (no permission check); nothing once it has ended. */
  kill(signal: Signal): void;
  /** Resolves when qmail-start has ended (the world must run). */
  wait(): Promise<WorldExit>;
  status(): ExitStatus | null;
  /** The daemons, once qmail-start has started them all (null before); kept after they end. */
  pids(): DaemonPids | null;
}

export const simLoggerProgram = 'sim-logger';
const simLoggerPath = `/usr/bin/${simLoggerProgram}`;

/** Starts <home>/bin/qmail-start as root. */
export function bootQmail(k: Kernel, inst: Installation, opts: BootOpts = {}): QmailBoot {
  const logger = opts.logger === true ? [installSimLogger(k)] : (opts.logger ?? []);
  const argv = ['qmail-start', ...(opts.flags ?? []), opts.defaultDelivery ?? './Maildir/', ...logger];
  const env = { PATH: `${inst.home}/bin:/usr/bin:/bin`, ...opts.env };
  const handle = k.spawn(`${inst.home}/bin/qmail-start`, argv, { env, fds: [new Uint8Array(0), 'capture', 'capture'] });
  let pids: DaemonPids | null = null;
  const log = (): string => latin1(handle.output(1));
  return {
    pid: handle.pid,
    handle,
    log,
    logLines: () => log().split('\n').slice(0, -1),
    stderr: () => latin1(handle.output(2)),
    kill: (signal) => {
      if (handle.status() !== null) return;
      try {
        k.kill(handle.pid, signal);
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
      }
    },
    wait: () => handle.wait(),
    status: () => handle.status(),
    pids: () => (pids ??= daemonPids(k, handle.pid, logger.length > 0)),
  };
}

/** The processes qmail-start started, found by name and by who holds the other end of qmail-send's
 *  pipes; null until all of them run. */
export function daemonPids(k: Kernel, startPid: number, withLogger: boolean): DaemonPids | null {
  const children = [...k.procs.values()].filter((p) => p.ppid === startPid);
  const send = children.find((p) => p.argv[0] === 'qmail-send');
  if (send === undefined) return null;
  const peer = (fd: Fd): number | null => peerOf(k, send.pid, fd)?.pid ?? null;
  const todo = peer(8);
  const todoClean = todo === null ? null : (peerOf(k, todo, 2)?.pid ?? null);
  const ids = { todo, cleanSend: peer(6), todoClean, lspawn: peer(2), rspawn: peer(4), logger: withLogger ? peer(0) : 0 };
  if (Object.values(ids).some((v) => v === null)) return null;
  const n = (v: number | null): number => v as number;
  return {
    send: send.pid, todo: n(ids.todo), clean: [n(ids.cleanSend), n(ids.todoClean)], lspawn: n(ids.lspawn), rspawn: n(ids.rspawn),
    logger: withLogger ? n(ids.logger) : null,
  };
}

/** The live process (other than pid) holding the other end of pid's pipe at fd, and its fd there. */
export function peerOf(k: Kernel, pid: number, fd: Fd): { pid: number; fd: Fd } | null {
  const d = k.procs.get(pid)?.fds.get(fd);
  if (d === undefined || d.type !== 'chan') return null;
  for (const p of k.procs.values()) {
    if (p.pid === pid) continue;
    for (const [pfd, pd] of p.fds) {
      if (pd.type === 'chan' && connected(d, pd)) return { pid: p.pid, fd: pfd };
    }
  }
  return null;
}

function connected(a: ChanDesc, b: ChanDesc): boolean {
  return (a.tx !== null && a.tx === b.rx) || (a.rx !== null && a.rx === b.tx);
}

/** The children of a process, by argv[0] (several for qmail-clean). */
export function childrenOf(k: Kernel, pid: number): SimProcess[] {
  return [...k.procs.values()].filter((p) => p.ppid === pid);
}

/** A logger for the simulator: copies fd 0 to fd 1 until EOF, as multilog would without its
 *  timestamps and files. Installed once per kernel as /usr/bin/sim-logger; returns its name. */
export function installSimLogger(k: Kernel): string {
  if (k.programs.get(simLoggerProgram) === undefined) {
    k.programs.register(simLoggerProgram, simLogger);
    k.install(simLoggerPath, simLoggerProgram, { uid: 0, gid: 0, mode: 0o755 });
  }
  return simLoggerProgram;
}

const simLogger: Program = async (sys) => {
  const buf = new Uint8Array(16_384);
  for (;;) {
    const n = await sys.fs.read(0, buf, 0, buf.length, null);
    if (n === 0) return 0;
    let off = 0;
    while (off < n) off += await sys.fs.write(1, buf, off, n - off, null);
  }
};

/** Replaces the program installed as <home>/bin/<name> (a fake spawner in tests): qmail-start
 *  starts its daemons by name only. */
export function installAs(k: Kernel, inst: Installation, name: string, program: string, main?: Program): void {
  if (main !== undefined && k.programs.get(program) === undefined) k.programs.register(program, main);
  k.install(`${inst.home}/bin/${name}`, program, { uid: 0, gid: 0, mode: 0o755 });
}
