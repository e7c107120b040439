// The sim backend of the queue suite: a simulated world with qmail installed as sim/install.ts does
// it (the qmail users at simIds, bin/qmail-queue setuid qmailq 04711, the queue made by the real
// queue-fix) and one ordinary user. Programs run as simulated processes; the queue is read through
// a root agent's Fs. Every call runs the kernel until it settles (conformance/sim/driver.ts).

import { Kernel } from '../../sim/kernel.ts';
import { addSubmitters, installQmail, simIds } from '../../sim/install.ts';
import type { WorldExit } from '../../sim/world.ts';
import { SimAgents } from '../sim/agent.ts';
import { KernelDriver } from '../sim/driver.ts';
import type { Ids, ProgramRun, QueueBackend, QueueWorld } from './queue-suite.ts';

/** Where a hostile environment points qmail-queue: nothing is ever created there. */
const elsewhere = '/tmp/elsewhere';
/** The group addSubmitters gives its users. */
const usersGid = 100;

async function setup(opts: { split: number; bigtodo: boolean }): Promise<QueueWorld> {
  const k = new Kernel({ seed: opts.bigtodo ? 0x9e0e1 : 0x9e0e0 });
  k.mkdirs('/tmp', { uid: 0, gid: 0, mode: 0o1777 });
  const inst = await installQmail(k, { split: opts.split, bigtodo: opts.bigtodo });
  const [uid] = addSubmitters(k, 1);
  const driver = new KernelDriver(k);
  const agents = new SimAgents(driver);
  const root = await agents.start({ uid: 0, gid: 0, groups: [0] });
  /** Spawns a program from outside and waits for its death, driving the kernel meanwhile. */
  const spawnAndWait = (path: string, argv: string[], o: Parameters<Kernel['spawn']>[2]): Promise<ProgramRun> =>
    driver.drive(async () => {
      const h = k.spawn(path, argv, o);
      return runOf(h.pid, await h.wait());
    });
  return {
    home: inst.home,
    layout: inst.queue,
    users: { uids: { ...simIds.users, root: 0 }, qmailGid: simIds.groups.qmail, submitter: { uid: uid as number, gid: usersGid } },
    root: root.fs,
    asUser: async (u, g, groups) => (await agents.start({ uid: u, gid: g, groups })).fs,
    queue: (who: Ids, message, envelope, env = {}) =>
      spawnAndWait(`${inst.home}/bin/qmail-queue`, ['qmail-queue'], { uid: who.uid, gid: who.gid, groups: [who.gid], env, fds: [message, envelope, 'capture'] }),
    run: (program, args = []) => spawnAndWait(`${inst.home}/bin/${program}`, [program, ...args], { env: { QMAILHOME: inst.home } }),
    elsewhere,
    cleanup: async () => undefined, // the world is dropped with the kernel
  };
}

function runOf(pid: number, r: WorldExit): ProgramRun {
  return { code: r.code, pid, stdout: r.stdout, stderr: r.stderr };
}

export const simQueueBackend: QueueBackend = { name: 'sim', bigtodo: [false, true], setup };
