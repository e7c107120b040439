// The listener's side of qmail-queued (impl/queued/main.ts): started once as qmailq by the root
// listener, then every session's message is a request over the one pipe pair
// (impl/lib/queued-protocol.ts). The message goes piece by piece as DATA arrives, each write
// awaited (a session holds about one piece's worth at most: bounded memory, and the pipe's
// backpressure reaches the SMTP client); pieces already at hand go in one write with what follows.
// Then the envelope; the reply is qmail-queue's exit code, 0 only once durable.
//
// When qmail-queued dies, every request without its reply ends as a crashed qmail-queue does
// ("451 qq crashed"), later DATA commands get "451 qqt failure", and `died` settles: the listener
// then stops (impl/smtpd/listen.ts) and supervise starts it again, with a new qmail-queued.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { qq } from '../../spec/exit-codes.ts';
import { encodeEnvelope, type Envelope } from '../lib/envelope.ts';
import { FrameDecoder, FrameError } from '../lib/frame.ts';
import { qqOutcome } from '../lib/qq-message.ts';
import { decodeQueuedReply, encodeQueuedRequestFrame, queuedFrameBytesMax, queuedPieceBytesMax } from '../lib/queued-protocol.ts';
import type { ByteSource } from '../queue/enqueue.ts';
import { FrameSink } from '../shared/frame-sink.ts';
import type { QueueClientResult } from '../shared/qq-client.ts';
import type { QueueClient } from './queue-client.ts';

export interface QueuedCreds {
  uid: number;
  gid: number;
}

/** Starts qmail-queued as `server` (qmailq), queueing for clientUid (qmaild). Throws SysError. */
export async function startQueued(sys: Sys, home: string, env: Record<string, string>, server: QueuedCreds, clientUid: number): Promise<QueuedClient> {
  const child = await sys.proc.spawn(`${home}/bin/qmail-queued`, ['qmail-queued', String(clientUid)], {
    env, cwd: home, uid: server.uid, gid: server.gid, groups: [server.gid], fds: ['pipe', 'pipe', 2],
  });
  const q = new QueuedClient(sys, child.pid, child.fds[0] as Fd, child.fds[1] as Fd);
  // Death shows as EOF on the reply pipe, after every reply it wrote: not here, where replies
  // still unread would be lost.
  void child.wait().then((st) => sys.log.event('info', 'smtpd.queued_exit', { pid: child.pid, code: st.code, signal: st.signal }));
  return q;
}

export class QueuedClient implements QueueClient {
  private readonly sink: FrameSink;
  private readonly pending = new Map<number, (code: number | null) => void>();
  private nextId = 1;
  private dead = false;
  private onDeath: (why: string) => void = () => undefined;
  /** Settles (with why) when qmail-queued is gone. */
  readonly died: Promise<string>;

  constructor(
    private readonly sys: Sys,
    /** qmail-queued's pid: "qp PID" in 250 replies, as qmail-queue's pid is. */
    readonly pid: number,
    toServer: Fd,
    private readonly fromServer: Fd,
  ) {
    this.sink = new FrameSink(sys, toServer);
    this.died = new Promise((r) => (this.onDeath = r));
    void this.readReplies();
  }

  async queue(src: ByteSource, envelope: Envelope): Promise<QueueClientResult | null> {
    if (this.dead) return null;
    const id = this.takeId();
    const reply = new Promise<number | null>((r) => this.pending.set(id, r));
    const sent = await this.send(id, src, envelope);
    const code = await reply;
    if (code === null) return this.result(qqOutcome({ signal: 'SIGKILL' }, null), null);
    if (!sent) return this.result(qqOutcome({ code: qq.tempReadError }, null), null);
    return this.result(qqOutcome({ code }, null), { code, signal: null });
  }

  /** The next request id (u32, wrapping) not in flight. */
  private takeId(): number {
    let id = this.nextId;
    while (this.pending.has(id)) id = id >= 0xffff_fffe ? 1 : id + 1;
    this.nextId = id >= 0xffff_fffe ? 1 : id + 1;
    return id;
  }

  /** Open, pieces, envelope, end; on a failing src, abort instead. False when src failed. The open
   *  goes with the first piece; pieces the source has at hand without I/O (src.ready) are held and
   *  go with what follows, up to a piece's size: a small message is two writes (the open with
   *  the Received line, then the rest with the envelope and the end). Each piece is copied once,
   *  into its frame, as soon as it is read. */
  private async send(id: number, src: ByteSource, envelope: Envelope): Promise<boolean> {
    let held: Uint8Array[] = [frame({ kind: 'O', id })];
    let heldBytes = 0;
    const next = pieceReader(src);
    for (;;) {
      let piece: Uint8Array;
      try {
        piece = await next();
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        await this.request(...held, frame({ kind: 'A', id })).catch(() => undefined);
        return false;
      }
      if (piece.length === 0) break;
      held.push(frame({ kind: 'M', id, bytes: piece }));
      heldBytes += piece.length;
      if (heldBytes < queuedPieceBytesMax && src.ready?.() === true) continue;
      const sent = await this.request(...held).then(() => true, () => false);
      held = [];
      heldBytes = 0;
      if (!sent) return drainSource(next);
    }
    const env = encodeEnvelope(envelope);
    for (let at = 0; at < env.length; at += queuedPieceBytesMax) held.push(frame({ kind: 'V', id, bytes: env.subarray(at, at + queuedPieceBytesMax) }));
    await this.request(...held, frame({ kind: 'E', id })).catch(() => undefined);
    return true;
  }

  private request(...frames: Uint8Array[]): Promise<void> {
    return this.sink.sendFrames(...frames).catch((e: unknown) => {
      if (e instanceof SysError) this.die(`write: ${e.code}`);
      throw e;
    });
  }

  private result(o: ReturnType<typeof qqOutcome>, status: QueueClientResult['status']): QueueClientResult {
    return { ...o, status, pid: this.pid };
  }

  private async readReplies(): Promise<void> {
    const decoder = new FrameDecoder(queuedFrameBytesMax);
    let buf = new Uint8Array(replyReadBytes);
    try {
      for (;;) {
        // Replies are decoded at once; only a reply cut by a read leaves the decoder a view of
        // the buffer, which then must not be written again.
        if (decoder.pendingBytes > 0) buf = new Uint8Array(replyReadBytes);
        const n = await this.sys.fs.read(this.fromServer, buf, 0, buf.length, null);
        if (n === 0) return this.die('EOF');
        for (const p of decoder.push(buf.subarray(0, n))) {
          const r = decodeQueuedReply(p);
          const settle = this.pending.get(r.id);
          this.pending.delete(r.id);
          settle?.(r.code);
        }
      }
    } catch (e) {
      if (!(e instanceof SysError || e instanceof FrameError)) throw e;
      this.die(e instanceof SysError ? `read: ${e.code}` : e.message);
    }
  }

  /** Every request without a reply ends as if its qmail-queue crashed. */
  die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.sys.log.event('error', 'smtpd.queued_died', { pid: this.pid, why });
    for (const settle of this.pending.values()) settle(null);
    this.pending.clear();
    this.onDeath(why);
  }
}

const frame = encodeQueuedRequestFrame;
/** One read of qmail-queued's replies (about 10 bytes each). */
const replyReadBytes = 4096;

/** The next piece of src, at most a frame's worth, valid until the next call (it is copied into its
 *  frame at once); empty at EOF. A source that can lend its own bytes (readPiece) is not copied
 *  into a buffer first. */
function pieceReader(src: ByteSource): () => Promise<Uint8Array> {
  if (src.readPiece !== undefined) return () => src.readPiece!(queuedPieceBytesMax);
  let buf: Uint8Array | null = null;
  return async () => {
    buf ??= new Uint8Array(queuedPieceBytesMax);
    return buf.subarray(0, await src.read(buf));
  };
}

/** qmail-queued is gone mid-message: the session still reads DATA to its end. */
async function drainSource(next: () => Promise<Uint8Array>): Promise<boolean> {
  try {
    while ((await next()).length > 0);
    return true;
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    return false;
  }
}
