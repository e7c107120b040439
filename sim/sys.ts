// The Sys of one simulated process: every method that waits returns a promise the kernel settles
// in an event (sim/kernel.ts); nowMs, monotonicMs, umask, log and random answer at once.

import type { Clock, Log, Random, Sys, Users } from '../impl/sys/types.ts';
import type { Kernel } from './kernel.ts';
import type { SimProcess } from './proc.ts';
import { msToUs } from './clock.ts';
import { makeFs } from './sys-fs.ts';
import { makeNet } from './sys-net.ts';
import { makeProc } from './sys-proc.ts';

export function makeSys(k: Kernel, p: SimProcess): Sys {
  return {
    fs: makeFs(k, p),
    proc: makeProc(k, p),
    clock: makeClock(k, p),
    net: makeNet(k, p),
    users: makeUsers(k, p),
    log: makeLog(k, p),
    random: makeRandom(p),
  };
}

function makeClock(k: Kernel, p: SimProcess): Clock {
  return {
    nowMs: () => k.wallMs(),
    monotonicMs: () => k.nowMs,
    sleep: (ms) => k.syscall(p, 'sleep', 'wake', () => undefined, { ms }, msToUs(ms)),
    timer: (ms, cb) => {
      const ev = k.schedule(p, 'wake', () => k.runAs(p, cb), msToUs(ms));
      return () => {
        ev.cancelled = true;
      };
    },
  };
}

function makeUsers(k: Kernel, p: SimProcess): Users {
  const u = k.users;
  return {
    getpwnam: (name) => k.syscall(p, 'getpwnam', 'meta', () => u.getpwnam(name), { name }),
    getpwuid: (uid) => k.syscall(p, 'getpwuid', 'meta', () => u.getpwuid(uid), { uid }),
    getgrnam: (name) => k.syscall(p, 'getgrnam', 'meta', () => u.getgrnam(name), { name }),
    getgrgid: (gid) => k.syscall(p, 'getgrgid', 'meta', () => u.getgrgid(gid), { gid }),
    groupsOf: (name, gid) => k.syscall(p, 'groupsOf', 'meta', () => u.groupsOf(name, gid), { name, gid }),
  };
}

function makeLog(k: Kernel, p: SimProcess): Log {
  return {
    event: (level, name, fields) => k.record(p.pid, name, { level, ...fields }),
  };
}

function makeRandom(p: SimProcess): Random {
  return {
    u32: () => p.random.u32(),
    bytes: (n) => p.random.bytes(n),
  };
}
