// The host backend of the queue suite: the built programs installed by qmail-setup into a temporary
// home on this machine (host-install.ts), the real qmail users, and an ordinary user (qqsubmit)
// who runs the setuid bin/qmail-queue through setpriv, so the kernel's real uid is the one the
// queue records. The queue is read with root's HostFs; an ordinary user's Fs is an fs agent
// process with exactly those credentials (conformance/sys/agent-fs.ts).
// Needs root, cc, setpriv, useradd, flock, and a temporary directory not mounted nosuid.

import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { currentUmask, HostProc, hostSelf } from '../../impl/sys/host/proc.ts';
import { qmailGroups, qmailUsers, type QmailUser } from '../../spec/queue.ts';
import { startAgent, type AgentFs } from '../sys/agent-fs.ts';
import { buildIntoTemp, ensureSubmitter, gidOfGroup, isRoot, nosuid, qmailSetup, removeTemp, uidOf } from './host-install.ts';
import type { Ids, ProgramRun, QueueBackend, QueueWorld } from './queue-suite.ts';

const path = '/usr/bin:/bin:/usr/sbin:/sbin';

interface Captured {
  stdin?: Uint8Array;
  /** Bytes for the child to read on its fd 1. */
  fd1?: Uint8Array;
  env: Record<string, string>;
}

/** Runs a command with fds 0-2 as pipes (socketpairs: the parent may write into the child's fd 1). */
function runCaptured(command: string, args: string[], c: Captured): Promise<ProgramRun> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: c.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // The child may exit without reading all its input: that is its answer, not the test's error.
    child.stdin.on('error', () => undefined);
    child.stdout.on('error', () => undefined);
    child.on('error', fail);
    child.on('close', (code) => done({ code, pid: child.pid ?? -1, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1') }));
    child.stdin.end(c.stdin ?? new Uint8Array(0));
    if (c.fd1 !== undefined) (child.stdout as unknown as Socket).end(c.fd1);
  });
}

function qmailUids(): Record<QmailUser, number> {
  const out = {} as Record<QmailUser, number>;
  for (const name of Object.values(qmailUsers)) out[name] = uidOf(name);
  return out;
}

/** One installation per world: the programs built into a temporary directory of its own (about
 *  a second) and qmail-setup run from there into <tmp>/qmail. */
async function setup(opts: { split: number; bigtodo: boolean }): Promise<QueueWorld> {
  const tmp = buildIntoTemp('qmail-queue-');
  const home = join(tmp, 'qmail');
  qmailSetup(tmp, home, opts);
  const fds = new FdTable();
  const root = new HostFs(fds, currentUmask);
  const proc = new HostProc(fds, await hostSelf(), () => undefined);
  const agents: AgentFs[] = [];
  return {
    home,
    layout: { dir: `${home}/queue`, split: opts.split, bigtodo: opts.bigtodo },
    users: { uids: qmailUids(), qmailGid: gidOfGroup(qmailGroups.qmail), submitter: ensureSubmitter() },
    root,
    asUser: async (uid, gid, groups) => {
      const agent = await startAgent(proc, root, { uid, gid, groups });
      agents.push(agent);
      return agent;
    },
    queue: (who: Ids, message, envelope, env = { PATH: path }) => {
      const args = ['--reuid', String(who.uid), '--regid', String(who.gid), '--clear-groups', `${home}/bin/qmail-queue`];
      return runCaptured('setpriv', args, { stdin: message, fd1: envelope, env });
    },
    run: (program, args = []) => runCaptured(`${home}/bin/${program}`, args, { env: { PATH: path, QMAILHOME: home } }),
    elsewhere: join(tmp, 'elsewhere'),
    cleanup: async () => {
      await Promise.all(agents.map((a) => a.stop()));
      removeTemp(tmp);
    },
  };
}

function skipReason(): { skip?: string } {
  if (!isRoot) return { skip: 'needs root: creates users and installs a setuid-qmailq helper (run the tests as root)' };
  if (nosuid(tmpdir())) return { skip: `needs a temporary directory not mounted nosuid (${tmpdir()} is): the setuid helper cannot work there` };
  return {};
}

export const hostQueueBackend: QueueBackend = { name: 'host', bigtodo: [false, true], setup, ...skipReason() };
