// qmail-smtpd --listen HOST:PORT: one long-lived process accepting connections with sys.net and
// running each session in-process (no process per connection), at most sessionsMax at once
// (tcpserver's -c 40): past that, accepting waits for a session to end. Each connection gets the
// tcp-environ variables tcpserver would set (TCPLOCALIP, TCPLOCALPORT, TCPREMOTEIP, TCPREMOTEPORT,
// PROTO) over the daemon's environment, and sees the controls as a new qmail-smtpd would: kept
// across connections while a stat of each shows no change (./config.ts SetupCache).
// Messages are queued through the Queueing the caller set up (./privsep.ts): one qmail-queued for
// the whole listener when it was started as root, else a qmail-queue per message. With -x RULES.cdb,
// tcpserver's access rules decide per connection (./tcprules.ts): refusal, or variables such as
// RELAYCLIENT over the tcp-environ.

import type { Accepted, Address, Listener, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { writeAll } from '../shared/fdio.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { smtpdReply } from '../../spec/smtpd.ts';
import { SetupCache } from './config.ts';
import { runSession } from './session.ts';
import type { QueueClient } from './queue-client.ts';
import { allowAll, RulesCache } from './tcprules.ts';

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

/** The tcp-environ of one connection, then what the rules set (`rules`), in one copy of base. */
export function connectionEnv(base: Record<string, string>, a: Accepted, rules: Record<string, string> = {}): Record<string, string> {
  return {
    ...base,
    PROTO: 'TCP',
    TCPLOCALIP: a.local.host,
    TCPLOCALPORT: String(a.local.port),
    TCPREMOTEIP: a.remote.host,
    TCPREMOTEPORT: String(a.remote.port),
    ...rules,
  };
}

/** How the listener's sessions queue, and what ends the listener: `died` settles when qmail-queued
 *  is gone (null when messages are queued by a qmail-queue per message, which nothing can end). */
export interface Queueing {
  client: QueueClient;
  died: Promise<string> | null;
}

/** After qmail-queued died: how long sessions get to send their 451 replies before we exit. */
export const queuedDeadGraceMs = 1000;

/** Serves until the process is stopped (a signal), the listener fails (SysError), or qmail-queued
 *  dies: then it stops accepting, lets the sessions answer what was in flight (451, never 250) for
 *  at most queuedDeadGraceMs, and returns 111 so that supervise starts a new listener and queue.
 *  A session's bug ends it all. */
export async function listenLoop(sys: Sys, home: string, env: Record<string, string>, listener: Listener, q: Queueing, rules: string | null = null): Promise<number> {
  sys.log.event('info', 'smtpd.listening', { host: listener.local.host, port: listener.local.port });
  let active = 0;
  let wake: (() => void) | null = null;
  let bug: unknown = null;
  let stopped = false;
  const setups = new SetupCache(sys, home);
  const rulesCache = rules === null ? null : new RulesCache(sys, rules);
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  // A fresh promise per accept, settled when qmail-queued dies: racing every accept against one
  // long-lived promise would leave a reaction on it per connection, for the process's whole life.
  let stopAccept: (() => void) | null = null;
  void q.died?.then(() => {
    stopped = true;
    stopAccept?.();
    poke();
  });
  for (;;) {
    while (active >= sessionsMax && bug === null && !stopped) await new Promise<void>((r) => (wake = r));
    if (bug !== null) throw bug;
    if (stopped) break;
    const accepting = listener.accept();
    const stop = new Promise<null>((r) => (stopAccept = () => r(null)));
    const a = await Promise.race([accepting, stop]);
    stopAccept = null;
    if (a === null) {
      void accepting.then((late) => sys.fs.close(late.fd)).catch(() => undefined);
      break;
    }
    active++;
    void serve(sys, setups, env, a, q.client, rulesCache)
      .catch((e: unknown) => {
        bug = e;
      })
      .finally(() => {
        active--;
        poke();
      });
  }
  await listener.close().catch(() => undefined);
  const graceEnd = sys.clock.monotonicMs() + queuedDeadGraceMs;
  while (active > 0 && bug === null && sys.clock.monotonicMs() < graceEnd) {
    await Promise.race([new Promise<void>((r) => (wake = r)), sys.clock.sleep(Math.max(1, graceEnd - sys.clock.monotonicMs()))]);
  }
  if (bug !== null) throw bug;
  return queuedDiedExit;
}

/** The listener's exit after qmail-queued died: temporary, as qmail's 111. */
export const queuedDiedExit = 111;

async function serve(sys: Sys, setups: SetupCache, base: Record<string, string>, a: Accepted, queue: QueueClient, rules: RulesCache | null): Promise<void> {
  try {
    // -x RULES.cdb: tcpserver's verdict before a byte is sent; a refused or unreadable-rules
    // connection is closed without a greeting, as tcpserver's child would be.
    const verdict = rules === null ? allowAll : await rules.verdict(a.remote.host);
    if (verdict === null || verdict.deny) {
      sys.log.event('info', verdict === null ? 'smtpd.rules_unreadable' : 'smtpd.deny', { remote: a.remote.host, ...(verdict === null ? { rules: rules?.path } : {}) });
      return;
    }
    const env = connectionEnv(base, a, verdict.env);
    const setup = await setups.load(env);
    if (setup === null) {
      await writeAll(sys, a.fd, latin1Bytes(smtpdReply.dieControl)).catch(() => undefined);
      return;
    }
    const code = await runSession(sys, setup.cfg, { home: setups.home, env, inFd: a.fd, outFd: a.fd, timeoutMs: setup.timeoutMs, queue });
    sys.log.event('debug', 'smtpd.session_end', { remote: a.remote.host, code });
  } finally {
    await sys.fs.close(a.fd).catch((e: unknown) => {
      if (!(e instanceof SysError)) throw e;
    });
  }
}
