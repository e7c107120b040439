// The sim backend of the fs suite: a fresh simulated kernel per case, and every Fs a real Sys['fs']
// of a simulated process with exactly the asked-for credentials (conformance/sim/agent.ts). Each
// call runs the kernel until it settles (conformance/sim/driver.ts), so the suite's cases run
// unchanged against SimFs and the simulated kernel (FIFOs, triggers, permissions by uid and group).

import { Kernel } from '../../sim/kernel.ts';
import { SimAgents } from '../sim/agent.ts';
import { KernelDriver } from '../sim/driver.ts';
import type { FsBackend, FsWorld } from './fs-suite.ts';

/** Ordinary users with different primary gids, as the host's qtest1 and qtest2. */
const users = [
  { uid: 1001, gid: 1001 },
  { uid: 1002, gid: 1002 },
];
const caseDir = '/tmp/fs-case';

let cases = 0;

async function setup(): Promise<FsWorld> {
  // A seed per case, so that readdir order and latencies differ between cases.
  const k = new Kernel({ seed: 0x5eed + cases++ });
  k.mkdirs('/tmp', { uid: 0, gid: 0, mode: 0o1777 });
  k.mkdirs(caseDir, { uid: 0, gid: 0, mode: 0o755 });
  const agents = new SimAgents(new KernelDriver(k));
  const root = await agents.start({ uid: 0, gid: 0, groups: [0] });
  return {
    root: root.fs,
    dir: caseDir,
    asUser: async (uid, gid, groups) => (await agents.start({ uid, gid, groups })).fs,
    // The kernel and its processes are dropped with the world.
    cleanup: async () => undefined,
  };
}

export const simBackend: FsBackend = { name: 'sim', users, setup };
