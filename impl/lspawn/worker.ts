// One delivery worker as lspawn sees it: a qmail-local-worker process running as one user, reached
// through one socket pair (its fd 3) that carries frames both ways (impl/lib/worker-protocol.ts).
//
// Every delivery handed to a worker ends exactly once: with the worker's reply, or, when the worker
// dies (killed, crashed, or the channel breaks), with `crashed` — then lspawn reports
// `Zqmail-local crashed.` as for a crashed qmail-local, and qmail-send tries again later. A reply
// for no delivery in flight, or a frame that does not decode, is the worker's bug: it is killed.

import type { Child, Fd, Sys } from '../sys/types.ts';
import { SysError, type Errno } from '../sys/errors.ts';
import { encodeFrame, FrameDecoder, FrameError } from '../lib/frame.ts';
import { decodeReply, encodeQuit, encodeRequestFrame, type OutgoingRequest } from '../lib/worker-protocol.ts';
import { truncReportBytes, workerChannelFd } from '../../spec/spawn.ts';
import { BatchWriter } from '../shared/batch-writer.ts';
import type { LocalRun } from './local-child.ts';

export type WorkerOutcome = LocalRun | { spawnFailed: Errno };

export interface WorkerCreds {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

export type WorkerState = 'starting' | 'running' | 'retiring' | 'dead';

/** A reply holds at most truncReportBytes + 1 bytes of output (the worker cuts it) and three
 *  short fields. */
const replyFrameBytesMax = truncReportBytes + 1024;
const readChunkBytes = 65_536;
const crashed: LocalRun = { end: { crashed: true }, output: new Uint8Array(0) };

export class Worker {
  state: WorkerState = 'starting';
  /** Deliveries given to this worker and not yet ended (the pool's bound per worker). */
  load = 0;
  lastUsedMs: number;
  pid = 0;
  private fd: Fd | null = null;
  private child: Child | null = null;
  private spawnError: Errno | null = null;
  private readonly pending = new Map<number, (r: LocalRun) => void>();
  private nextId = 1;
  private out: BatchWriter | null = null;
  private cancelIdle: (() => void) | null = null;
  readonly started: Promise<void>;
  /** Settles when the process is gone (reaped) or never started. */
  readonly exited: Promise<void>;

  constructor(
    private readonly sys: Sys,
    readonly key: string,
    creds: WorkerCreds,
    program: string,
    env: Record<string, string>,
    onExit: (w: Worker) => void,
  ) {
    this.lastUsedMs = sys.clock.monotonicMs();
    this.started = this.spawn(creds, program, env);
    this.exited = this.started.then(() => this.life()).then(() => onExit(this));
  }

  /** Runs one delivery on this worker; never rejects for the worker's sake. */
  async deliver(req: Omit<OutgoingRequest, 'id'>): Promise<WorkerOutcome> {
    await this.started;
    if (this.spawnError !== null) return { spawnFailed: this.spawnError };
    if (this.state === 'dead' || this.fd === null) return crashed;
    const id = this.nextId++;
    const frame = encodeRequestFrame({ ...req, id });
    const reply = new Promise<LocalRun>((resolve) => this.pending.set(id, resolve));
    this.send(frame);
    return reply;
  }

  /** Idle shutdown: asks the worker to exit once its deliveries are done. */
  retire(): void {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.state = 'retiring';
    this.stopIdleTimer();
    // A worker still starting gets its quit once it runs (then() runs after spawn() is done).
    void this.started.then(() => this.send(encodeFrame(encodeQuit())));
  }

  startIdleTimer(ms: number): void {
    this.stopIdleTimer();
    this.cancelIdle = this.sys.clock.timer(ms, () => {
      this.cancelIdle = null;
      this.sys.log.event('debug', 'lspawn.worker_idle', { worker: this.pid, key: this.key });
      this.retire();
    });
  }

  stopIdleTimer(): void {
    this.cancelIdle?.();
    this.cancelIdle = null;
  }

  private async spawn(creds: WorkerCreds, program: string, env: Record<string, string>): Promise<void> {
    let child: Child;
    try {
      child = await this.sys.proc.spawn(program, ['qmail-local-worker'], {
        env,
        cwd: '/',
        uid: creds.uid,
        gid: creds.gid,
        groups: creds.groups,
        // The channel is fd 3: a parent's end of a child's fd 0 is write-only on the host (Node),
        // and fd 1 is never ours to lend (it carries reports to qmail-send).
        fds: [null, null, 2, 'pipe'],
      });
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      this.spawnError = e.code;
      this.state = 'dead';
      this.sys.log.event('warn', 'lspawn.worker_spawn_failed', { program, code: e.code, key: this.key });
      return;
    }
    this.child = child;
    this.pid = child.pid;
    this.fd = child.fds[workerChannelFd] as Fd;
    // A failed write kills the worker, so that its deliveries end through readReplies' EOF.
    this.out = new BatchWriter(this.sys, this.fd, () => this.kill());
    if (this.state === 'starting') this.state = 'running';
    this.sys.log.event('info', 'lspawn.worker_started', { worker: child.pid, key: this.key });
  }

  /** Reads replies until the channel ends, then ends whatever is still in flight, reaps the process. */
  private async life(): Promise<void> {
    const child = this.child;
    const fd = this.fd;
    if (child === null || fd === null) return;
    await this.readReplies(fd);
    this.state = 'dead';
    this.stopIdleTimer();
    const orphans = [...this.pending.values()];
    this.pending.clear();
    if (orphans.length > 0) this.sys.log.event('warn', 'lspawn.worker_lost', { worker: child.pid, deliveries: orphans.length });
    for (const end of orphans) end(crashed);
    await this.out?.flushed();
    this.fd = null;
    await this.sys.fs.close(fd).catch(() => undefined);
    const status = await child.wait();
    this.sys.log.event(status.code === 0 ? 'info' : 'warn', 'lspawn.worker_exited', { worker: child.pid, code: status.code, signal: status.signal });
  }

  private async readReplies(fd: Fd): Promise<void> {
    const decoder = new FrameDecoder(replyFrameBytesMax);
    // One read buffer; the decoder gets a copy of what arrived (it keeps pieces; a reply is tens of
    // bytes, a fresh buffer per read was most of the cost).
    const buf = new Uint8Array(readChunkBytes);
    try {
      for (;;) {
        const n = await this.sys.fs.read(fd, buf, 0, buf.length, null);
        if (n === 0) return;
        for (const payload of decoder.push(buf.slice(0, n))) this.replied(payload);
      }
    } catch (e) {
      if (e instanceof SysError) return;
      if (!(e instanceof FrameError)) throw e;
      this.sys.log.event('error', 'lspawn.worker_protocol', { worker: this.pid, message: e.message });
      await this.kill();
    }
  }

  private replied(payload: Uint8Array): void {
    const r = decodeReply(payload);
    const end = this.pending.get(r.id);
    if (end === undefined) throw new FrameError(`reply for delivery ${r.id}, which is not in flight`);
    this.pending.delete(r.id);
    end({ end: { code: r.code }, output: r.output.slice() });
  }

  /** Frames never interleave; several queued at once go out in one write. */
  private send(frame: Uint8Array): void {
    if (this.state !== 'dead') this.out?.send(frame);
  }

  private async kill(): Promise<void> {
    await this.sys.proc.kill(this.pid, 'SIGKILL').catch(() => undefined);
  }
}
