// spawn for HostProc: child_process.spawn with qmail's fd wiring and credentials.
//
// Credentials: libuv's spawn does setgroups(0) and then setgid/setuid, so a child started with
// uid/gid has no supplementary groups. When opts.groups asks for more than [gid], the child is
// started through setpriv(1) (util-linux), which sets the exact group list before exec. setpriv
// cannot set argv[0]; when argv[0] differs from the path, bash's `exec -a` carries it across.

import type { ChildProcess, StdioOptions, spawn as NodeSpawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Socket } from 'node:net';
import { SysError } from '../errors.ts';
import type { Child, ExitStatus, Fd, SpawnOpts } from '../types.ts';
import { sysErrorFrom } from './errors.ts';
import type { FdTable } from './fd-table.ts';
import { signalOf } from './signals.ts';
import { fdOfSocket, socketPair } from './socket-pair.ts';

const setprivPath = '/usr/bin/setpriv';
const bashPath = '/bin/bash';

interface Command {
  file: string;
  args: string[];
  argv0: string;
  uid?: number;
  gid?: number;
}

export async function spawnChild(fds: FdTable, path: string, argv: string[], opts: SpawnOpts): Promise<Child> {
  const argv0 = argv[0] ?? path;
  checkSameAs(opts.fds);
  const cmd = needsSetpriv(opts) ? viaSetpriv(path, argv, opts) : direct(path, argv, opts);
  // Loaded before anything is set up or lent: nothing may come between lending and the spawn.
  const spawn = await nodeSpawn();
  const pairs = await pairsFor(opts.fds);
  let adopted = false;
  try {
    await lendStreams(fds, opts.fds);
    const { child, status } = await started(spawn, cmd, opts, stdioOf(opts.fds, pairs));
    const parentEnds = adoptPipes(fds, child, opts.fds, pairs);
    adopted = true;
    if (child.pid === undefined) throw new SysError('ECHILD', 'spawn', argv0);
    return { pid: child.pid, fds: parentEnds, wait: () => status };
  } finally {
    // The child has its copies of the shared pipes now; ours of its ends go.
    for (const [ours, theirs] of pairs.values()) {
      theirs.destroy();
      if (!adopted) ours.destroy();
    }
  }
}

/** { sameAs: j } must name a parent fd or a pipe (as in the sim: EINVAL otherwise). */
function checkSameAs(specs: SpawnOpts['fds']): void {
  for (const s of specs) {
    if (s === null || typeof s !== 'object') continue;
    const target = specs[s.sameAs];
    if (!(Number.isInteger(s.sameAs) && (typeof target === 'number' || target === 'pipe'))) throw new SysError('EINVAL', 'spawn');
  }
}

/** A socket pair of our own for each 'pipe' that another entry shares (Node's 'pipe' cannot be). */
async function pairsFor(specs: SpawnOpts['fds']): Promise<Map<number, [Socket, Socket]>> {
  const pairs = new Map<number, [Socket, Socket]>();
  for (const s of specs) {
    if (s === null || typeof s !== 'object' || specs[s.sameAs] !== 'pipe' || pairs.has(s.sameAs)) continue;
    try {
      pairs.set(s.sameAs, await socketPair());
    } catch (e) {
      for (const [a, b] of pairs.values()) (a.destroy(), b.destroy());
      throw sysErrorFrom(e, 'socketpair');
    }
  }
  return pairs;
}

function needsSetpriv(opts: SpawnOpts): boolean {
  const groups = opts.groups;
  if (groups === undefined) return false;
  if (opts.gid === undefined) throw new SysError('EINVAL', 'spawn'); // groups without a gid: a bug
  return groups.some((g) => g !== opts.gid);
}

function direct(path: string, argv: string[], opts: SpawnOpts): Command {
  return { file: path, args: argv.slice(1), argv0: argv[0] ?? path, uid: opts.uid, gid: opts.gid };
}

function viaSetpriv(path: string, argv: string[], opts: SpawnOpts): Command {
  // What libuv's setgid would say; setpriv would only exit 1 after the fork.
  if (process.geteuid?.() !== 0) throw new SysError('EPERM', 'setgroups');
  // The target must exist: setpriv would report a missing one only as exit 127. (A bare name is
  // looked up in PATH by both, so only paths are checked.)
  if (path.includes('/')) {
    try {
      accessSync(resolvePath(opts.cwd ?? '.', path), constants.F_OK);
    } catch (e) {
      throw sysErrorFrom(e, 'spawn', path);
    }
  }
  const uid = opts.uid ?? 0;
  const creds = ['--reuid', String(uid), '--regid', String(opts.gid), '--groups', (opts.groups ?? []).join(',')];
  const argv0 = argv[0] ?? path;
  const target = argv0 === path ? [path, ...argv.slice(1)] : [bashPath, '-c', 'exec -a "$0" "$@"', argv0, path, ...argv.slice(1)];
  return { file: setprivPath, args: [...creds, '--', ...target], argv0: setprivPath };
}

/** An fd duplicated into a child must not be read by us meanwhile (see StreamFd.lend). */
async function lendStreams(fds: FdTable, specs: SpawnOpts['fds']): Promise<void> {
  for (const [childFd, spec] of specs.entries()) {
    if (typeof spec !== 'number') continue;
    (await fds.streamOf(spec))?.lend(childFd);
  }
}

function stdioOf(specs: SpawnOpts['fds'], pairs: Map<number, [Socket, Socket]>): StdioOptions {
  const theirs = (j: number): number => fdOfSocket((pairs.get(j) as [Socket, Socket])[1]);
  const stdio = specs.map((s, i): 'pipe' | 'ignore' | number => {
    if (s === null) return 'ignore';
    if (s === 'pipe') return pairs.has(i) ? theirs(i) : 'pipe';
    if (typeof s === 'number') return s;
    const target = specs[s.sameAs];
    return typeof target === 'number' ? target : theirs(s.sameAs);
  });
  // Node fills missing 0-2 with 'pipe'; a missing fd is closed (/dev/null for 0-2, Node's choice).
  while (stdio.length < 3) stdio.push('ignore');
  return stdio;
}

/** node:child_process, loaded on the first spawn: a program that never spawns (most deliveries'
 *  qmail-queue, a worker delivering to Maildirs) does not pay for loading it at start-up. */
async function nodeSpawn(): Promise<typeof NodeSpawn> {
  return (await import('node:child_process')).spawn;
}

interface Started {
  child: ChildProcess;
  status: Promise<ExitStatus>;
}

/** Resolves once the child runs; rejects with the errno when exec failed (ENOENT, EACCES...). */
function started(nodeSpawn: typeof NodeSpawn, cmd: Command, opts: SpawnOpts, stdio: StdioOptions): Promise<Started> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = nodeSpawn(cmd.file, cmd.args, {
        argv0: cmd.argv0,
        env: opts.env,
        cwd: opts.cwd,
        uid: cmd.uid,
        gid: cmd.gid,
        stdio,
      });
    } catch (e) {
      reject(sysErrorFrom(e, 'spawn', cmd.file));
      return;
    }
    const status = new Promise<ExitStatus>((done) => {
      child.on('exit', (code, signal) => done({ code, signal: signal === null ? null : signalOf(signal) }));
    });
    child.once('spawn', () => resolve({ child, status }));
    child.once('error', (e) => reject(sysErrorFrom(e, 'spawn', cmd.file)));
  });
}

/** Our ends of 'pipe' fds become StreamFds. */
function adoptPipes(fds: FdTable, child: ChildProcess, specs: SpawnOpts['fds'], pairs: Map<number, [Socket, Socket]>): Record<number, Fd> {
  const ends: Record<number, Fd> = {};
  for (const [childFd, spec] of specs.entries()) {
    if (spec !== 'pipe') continue;
    const pair = pairs.get(childFd);
    if (pair !== undefined) {
      ends[childFd] = fds.adopt(pair[0]).fd;
      continue;
    }
    const socket = child.stdio[childFd] as Socket | null | undefined;
    if (socket == null) throw new Error(`spawn: no pipe for child fd ${childFd}`);
    ends[childFd] = fds.adopt(socket).fd;
  }
  // Node destroys stdin when the child exits, and resumes (drains into nowhere) every readable
  // stdio stream nobody listens to; the fds are ours now, until the program closes them.
  const mutable = child as unknown as { stdin: unknown; stdout: unknown; stderr: unknown; stdio: unknown[] };
  mutable.stdin = mutable.stdout = mutable.stderr = null;
  mutable.stdio = [];
  return ends;
}
