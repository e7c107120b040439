// qmail-start's stay as the parent (Node cannot exec into qmail-send): signals go on to qmail-send;
// when qmail-send ends, the others (whose pipes now read EOF) get helpersExitMs to end by
// themselves, then TERM, then KILL after killGraceMs. When a helper ends first, qmail-send sees EOF
// and stops per the protocol (queue.md 4.3); it gets sendDyingMs, then TERM and KILL; the others are
// TERMed at once (the logger excepted: it ends on EOF after writing the last lines) and
// qmail-start exits 111 so that supervise starts everything again.

import type { ExitStatus, Signal, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { forwardedSignals, helpersExitMs, killGraceMs, sendDyingMs, startExitFailure } from '../../spec/start.ts';
import type { Running } from './wire.ts';

/** Catches the forwarded signals from the start, so that none ends qmail-start while it starts the
 *  daemons; one that comes before qmail-send runs is passed on once it does (TERM) or dropped. */
export class SignalForwarder {
  private target: number | null = null;
  private stopAsked = false;
  /** A TERM (or INT) has been passed on to qmail-send. */
  stopRequested = false;
  private done = false;

  constructor(private readonly sys: Sys) {
    for (const sig of forwardedSignals) sys.proc.onSignal(sig, () => this.forward(sig));
    sys.proc.onSignal('SIGINT', () => this.forward('SIGTERM'));
  }

  /** qmail-send runs: from now on signals go to it. */
  attach(pid: number): void {
    this.target = pid;
    if (this.stopAsked) this.forward('SIGTERM');
  }

  /** qmail-send is gone: signals are dropped (the teardown has its own bounds). */
  detach(): void {
    this.done = true;
  }

  private forward(sig: Signal): void {
    if (this.done) return;
    if (this.target === null) {
      if (sig === 'SIGTERM') this.stopAsked = true;
      return;
    }
    if (sig === 'SIGTERM') this.stopRequested = true;
    this.sys.log.event('debug', 'start.signal', { signal: sig, to: this.target });
    void killQuietly(this.sys, this.target, sig);
  }
}

/** Waits for the end and returns qmail-start's exit code. Unless a TERM had been passed on before
 *  anything ended (then helpers ending before qmail-send are part of its shutdown: todo-proc and the
 *  cleans end as soon as their input closes), the first end starts the teardown, and causeOf names
 *  the daemon to blame among those that ended by themselves. */
export async function supervise(sys: Sys, all: Running[], send: Running, forwarder: SignalForwarder): Promise<number> {
  const order: Running[] = [];
  for (const r of all) void r.done.then(() => order.push(r));
  const first = await Promise.race(all.map((r) => r.done.then(() => r)));
  const shutdown = forwarder.stopRequested;
  if (!shutdown && first !== send) {
    sys.log.event('warn', 'start.daemon_died', { daemon: first.label, pid: first.pid, ...first.status });
    await endWithin(sys, [send], sendDyingMs);
  } else {
    await send.done; // qmail-send's own shutdown: as long as its deliveries in flight take
  }
  forwarder.detach();
  sys.log.event('debug', 'start.send_exited', { pid: send.pid, ...send.status });
  const byThemselves = order.filter((r) => r !== send);
  const others = all.filter((r) => r !== send);
  if (!shutdown && first !== send) await killEach(sys, others.filter((r) => r.role !== 'logger'), 'SIGTERM');
  await endWithin(sys, others, helpersExitMs);
  const cause = shutdown ? (send.status?.signal != null ? send : null) : causeOf(send, byThemselves);
  if (cause !== null) return fatalDeath(sys, cause);
  return send.status?.code ?? startExitFailure;
}

/** Who brought the MTA down, when no TERM asked for it: ended is the helpers that ended before
 *  qmail-send was seen gone, in the order seen. The order alone misleads (a qmail-clean ends on
 *  EOF as soon as its todo-proc is killed, and may be seen first), so a death by a signal beats a
 *  non-zero exit, which beats a clean exit; a clean exit (an EOF: qmail-send closed its pipe) is
 *  blamed only when qmail-send itself exited 0. null: qmail-send's own status tells. Pure. */
export function causeOf(send: Running, ended: readonly Running[]): Running | null {
  const rank = (s: ExitStatus | null): number => (s === null ? -1 : s.signal !== null ? 2 : s.code !== 0 ? 1 : 0);
  let worst: Running | null = null;
  for (const r of ended) if (worst === null || rank(r.status) > rank(worst.status)) worst = r;
  const sendFailed = send.status === null || send.status.signal !== null || send.status.code !== 0;
  if (worst !== null && (rank(worst.status) > 0 || !sendFailed)) return worst;
  return send.status?.signal != null ? send : null;
}

/** Gives rs ms to end, then TERM, then KILL after killGraceMs; resolves when all have ended. */
export async function endWithin(sys: Sys, rs: Running[], ms: number): Promise<void> {
  if (await within(sys, rs, ms)) return;
  await killEach(sys, rs, 'SIGTERM');
  if (await within(sys, rs, killGraceMs)) return;
  await killEach(sys, rs, 'SIGKILL');
  await Promise.all(rs.map((r) => r.done));
}

function within(sys: Sys, rs: Running[], ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = sys.clock.timer(ms, () => resolve(false));
    void Promise.all(rs.map((r) => r.done)).then(() => {
      cancel();
      resolve(true);
    });
  });
}

async function killEach(sys: Sys, rs: Running[], sig: Signal): Promise<void> {
  for (const r of rs) {
    if (r.status !== null) continue;
    sys.log.event('warn', 'start.kill', { daemon: r.label, pid: r.pid, signal: sig });
    await killQuietly(sys, r.pid, sig);
  }
}

async function killQuietly(sys: Sys, pid: number, sig: Signal): Promise<void> {
  try {
    await sys.proc.kill(pid, sig);
  } catch (e) {
    if (!(e instanceof SysError)) throw e; // ESRCH: it ended meanwhile
  }
}

async function fatalDeath(sys: Sys, r: Running): Promise<number> {
  await say(sys, `fatal: qmail-start: ${r.label} (pid ${r.pid}) ${describe(r.status)}; stopped everything\n`);
  return startExitFailure;
}

export function describe(s: ExitStatus | null): string {
  if (s === null) return 'is still running';
  return s.signal !== null ? `was killed by ${s.signal}` : `exited ${s.code}`;
}

/** A line on fd 2; a closed or broken fd 2 loses it, as strerr's write would. */
export async function say(sys: Sys, line: string): Promise<void> {
  const bytes = new TextEncoder().encode(line);
  try {
    let off = 0;
    while (off < bytes.length) off += await sys.fs.write(2, bytes, off, bytes.length - off, null);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  }
}
