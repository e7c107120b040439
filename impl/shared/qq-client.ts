// The client side of qmail-queue, used by every program that queues mail (qmail-inject, sendmail,
// qmail-local forwards, bounces, qmail-smtpd): run NULLQUEUE's qmail-nullqueue, else $QMAILQUEUE,
// else <home>/bin/qmail-queue; message on the child's fd 0, envelope on its fd 1, custom errors on
// its ERROR_FD (default 2; -1 turns custom errors off); the exit code becomes the seed's D/Z message.

import type { ExitStatus, Fd, FdSpec, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qq, customErrorBytesMax } from '../../spec/exit-codes.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { encodeEnvelope, type Envelope } from '../lib/envelope.ts';
import { qqOutcome, type QqOutcome } from '../lib/qq-message.ts';
import type { ByteSource } from '../queue/enqueue.ts';
import { writeAll } from './fdio.ts';

export interface QueueClientOpts {
  home: string;
  /** The environment the decision is made from and the child gets (default: ours). */
  env?: Record<string, string>;
}

export interface QueueClientResult extends QqOutcome {
  status: ExitStatus | null;
  /** The queueing program's pid (qmail_qp: qmail-local prints it as `qp PID`); null when it did not start. */
  pid: number | null;
}

/** Which program queues, by qmail-queue-clients(7): NULLQUEUE, then QMAILQUEUE, then qmail-queue. */
export function queueProgram(home: string, env: Record<string, string>): string {
  if (env['NULLQUEUE'] !== undefined && env['NULLQUEUE'] !== '') return `${home}/bin/qmail-nullqueue`;
  const custom = env['QMAILQUEUE'];
  if (custom !== undefined && custom !== '') return custom;
  return `${home}/bin/qmail-queue`;
}

/** ERROR_FD: default 2, -1 = custom errors off, otherwise a small fd number. Invalid → 2. */
export function errorFd(env: Record<string, string>): number | null {
  const v = env['ERROR_FD'];
  if (v === undefined || v === '') return 2;
  if (v.trim() === '-1') return null;
  return /^[0-9]{1,2}$/.test(v.trim()) && Number(v) >= 2 ? Number(v) : 2;
}

export async function queueMessage(
  sys: Sys,
  message: ByteSource | Uint8Array,
  envelope: Envelope,
  opts: QueueClientOpts,
): Promise<QueueClientResult> {
  const env = opts.env ?? sys.proc.self.env;
  const program = queueProgram(opts.home, env);
  const efd = errorFd(env);
  const fds: FdSpec[] = ['pipe', 'pipe', 2];
  if (efd !== null) fds[efd] = 'pipe';
  let child;
  try {
    child = await sys.proc.spawn(program, [basename(program)], { env, cwd: opts.home, fds: fill(fds) });
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return { ...qqOutcome({ code: qq.tempExecQq }, null), status: null, pid: null };
  }
  const custom = efd === null ? Promise.resolve(null) : drain(sys, child.fds[efd] as Fd);
  const wrote = await feed(sys, child.fds[0] as Fd, child.fds[1] as Fd, message, envelope);
  const status = await child.wait();
  const errText = await custom;
  const code = status.signal !== null ? null : status.code;
  if (code === 0 && !wrote) return { ...qqOutcome({ code: qq.tempReadError }, null), status, pid: child.pid };
  const outcome = code === null ? qqOutcome({ signal: status.signal ?? 'SIGKILL' }, null) : qqOutcome({ code }, errText);
  return { ...outcome, status, pid: child.pid };
}

/** Writes the message, closes fd 0, writes the envelope, closes fd 1. False if a write failed
 *  (qmail-queue died or refused early: its exit code tells why). */
async function feed(sys: Sys, msgFd: Fd, envFd: Fd, message: ByteSource | Uint8Array, envelope: Envelope): Promise<boolean> {
  let ok = true;
  try {
    if (message instanceof Uint8Array) await writeAll(sys, msgFd, message);
    else await pump(sys, message, msgFd);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    ok = false;
  }
  await sys.fs.close(msgFd).catch(() => undefined);
  if (ok) {
    try {
      await writeAll(sys, envFd, encodeEnvelope(envelope));
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      ok = false;
    }
  }
  await sys.fs.close(envFd).catch(() => undefined);
  return ok;
}

async function pump(sys: Sys, src: ByteSource, fd: Fd): Promise<void> {
  const buf = new Uint8Array(ioChunkBytes);
  for (;;) {
    const n = await src.read(buf);
    if (n === 0) return;
    await writeAll(sys, fd, buf.subarray(0, n));
  }
}

/** Reads the error pipe to EOF (bounded), so the child never blocks on it. */
async function drain(sys: Sys, fd: Fd): Promise<Uint8Array | null> {
  const out = new Uint8Array(customErrorBytesMax);
  let used = 0;
  const scratch = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await sys.fs.read(fd, scratch, 0, scratch.length, null);
      if (n === 0) break;
      const keep = Math.min(n, out.length - used);
      out.set(scratch.subarray(0, keep), used);
      used += keep;
    }
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  } finally {
    await sys.fs.close(fd).catch(() => undefined);
  }
  return used === 0 ? null : out.slice(0, used);
}

function fill(fds: FdSpec[]): FdSpec[] {
  return Array.from({ length: fds.length }, (_, i) => fds[i] ?? null);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
