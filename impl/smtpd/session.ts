// One SMTP session: drives the engine (impl/smtpd/engine.ts) over an input fd and an output fd,
// and queues each message through a QueueClient (./queue-client.ts: qmail-queue per message, or
// the listener's qmail-queued) while DATA streams in.
// Every read and write waits at most timeoutMs: a read timeout says "451 timeout" and ends the
// session with 1, a write timeout ends it with 1 (qmail's timeoutread/timeoutwrite). One timer per
// session watches them all (./watchdog.ts) rather than one set and cleared per read and write.

import type { Fd, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { spawnQueueClient, type QueueClient } from './queue-client.ts';
import type { ByteSource } from '../queue/enqueue.ts';
import type { Envelope } from '../lib/envelope.ts';
import { smtpdReadBytes, smtpdReply } from '../../spec/smtpd.ts';
import { latin1Bytes } from '../lib/latin1.ts';
import { SmtpdEngine, type SmtpdConfig } from './engine.ts';
import { Watchdog } from './watchdog.ts';

export interface SessionOpts {
  home: string;
  /** The environment qmail-queue gets (QMAILQUEUE, NULLQUEUE, ERROR_FD decide which one runs). */
  env: Record<string, string>;
  inFd: Fd;
  outFd: Fd;
  timeoutMs: number;
  /** How messages are queued (default: qmail-queue per message, spawnQueueClient). */
  queue?: QueueClient;
}

/** Thrown inside the session when it must end now (timeout, EOF, write failure). */
class SessionEnd extends Error {
  constructor(readonly code: number) {
    super(`session end ${code}`);
  }
}

/** Runs the session to its end; returns the exit code (0 after QUIT, 1 otherwise). */
export async function runSession(sys: Sys, cfg: SmtpdConfig, opts: SessionOpts): Promise<number> {
  const io = new SessionIo(sys, opts);
  const engine = new SmtpdEngine(cfg);
  try {
    for (;;) {
      const ev = engine.next();
      if (ev.kind === 'exit') {
        await io.write(engine.takeOutput()).catch(() => undefined);
        return ev.code;
      }
      if (ev.kind === 'read') await io.fill(engine);
      else if (ev.kind === 'queue') await queueOne(sys, engine, io, ev.envelope, opts);
      else throw new Error(`smtpd session: ${ev.kind} outside DATA`);
    }
  } catch (e) {
    if (e instanceof SessionEnd) return e.code;
    throw e;
  } finally {
    io.end();
  }
}

class SessionIo {
  /** Read into again and again: the engine keeps no view of a chunk past the next read (it copies
   *  a command line cut by a read, and decodes DATA into new bytes). */
  private readonly buf = new Uint8Array(smtpdReadBytes);
  private readonly watchdog: Watchdog;

  constructor(
    private readonly sys: Sys,
    private readonly opts: SessionOpts,
  ) {
    this.watchdog = new Watchdog(sys.clock, opts.timeoutMs);
  }

  /** The session is over: its timer goes. */
  end(): void {
    this.watchdog.stop();
  }

  /** Flushes the replies, then reads one chunk into the engine (EOF or an error: eof()). */
  async fill(engine: SmtpdEngine): Promise<void> {
    await this.write(engine.takeOutput());
    const n = await this.timed(this.sys.fs.read(this.opts.inFd, this.buf, 0, this.buf.length, null), async () => {
      await this.write(latin1Bytes(smtpdReply.dieAlarm)).catch(() => undefined);
    }).catch((e: unknown) => {
      if (e instanceof SysError) return 0;
      throw e;
    });
    if (n === 0) engine.eof();
    else engine.push(this.buf.subarray(0, n));
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const w = this.sys.fs.write(this.opts.outFd, bytes, off, bytes.length - off, null);
      off += await this.timed(w, async () => undefined).catch((e: unknown) => {
        if (e instanceof SysError) throw new SessionEnd(1);
        throw e;
      });
    }
  }

  /** p, or SessionEnd(1) after onTimeout when it takes longer than timeoutMs. */
  private timed<T>(p: Promise<T>, onTimeout: () => Promise<void>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const watch = this.watchdog.watch(() => {
        if (done) return;
        done = true;
        void onTimeout().finally(() => reject(new SessionEnd(1)));
      });
      p.then(
        (v) => {
          if (done) return;
          done = true;
          this.watchdog.done(watch);
          resolve(v);
        },
        (e: unknown) => {
          if (done) return;
          done = true;
          this.watchdog.done(watch);
          reject(e);
        },
      );
    });
  }
}

/** DATA: qmail-queue runs while the message streams from the client into it. */
async function queueOne(sys: Sys, engine: SmtpdEngine, io: SessionIo, envelope: Envelope, opts: SessionOpts): Promise<void> {
  const src = new DataSource(sys, engine, io);
  const queue = opts.queue ?? spawnQueueClient(sys, opts.home, opts.env);
  const result = await queue.queue(src, envelope);
  if (result === null) {
    if (src.started) throw new Error('smtpd session: queue refused after reading DATA');
    engine.queueOpened(false, sys.clock.nowMs()); // 451 qqt failure, and back to commands
    return;
  }
  if (src.ended !== null) throw new SessionEnd(src.ended);
  // qmail-queue may have stopped reading early (or never started): the rest of DATA is still read.
  await src.drain();
  if (src.ended !== null) throw new SessionEnd(src.ended);
  engine.queueClosed({ kind: result.kind, message: result.message, pid: result.pid }, sys.clock.nowMs());
}

/** The message as qmail-queue reads it: pulled from the engine, which pulls from the client. */
class DataSource implements ByteSource {
  started = false;
  private finished = false;
  private left: Uint8Array = new Uint8Array(0);
  /** Set when the session must end (client gone, stray newline, timeout): the exit code. */
  ended: number | null = null;

  constructor(
    private readonly sys: Sys,
    private readonly engine: SmtpdEngine,
    private readonly io: SessionIo,
  ) {}

  async read(buf: Uint8Array): Promise<number> {
    const piece = await this.readPiece(buf.length);
    buf.set(piece);
    return piece.length;
  }

  /** The engine's decoded bytes themselves: each data event's are new (impl/smtpd/blast.ts). */
  async readPiece(max: number): Promise<Uint8Array> {
    if (!this.started) {
      this.started = true;
      this.engine.queueOpened(true, this.sys.clock.nowMs()); // S: 354 go ahead, qmail-queue is running
    }
    while (this.left.length === 0) {
      if (this.finished) return this.poisonOrEnd();
      await this.pull();
    }
    const piece = this.left.subarray(0, max);
    this.left = this.left.subarray(piece.length);
    return piece;
  }

  /** True when the next read() needs no I/O: bytes or the end of DATA are already in the engine.
   *  Takes the engine's next data event ahead (read and exit events change nothing there). */
  ready(): boolean {
    if (!this.started) return false;
    while (this.left.length === 0 && !this.finished) {
      const ev = this.engine.next();
      if (ev.kind === 'data') this.left = ev.bytes;
      else if (ev.kind === 'dataEnd') this.finished = true;
      else return false;
    }
    return true;
  }

  /** Reads DATA to its end, dropping what is left (the engine's own pieces: nothing is copied,
   *  and after a message read whole, as nearly always, nothing is allocated). */
  async drain(): Promise<void> {
    try {
      while ((await this.readPiece(smtpdReadBytes)).length > 0);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }

  /** At the end: a poisoned message (too many hops, too big) fails the write so nothing is queued. */
  private poisonOrEnd(): Uint8Array {
    if (this.engine.poisoned()) throw new SysError('EPIPE', 'write');
    return new Uint8Array(0);
  }

  private async pull(): Promise<void> {
    const ev = this.engine.next();
    if (ev.kind === 'data') this.left = ev.bytes;
    else if (ev.kind === 'dataEnd') this.finished = true;
    else if (ev.kind === 'read') {
      try {
        await this.io.fill(this.engine);
      } catch (e) {
        if (e instanceof SessionEnd) return this.end(e.code);
        throw e;
      }
    } else if (ev.kind === 'exit') {
      await this.io.write(this.engine.takeOutput()).catch(() => undefined);
      this.end(ev.code);
    } else throw new Error(`smtpd session: ${ev.kind} inside DATA`);
  }

  /** The client is gone: fail qmail-queue's input so it queues nothing. */
  private end(code: number): never {
    this.ended = code;
    this.finished = true;
    throw new SysError('EPIPE', 'read');
  }
}
