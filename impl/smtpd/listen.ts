// qmail-smtpd --listen HOST:PORT: one long-lived process accepting connections with sys.net and
// running each session in-process (no process per connection), at most sessionsMax at once
// (tcpserver's -c 40): past that, accepting waits for a session to end. Each connection gets the
// tcp-environ variables tcpserver would set (TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT,
// PROTO) over the daemon's environment, and reads the controls afresh, as a new qmail-smtpd would.

import type { Accepted, Address, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { writeAll } from '../shared/fdio.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { smtpdReply } from '../../spec/smtpd.ts';
import { loadSetup } from './config.ts';
import { runSession } from './session.ts';

/** Concurrent sessions of one listener (tcpserver's default). */
export const sessionsMax = 40;

/** "host:port" (the last ':' splits, so an IPv6 host works), or null. */
export function parseListen(s: string): Address | null {
  const i = s.lastIndexOf(':');
  if (i <= 0) return null;
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65_535 || !/^[0-9]+$/.test(s.slice(i + 1))) return null;
  return { host: s.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
}

/** The tcp-environ of one connection. */
export function connectionEnv(base: Record<string, string>, a: Accepted): Record<string, string> {
  return {
    ...base,
    PROTO: 'TCP',
    TCPLOCALIP: a.local.host,
    TCPLOCALPORT: String(a.local.port),
    TCPREMOTEIP: a.remote.host,
    TCPREMOTEPORT: String(a.remote.port),
  };
}

/** Serves until the process is stopped (a signal) or the listener fails; a session's bug ends it all. */
export async function listenLoop(sys: Sys, home: string, env: Record<string, string>, at: Address): Promise<number> {
  const listener = await sys.net.listen(at);
  sys.log.event('info', 'smtpd.listening', { host: listener.local.host, port: listener.local.port });
  let active = 0;
  let wake: (() => void) | null = null;
  let bug: unknown = null;
  for (;;) {
    while (active >= sessionsMax && bug === null) await new Promise<void>((r) => (wake = r));
    if (bug !== null) throw bug;
    const a = await listener.accept();
    active++;
    void serve(sys, home, env, a)
      .catch((e: unknown) => {
        bug = e;
      })
      .finally(() => {
        active--;
        const w = wake;
        wake = null;
        w?.();
      });
  }
}

async function serve(sys: Sys, home: string, base: Record<string, string>, a: Accepted): Promise<void> {
  const env = connectionEnv(base, a);
  try {
    const setup = await loadSetup(sys, home, env);
    if (setup === null) {
      await writeAll(sys, a.fd, latin1Bytes(smtpdReply.dieControl)).catch(() => undefined);
      return;
    }
    const code = await runSession(sys, setup.cfg, { home, env, inFd: a.fd, outFd: a.fd, timeoutMs: setup.timeoutMs });
    sys.log.event('debug', 'smtpd.session_end', { remote: a.remote.host, code });
  } finally {
    await sys.fs.close(a.fd).catch((e: unknown) => {
      if (!(e instanceof SysError)) throw e;
    });
  }
}
