// Sys.net for one simulated process: listeners in the world's table, connections as socket pairs
// whose ends are ordinary fds, and DNS answers from the world's table.

import type { Accepted, Address, Listener, Net } from '../impl/sys/types.ts';
import type { Kernel } from './kernel.ts';
import type { ListenerState } from './net.ts';
import { backlogMax } from './net.ts';
import type { SimProcess } from './proc.ts';
import { msToUs } from './clock.ts';
import { Blocked, sysError } from './syscall.ts';

export function makeNet(k: Kernel, p: SimProcess): Net {
  return {
    listen: (local) => k.syscall(p, 'listen', 'net', () => listen(k, p, local), { host: local.host, port: local.port }),
    connect: (remote, timeoutMs) => connect(k, p, remote, timeoutMs),
    resolveMx: (name) => k.syscall(p, 'resolveMx', 'dns', () => k.net.lookupMx(name), { name }),
    resolveA: (name) => k.syscall(p, 'resolveA', 'dns', () => k.net.lookupA(name), { name }),
  };
}

function listen(k: Kernel, p: SimProcess, local: Address): Listener {
  const l = k.net.bind(local, p.pid);
  // A listener is not an fd here, but it dies with its process all the same.
  const cleanup = () => closeListener(k, l);
  p.cleanups.add(cleanup);
  const addr = { ...l.local };
  return {
    local: addr,
    accept: () => k.syscall(p, 'accept', 'net', () => accept(p, l), { port: addr.port }),
    close: () =>
      k.syscall(p, 'closeListener', 'meta', () => {
        p.cleanups.delete(cleanup);
        closeListener(k, l);
      }, { port: addr.port }),
  };
}

function accept(p: SimProcess, l: ListenerState): Accepted | Blocked {
  if (l.closed) throw sysError('EBADF', 'accept');
  const c = l.backlog[0];
  if (c === undefined) return new Blocked(l.acceptors);
  const fd = p.install(c.desc, 'accept');
  l.backlog.shift();
  c.desc.refs--; // the backlog's reference moved into the fd table
  return { fd, remote: { ...c.remote }, local: { ...c.local } };
}

/** Pending connections are reset: their clients read EOF and get EPIPE on write. */
function closeListener(k: Kernel, l: ListenerState): void {
  if (l.closed) return;
  l.closed = true;
  k.net.unbind(l);
  for (const c of l.backlog.splice(0)) k.files.release(c.desc);
  l.acceptors.wakeAll();
}

function connect(k: Kernel, p: SimProcess, remote: Address, timeoutMs: number): Promise<Accepted> {
  const detail = { host: remote.host, port: remote.port };
  const fault = k.net.hostFault(remote.host);
  if (fault === 'timeout') {
    return k.syscall(p, 'connect', 'net', () => {
      throw sysError('ETIMEDOUT', 'connect', remote.host);
    }, detail, msToUs(timeoutMs));
  }
  return k.syscall(p, 'connect', 'net', () => {
    if (fault === 'unreachable') throw sysError('EHOSTUNREACH', 'connect', remote.host);
    const l = fault === 'refuse' ? undefined : k.net.find(remote);
    if (l === undefined || l.closed || l.backlog.length >= backlogMax) {
      throw sysError('ECONNREFUSED', 'connect', remote.host);
    }
    const [mine, theirs] = k.files.socketPair('socket', p.creds.euid, p.creds.egid, k.wallMs());
    const local: Address = { host: p.ip, port: k.net.ephemeralPort(p.ip) };
    let fd: number;
    try {
      fd = p.install(mine, 'connect');
    } catch (e) {
      k.files.discard(mine);
      k.files.discard(theirs);
      throw e;
    }
    theirs.refs++; // held by the backlog until accepted
    l.backlog.push({ desc: theirs, remote: local, local: { host: remote.host, port: remote.port } });
    l.acceptors.wakeAll();
    return { fd, remote: { ...remote }, local };
  }, detail);
}
