// One worker thread of `qsim swarm`: receives seeds, runs each through sim/swarm.ts, posts the
// per-seed report back. Only the wall time comes from here.

import { parentPort, workerData } from 'node:worker_threads';
import { runSwarmSeed, type SwarmPlan } from '../sim/swarm.ts';

const { plan } = workerData as { plan: SwarmPlan };
const port = parentPort;
if (port === null) throw new Error('qsim-worker runs as a worker thread');
// One seed at a time: the parent posts the next one when this one is reported.
port.on('message', (seed: number) => {
  void runSwarmSeed(seed, plan, () => performance.now()).then((r) => port.postMessage(r));
});
