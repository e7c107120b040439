// qmail-queued's loop: requests arrive multiplexed on one fd (impl/lib/queued-protocol.ts), each
// runs the queue writer (impl/queue/enqueue.ts) as qmail-queue would, and its exit code goes back
// on the other fd once enqueue has returned (code 0: durable, enqueue's own fsync rules). The
// directory fsyncs and trigger pulls of messages in flight together are shared (./queue-fs.ts):
// each still returns only after an fsync (a pull) that started after its own link.
//
// Memory: the pieces read but not yet written to the queue are bounded by bufferedBytesMax over all
// requests; past it the loop stops reading its input (the client's writes then wait: backpressure)
// until the writers have caught up. A request a client never finishes is aborted after deathMs, as
// qmail-queue's DEATH alarm ends it.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qq } from '../../spec/exit-codes.ts';
import { deathMs, pidAttemptsMax } from '../../spec/limits.ts';
import type { QueueLayout } from '../../spec/queue.ts';
import { FrameDecoder, FrameError } from '../lib/frame.ts';
import { decodeQueuedRequest, encodeQueuedReply, queuedFrameBytesMax, type QueuedRequest } from '../lib/queued-protocol.ts';
import { receivedLine, type SpecialUids } from '../lib/received.ts';
import { FrameSink } from '../shared/frame-sink.ts';
import { enqueue, type ByteSource } from '../queue/enqueue.ts';
import { qpoolDirName } from '../shared/file-pool.ts';
import { queuedFs, SpacedPoolTaker } from './queue-fs.ts';

/** Pieces held in memory for all requests together before the loop stops reading. */
export const bufferedBytesMax = 4 * 1024 * 1024;
const readBytes = 65_536;

export interface ServeOpts {
  layout: QueueLayout;
  /** The uid every message is queued for (Received line, intd u record): fixed at start. */
  clientUid: number;
  special: SpecialUids;
  inFd: Fd;
  outFd: Fd;
}

/** Pieces pushed by the loop, read by enqueue; read() waits for the next one, EOF after end(). */
class PieceStream implements ByteSource {
  private pieces: Uint8Array[] = [];
  private ended = false;
  private failed = false;
  private wake: (() => void) | null = null;

  constructor(private readonly taken: (n: number) => void) {}

  /** False when the stream takes no more (aborted): the piece is dropped. */
  push(b: Uint8Array): boolean {
    if (this.ended) throw new ProtocolError('a piece after the end of its stream');
    if (this.failed) return false;
    this.pieces.push(b);
    this.poke();
    return true;
  }

  end(): void {
    this.ended = true;
    this.poke();
  }

  /** The client is gone: the next read fails, so enqueue cleans up and queues nothing. */
  fail(): void {
    this.failed = true;
    for (const p of this.pieces.splice(0)) this.taken(p.length);
    this.poke();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  async read(buf: Uint8Array): Promise<number> {
    for (;;) {
      if (this.failed) throw new SysError('EPIPE', 'read');
      const first = this.pieces[0];
      if (first !== undefined) {
        const n = Math.min(buf.length, first.length);
        buf.set(first.subarray(0, n));
        if (n === first.length) this.pieces.shift();
        else this.pieces[0] = first.subarray(n);
        this.taken(n);
        return n;
      }
      if (this.ended) return 0;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** The pieces themselves (copies this stream made, written by no one again): enqueue gathers
   *  them without copying them into a buffer of its own. */
  async readPiece(max: number): Promise<Uint8Array> {
    for (;;) {
      if (this.failed) throw new SysError('EPIPE', 'read');
      const first = this.pieces[0];
      if (first !== undefined) {
        const piece = first.length <= max ? first : first.subarray(0, max);
        if (piece === first) this.pieces.shift();
        else this.pieces[0] = first.subarray(max);
        this.taken(piece.length);
        return piece;
      }
      if (this.ended) return new Uint8Array(0);
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** The client broke the protocol: a bug on its side, qmail-queue's exit 81 on ours. */
export class ProtocolError extends Error {
  constructor(detail: string) {
    super(`qmail-queued: protocol: ${detail}`);
  }
}

interface Request {
  message: PieceStream;
  envelope: PieceStream;
  timedOut: boolean;
}

export class QueueServer {
  private readonly requests = new Map<number, Request>();
  private readonly running = new Set<Promise<void>>();
  private readonly sink: FrameSink;
  /** sys with shared directory fsyncs and trigger pulls, for enqueue (./queue-fs.ts). */
  private readonly qsys: Sys;
  private buffered = 0;
  private drained: (() => void) | null = null;
  private bug: { error: unknown } | null = null;
  /** pid/ names: one counter for the whole server, so requests started in the same second differ. */
  private seq = 0;
  /** qpool/'s free files, read once and taken from until used up (impl/shared/file-pool.ts). */
  private readonly pool: SpacedPoolTaker;

  constructor(
    private readonly sys: Sys,
    private readonly o: ServeOpts,
  ) {
    this.sink = new FrameSink(sys, o.outFd);
    this.qsys = queuedFs(sys);
    this.pool = new SpacedPoolTaker(sys, `${o.layout.dir}/${qpoolDirName}`, sys.clock);
  }

  /** Serves until EOF on the input; 0 then, after every finished request is answered. */
  async run(): Promise<number> {
    const decoder = new FrameDecoder(queuedFrameBytesMax);
    let buf = new Uint8Array(readBytes);
    for (;;) {
      // The decoder keeps views of a frame not yet complete: then the next read needs a new buffer.
      // Else every piece was copied (hold) and the buffer is free again.
      if (decoder.pendingBytes > 0) buf = new Uint8Array(readBytes);
      const n = await this.sys.fs.read(this.o.inFd, buf, 0, buf.length, null).catch((e: unknown) => {
        if (e instanceof SysError) return 0;
        throw e;
      });
      if (n === 0) break;
      if (!this.decode(decoder, buf.subarray(0, n))) return this.finish(qq.bug);
      while (this.buffered > bufferedBytesMax && this.bug === null) await new Promise<void>((r) => (this.drained = r));
      if (this.bug !== null) throw this.bug.error;
    }
    return this.finish(0);
  }

  /** False on a protocol error (logged). */
  private decode(decoder: FrameDecoder, bytes: Uint8Array): boolean {
    try {
      for (const p of decoder.push(bytes)) this.dispatch(decodeQueuedRequest(p));
      return true;
    } catch (e) {
      if (!(e instanceof FrameError || e instanceof ProtocolError)) throw e;
      this.sys.log.event('error', 'queued.protocol_error', { detail: e.message });
      return false;
    }
  }

  /** The input is over: what the client did not finish is not queued; what it finished still is. */
  private async finish(code: number): Promise<number> {
    for (const r of this.requests.values()) if (!r.envelope.isEnded) abort(r);
    await Promise.all(this.running);
    if (this.bug !== null) throw this.bug.error;
    return code;
  }

  private dispatch(r: QueuedRequest): void {
    if (r.kind === 'O') return this.open(r.id);
    const req = this.requests.get(r.id);
    // Late pieces of a request that ended early (DEATH) are dropped; without O nothing is queued.
    if (req === undefined) return;
    if (r.kind === 'M') this.hold(req.message, r.bytes);
    else if (r.kind === 'V') {
      req.message.end();
      this.hold(req.envelope, r.bytes);
    } else if (r.kind === 'E') {
      req.message.end();
      req.envelope.end();
    } else abort(req);
  }

  /** A copy: a view would pin the whole read buffer while the piece waits. */
  private hold(s: PieceStream, bytes: Uint8Array): void {
    if (s.push(bytes.slice())) this.buffered += bytes.length;
  }

  private open(id: number): void {
    if (this.requests.has(id)) throw new ProtocolError(`request ${id} opened twice`);
    const taken = (n: number): void => this.take(n);
    const req: Request = { message: new PieceStream(taken), envelope: new PieceStream(taken), timedOut: false };
    this.requests.set(id, req);
    const done = this.queue(id, req).catch((e: unknown) => {
      this.bug = { error: e };
      this.take(0);
    });
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
  }

  private take(n: number): void {
    this.buffered -= n;
    if (this.buffered <= bufferedBytesMax || this.bug !== null) {
      const w = this.drained;
      this.drained = null;
      w?.();
    }
  }

  /** One message, as one qmail-queue run: started now, answered with its exit code. */
  private async queue(id: number, req: Request): Promise<void> {
    const sys = this.sys;
    const self = sys.proc.self;
    const startMs = sys.clock.nowMs();
    const cancelDeath = sys.clock.timer(deathMs, () => {
      req.timedOut = true;
      abort(req);
    });
    const result = await enqueue(this.qsys, this.o.layout, {
      message: req.message,
      envelope: req.envelope,
      received: ascii.encode(receivedLine(self.pid, this.o.clientUid, this.o.special, startMs)),
      uid: this.o.clientUid,
      pid: self.pid,
      pidNames: this.pidNames(Math.floor(startMs / 1000)),
      pool: this.pool,
    }).finally(cancelDeath);
    this.requests.delete(id);
    // enqueue may have stopped early (no pid file, a bad envelope): what it left unread is dropped.
    abort(req);
    const code = req.timedOut && result.code !== qq.ok ? qq.tempTimeout : result.code;
    if (code === qq.ok) sys.log.event('debug', 'queue.accepted', { id: result.id, uid: this.o.clientUid });
    // A client that is gone reads no reply; the message (if queued) is delivered all the same.
    await this.sink.send(encodeQueuedReply({ id, code })).catch((e: unknown) => {
      if (!(e instanceof SysError)) throw e;
    });
  }

  private *pidNames(startSec: number): Generator<string> {
    for (let i = 0; i < pidAttemptsMax; i++) yield `${this.sys.proc.self.pid}.${startSec}.${++this.seq}`;
  }
}

const ascii = new TextEncoder();

function abort(r: Request): void {
  r.message.fail();
  r.envelope.fail();
}
