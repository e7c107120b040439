// Drives the pure qmail-smtpd engine without IO: the client's bytes in chunks, a fake qmail-queue
// that records what it is given and answers with a chosen outcome. Strings are latin1.

import { SmtpdEngine, type QueueOutcome, type SmtpdConfig } from '../../impl/smtpd/engine.ts';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';

export const nowMs = Date.UTC(2026, 10, 21, 22, 57, 35);

export function config(over: Partial<SmtpdConfig> = {}): SmtpdConfig {
  return {
    greeting: 'mx.example.com',
    local: 'mx.example.com',
    remoteIp: '192.0.2.1',
    remoteHost: 'client.example',
    remoteInfo: null,
    relayClient: null,
    rcptHosts: { map: new ConstMap(['example.com', '.example.net'], false), more: null },
    badMailFrom: null,
    databytes: 0,
    localIp: { host: 'mx.example.com', ips: new Set(['192.0.2.25', '127.0.0.1']) },
    ...over,
  };
}

export interface Queued {
  sender: string;
  recipients: string[];
  data: string;
}

export interface Conversation {
  out: string;
  queued: Queued[];
  exit: number | null;
  /** The largest heldBytes() seen after the driver took the output. */
  maxHeld: number;
}

export interface ConverseOpts {
  chunk?: number;
  outcome?: QueueOutcome;
  queueOpens?: boolean;
}

const okOutcome: QueueOutcome = { kind: 'ok', message: '', pid: 4242 };

/** Runs the client's input through the engine to its end (exit, or input used up). */
export function converse(cfg: SmtpdConfig, input: string | Uint8Array, opts: ConverseOpts = {}): Conversation {
  const bytes = typeof input === 'string' ? latin1Bytes(input) : input;
  const chunk = opts.chunk ?? 4096;
  const e = new SmtpdEngine(cfg);
  const readBuf = new Uint8Array(chunk);
  let at = 0;
  let out = '';
  const queued: Queued[] = [];
  let current: Queued | null = null;
  let maxHeld = 0;
  for (let steps = 0; steps < 10_000_000; steps++) {
    const ev = e.next();
    if (ev.kind === 'exit') return { out: out + latin1(e.takeOutput()), queued, exit: ev.code, maxHeld };
    if (ev.kind === 'read') {
      out += latin1(e.takeOutput());
      maxHeld = Math.max(maxHeld, e.heldBytes());
      if (at >= bytes.length) {
        e.eof();
        continue;
      }
      const n = Math.min(chunk, bytes.length - at);
      // One buffer read into again and again, as the session driver does: scribbled over first,
      // so that a view the engine kept of an earlier chunk would show.
      readBuf.fill(0xaa);
      readBuf.set(bytes.subarray(at, at + n));
      e.push(readBuf.subarray(0, n));
      at += n;
    } else if (ev.kind === 'queue') {
      const opens = opts.queueOpens ?? true;
      current = { sender: latin1(ev.envelope.sender), recipients: ev.envelope.recipients.map(latin1), data: '' };
      e.queueOpened(opens, nowMs);
    } else if (ev.kind === 'data') current!.data += latin1(ev.bytes);
    else {
      const poisoned = e.poisoned();
      if (!poisoned && (opts.outcome ?? okOutcome).kind === 'ok') queued.push(current!);
      e.queueClosed(poisoned ? { kind: 'Z', message: 'Zqq read error (#4.3.0)', pid: 4242 } : (opts.outcome ?? okOutcome), nowMs);
      current = null;
    }
  }
  throw new Error('converse: no end');
}
