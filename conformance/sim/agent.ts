// Agents: long-lived simulated processes whose Sys a test uses from outside the world, so that a
// test acts in the sim exactly as a process with those credentials would (the kernel checks them;
// nothing is emulated). The host counterpart is conformance/sys/fs-agent.ts, a real process per
// credential set; here the agent's main only hands its Sys out and then waits forever.

import type { Fs, Sys } from '../../impl/sys/types.ts';
import type { KernelDriver } from './driver.ts';

export interface AgentCreds {
  uid: number;
  gid: number;
  groups: number[];
}

export interface Agent {
  pid: number;
  /** The agent's own Sys (its calls need the kernel to run: prefer `fs`). */
  sys: Sys;
  /** The agent's fs, each call driven until it settles. */
  fs: Fs;
}

const programName = 'sim-agent';
const agentPath = '/sbin/sim-agent';

/** Installs the agent program into the driver's kernel; start() spawns one agent per call. */
export class SimAgents {
  private readonly started = new Map<number, (sys: Sys) => void>();

  constructor(private readonly driver: KernelDriver) {
    const k = driver.k;
    k.programs.register(programName, (sys) => {
      this.started.get(sys.proc.self.pid)?.(sys);
      // Serve until the world is dropped: no event is pending for it, so the kernel goes idle.
      return new Promise<number>(() => undefined);
    });
    k.install(agentPath, programName, { uid: 0, gid: 0, mode: 0o755 });
  }

  async start(creds: AgentCreds): Promise<Agent> {
    const h = this.driver.k.spawn(agentPath, [programName], { ...creds, fds: [null, null, null] });
    const sys = await this.driver.drive(() => new Promise<Sys>((resolve) => this.started.set(h.pid, resolve)));
    this.started.delete(h.pid);
    return { pid: h.pid, sys, fs: this.driver.drivenObject(sys.fs) };
  }
}
