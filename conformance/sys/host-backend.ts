// The host backend of the fs suite: real Linux, as root, with real uids. An ordinary user is an fs
// agent process (fs-agent.ts) started with exactly the asked-for uid, gid and supplementary groups,
// so every permission answer is the kernel's. Needs root; otherwise the suite is skipped.
//
// Test users qtest1 and qtest2 (each with its own group of the same name) are created on first use
// when missing: no home, no login shell.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { FdTable } from '../../impl/sys/host/fd-table.ts';
import { HostFs } from '../../impl/sys/host/fs.ts';
import { currentUmask, HostProc, hostSelf } from '../../impl/sys/host/proc.ts';
import { ensureUser, isRoot } from '../host/accounts.ts';
import { startAgent, type AgentFs } from './agent-fs.ts';
import type { FsBackend, FsWorld } from './fs-suite.ts';

const testUsers = ['qtest1', 'qtest2'] as const;

/** Creates the test users if missing (root only) and returns their ids. */
function ensureTestUsers(): { uid: number; gid: number }[] {
  return testUsers.map((name) => ensureUser(name, name));
}

async function setup(): Promise<FsWorld> {
  const fds = new FdTable();
  const root = new HostFs(fds, currentUmask);
  const proc = new HostProc(fds, await hostSelf(), () => undefined);
  const dir = mkdtempSync('/tmp/qmail-fs-');
  chmodSync(dir, 0o755); // traversable by the test users
  const agents: AgentFs[] = [];
  return {
    root,
    dir,
    async asUser(uid, gid, groups) {
      const agent = await startAgent(proc, root, { uid, gid, groups });
      agents.push(agent);
      return agent;
    },
    async cleanup() {
      await Promise.all(agents.map((a) => a.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const hostBackend: FsBackend = {
  name: 'host',
  users: isRoot ? ensureTestUsers() : [],
  setup,
  ...(isRoot ? {} : { skip: 'needs root: permission cases run as real uids (run the tests as root)' }),
};
