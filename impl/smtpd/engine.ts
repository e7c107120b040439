// The qmail-smtpd protocol engine: a pure state machine (no IO, no clock). The session driver
// (impl/smtpd/session.ts) pushes bytes read from the client and asks next() what to do:
//   read   flush takeOutput() to the client, then push() what it reads (or eof());
//   queue  start qmail-queue for `envelope`, then call queueOpened(ok, nowMs);
//   data   bytes for qmail-queue (the Received line first, then the decoded message);
//   dataEnd  the message is complete: close qmail-queue, then call queueClosed(outcome, nowMs);
//   exit   flush takeOutput() and end with `code`.
// Memory: the pending input is one pushed chunk, a command line is at most commandLineBytesMax,
// DATA is decoded chunk by chunk (impl/smtpd/blast.ts), recipients at most recipientsMax.

import type { ConstMap } from '../lib/constmap.ts';
import { concat, type Envelope } from '../lib/envelope.ts';
import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { CdbError } from '../lib/cdb.ts';
import {
  accepted250, commandLineBytesMax, ehlo250, greeting220, helo250, qqReply, quit221, recipientsMax, smtpdReply as R, hopsMax,
} from '../../spec/smtpd.ts';
import { addrparse, type LocalIp } from './addrparse.ts';
import { addrAllowed, bmfCheck, type RcptHosts } from './rcpthosts.ts';
import { Blast } from './blast.ts';
import { smtpReceived } from './received.ts';

export interface SmtpdConfig {
  greeting: string;
  local: string;
  remoteIp: string;
  remoteHost: string;
  remoteInfo: string | null;
  relayClient: string | null;
  rcptHosts: RcptHosts;
  badMailFrom: ConstMap | null;
  /** 0 = unlimited. */
  databytes: number;
  localIp: LocalIp;
}

export type EngineEvent =
  | { kind: 'read' }
  | { kind: 'queue'; envelope: Envelope }
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'dataEnd' }
  | { kind: 'exit'; code: number };

export interface QueueOutcome {
  kind: 'ok' | 'D' | 'Z';
  /** D or Z + text (impl/lib/qq-message.ts); '' when ok. */
  message: string;
  pid: number | null;
}

type Mode = 'command' | 'awaitQueue' | 'received' | 'data' | 'awaitClose' | 'closed';

const LF = 0x0a;

export class SmtpdEngine {
  private mode: Mode = 'command';
  private input: Uint8Array = new Uint8Array(0);
  /** The start of a command line cut by a read: copies, as the driver reuses its read buffer. */
  private line: Uint8Array[] = [];
  private lineBytes = 0;
  private lineTooLong = false;
  private output: string[] = [];
  private seenMail = false;
  private flagBarf = false;
  private mailFrom = '';
  private rcpts: string[] = [];
  private fakeHelo: string | null = null;
  private blast: Blast | null = null;
  private receivedLine = '';
  private written = 0;
  private poisonedBytes = false;
  private exitCode: number | null = null;

  constructor(private readonly cfg: SmtpdConfig) {
    this.output.push(greeting220(cfg.greeting));
  }

  /** Replies not yet sent (latin1 bytes); the driver writes them before each read and at exit. */
  takeOutput(): Uint8Array {
    const s = this.output.join('');
    this.output = [];
    return latin1Bytes(s);
  }

  /** Bytes the engine holds: pending input, the command line, unsent replies. */
  heldBytes(): number {
    return this.input.length + this.lineBytes + this.output.reduce((n, s) => n + s.length, 0);
  }

  push(bytes: Uint8Array): void {
    if (this.input.length !== 0) throw new Error('smtpd engine: push before the last chunk was used');
    this.input = bytes;
  }

  /** The client closed (or a read failed): qmail exits 1 without a word. */
  eof(): void {
    this.finish(1);
  }

  next(): EngineEvent {
    for (;;) {
      if (this.exitCode !== null) return { kind: 'exit', code: this.exitCode };
      switch (this.mode) {
        case 'command': {
          const ev = this.command();
          if (ev !== null) return ev;
          break;
        }
        case 'received':
          this.mode = 'data';
          return { kind: 'data', bytes: latin1Bytes(this.receivedLine) };
        case 'data':
          return this.data();
        case 'awaitClose':
          if (!this.pendingEnd) throw new Error('smtpd engine: next() before queueClosed()');
          this.pendingEnd = false;
          return { kind: 'dataEnd' };
        default:
          throw new Error(`smtpd engine: next() while ${this.mode}`);
      }
    }
  }

  /** qmail-queue started (ok) or could not be (qqt failure). */
  queueOpened(ok: boolean, nowMs: number): void {
    this.expectMode('awaitQueue');
    if (!ok) {
      this.output.push(R.qqt);
      this.mode = 'command';
      return;
    }
    this.output.push(R.goAhead);
    this.blast = new Blast();
    this.written = 0;
    this.poisonedBytes = false;
    this.receivedLine = smtpReceived({ ...this.cfg, fakeHelo: this.fakeHelo }, nowMs);
    this.mode = 'received';
  }

  /** Was the message poisoned (looping or too big)? Then the driver must not let it be queued. */
  poisoned(): boolean {
    return this.poisonedBytes || (this.blast !== null && this.blast.hops >= hopsMax);
  }

  queueClosed(outcome: QueueOutcome, nowMs: number): void {
    this.expectMode('awaitClose');
    this.mode = 'command';
    const hops = this.blast !== null && this.blast.hops >= hopsMax;
    if (outcome.kind === 'ok' && !this.poisoned() && outcome.pid !== null) this.output.push(accepted250(Math.floor(nowMs / 1000), outcome.pid));
    else if (hops) this.output.push(R.tooManyHops);
    else if (this.poisonedBytes) this.output.push(R.tooBig);
    else this.output.push(qqReply(outcome.kind === 'ok' ? 'Zqq read error (#4.3.0)' : outcome.message));
    this.blast = null;
  }

  private expectMode(m: Mode): void {
    if (this.mode !== m) throw new Error(`smtpd engine: expected ${m}, in ${this.mode}`);
  }

  private finish(code: number): void {
    this.exitCode = code;
    this.mode = 'closed';
  }

  /** Takes one command line from the input, or asks for more. */
  private command(): EngineEvent | null {
    const input = this.input;
    const lf = input.indexOf(LF);
    const upto = lf < 0 ? input.length : lf;
    const room = commandLineBytesMax - this.lineBytes;
    if (upto > room) this.lineTooLong = true;
    const kept = input.subarray(0, Math.min(upto, room));
    this.input = input.subarray(lf < 0 ? input.length : lf + 1);
    if (lf < 0) {
      if (kept.length > 0) this.line.push(kept.slice());
      this.lineBytes += kept.length;
      return { kind: 'read' };
    }
    // A whole line in this chunk (nearly always) is dispatched from the chunk itself.
    const bytes = this.line.length === 0 ? kept : concat([...this.line, kept]);
    const tooLong = this.lineTooLong;
    this.line = [];
    this.lineBytes = 0;
    this.lineTooLong = false;
    if (tooLong) {
      this.output.push(R.lineTooLong);
      return null;
    }
    return this.dispatch(bytes);
  }

  private dispatch(bytes: Uint8Array): EngineEvent | null {
    let text = latin1(bytes);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const nul = text.indexOf('\0');
    if (nul >= 0) text = text.slice(0, nul); // a C string
    const sp = text.indexOf(' ');
    const verb = (sp < 0 ? text : text.slice(0, sp)).toLowerCase();
    const arg = sp < 0 ? '' : text.slice(sp).replace(/^ +/, '');
    switch (verb) {
      case 'helo':
        this.output.push(helo250(this.cfg.greeting));
        return this.helo(arg);
      case 'ehlo':
        this.output.push(ehlo250(this.cfg.greeting));
        return this.helo(arg);
      case 'mail':
        return this.mail(arg);
      case 'rcpt':
        return this.rcpt(arg);
      case 'data':
        return this.dataCommand();
      case 'rset':
        this.seenMail = false;
        this.output.push(R.flushed);
        return null;
      case 'noop':
        this.output.push(R.ok);
        return null;
      case 'vrfy':
        this.output.push(R.vrfy);
        return null;
      case 'help':
        this.output.push(R.help);
        return null;
      case 'quit':
        this.output.push(quit221(this.cfg.greeting));
        this.finish(0);
        return null;
      default:
        this.output.push(R.unimplemented);
        return null;
    }
  }

  private helo(arg: string): null {
    this.seenMail = false;
    this.fakeHelo = arg.toLowerCase() === this.cfg.remoteHost.toLowerCase() ? null : arg;
    return null;
  }

  private mail(arg: string): null {
    const addr = addrparse(arg, this.cfg.localIp);
    if (addr === null) {
      this.output.push(R.syntax);
      return null;
    }
    this.flagBarf = bmfCheck(addr, this.cfg.badMailFrom);
    this.seenMail = true;
    this.rcpts = [];
    this.mailFrom = addr;
    this.output.push(R.ok);
    return null;
  }

  private rcpt(arg: string): null {
    if (!this.seenMail) return this.say(R.wantMail);
    let addr = addrparse(arg, this.cfg.localIp);
    if (addr === null) return this.say(R.syntax);
    if (this.flagBarf) return this.say(R.badMailFrom);
    if (this.cfg.relayClient !== null) addr += this.cfg.relayClient;
    else if (!this.allowed(addr)) return this.exitCode !== null ? null : this.say(R.noGateway);
    if (this.rcpts.length >= recipientsMax) return this.say(R.tooManyRecipients);
    this.rcpts.push(addr);
    return this.say(R.ok);
  }

  private allowed(addr: string): boolean {
    try {
      return addrAllowed(addr, this.cfg.rcptHosts);
    } catch (e) {
      if (!(e instanceof CdbError)) throw e;
      this.output.push(R.dieControl);
      this.finish(1);
      return false;
    }
  }

  private say(reply: string): null {
    this.output.push(reply);
    return null;
  }

  private dataCommand(): EngineEvent | null {
    if (!this.seenMail) return this.say(R.wantMail);
    if (this.rcpts.length === 0) return this.say(R.wantRcpt);
    this.seenMail = false;
    this.mode = 'awaitQueue';
    return { kind: 'queue', envelope: { sender: latin1Bytes(this.mailFrom), recipients: this.rcpts.map(latin1Bytes) } };
  }

  /** Decodes the pending input; emits it (while within databytes) or asks for more. */
  private data(): EngineEvent {
    if (this.input.length === 0) return { kind: 'read' };
    const step = this.blast!.step(this.input);
    this.input = this.input.subarray(step.consumed);
    if (step.end === 'strayNewline') {
      this.output.push(R.strayNewline);
      this.finish(1);
    } else if (step.end === 'done') this.mode = 'awaitClose';
    const bytes = this.withinDatabytes(step.out);
    if (step.end === 'done') return bytes.length > 0 ? this.thenEnd(bytes) : { kind: 'dataEnd' };
    if (this.exitCode !== null) return { kind: 'exit', code: this.exitCode };
    return { kind: 'data', bytes };
  }

  private pendingEnd = false;

  private thenEnd(bytes: Uint8Array): EngineEvent {
    this.pendingEnd = true;
    return { kind: 'data', bytes };
  }

  /** The bytes qmail would still put: up to databytes, then the message is poisoned. */
  private withinDatabytes(out: Uint8Array): Uint8Array {
    if (this.cfg.databytes === 0) return out;
    const room = Math.max(0, this.cfg.databytes - this.written);
    if (out.length > room) this.poisonedBytes = true;
    const keep = out.subarray(0, Math.min(room, out.length));
    this.written += keep.length;
    return this.poisonedBytes ? new Uint8Array(0) : keep;
  }
}
