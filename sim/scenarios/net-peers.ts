// The remote side of scenario net-crash: scripted SMTP peers on other simulated hosts, each with
// one behaviour, and a record of every message each one kept (its envelope and bytes), which is
// what "delivered to a remote recipient" means to the ledger.
//
//   accept    250 to everything;
//   reject    550 to recipients whose local part starts with `bad` (qmail-remote: a bounce);
//   greylist  451 to a (sender, recipient) pair the first time it is seen, 250 after that;
//   hang      now and then never answers: at the greeting, at a RCPT, or after the final dot
//             (kept or not: the client cannot tell, its timeout must fire);
//   reset     now and then closes the connection after the final dot instead of answering,
//             having kept the message or not;
//   outage    accepts while reachable; the scenario makes the host refuse, time out or vanish
//             (sim/net.ts host faults) during the faulty phase.
// Peers are other machines: their records and greylists live outside the world and survive the
// MTA host's power loss; the sim kills their processes with it, so the scenario starts them again.
// Their draws come from their own PRNG stream, in the order sessions happen: same seed, same run.

import type { Program, Sys } from '../../impl/sys/types.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import type { Prng } from '../prng.ts';
import type { Kernel } from '../kernel.ts';

export type PeerKind = 'accept' | 'reject' | 'greylist' | 'hang' | 'reset' | 'outage';
export const peerKinds: readonly PeerKind[] = ['accept', 'reject', 'greylist', 'hang', 'reset', 'outage'];

/** What a peer does after the final dot of one message. */
export type FinalAct = 'ok' | 'reset-kept' | 'reset-lost' | 'hang-kept' | 'hang-lost';

export interface PeerRecord {
  peer: string;
  sender: string;
  recipients: string[];
  /** The message as queued: CRLF turned back into LF, dot-stuffing undone. */
  mess: Uint8Array;
  /** The world's epoch when the peer kept it. */
  epoch: number;
  /** Kept, but the client never got the 250 (a reset or hang after the dot). */
  window: boolean;
}

/** Per-seed odds of a peer's misbehaviour, per session. */
export interface PeerOdds {
  hangGreeting: number;
  hangRcpt: number;
  afterDot: number;
}

export const rejectText = '550 sorry, no mailbox here by that name (#5.1.1)\r\n';
export const greylistText = '451 greylisted, try again later (#4.3.0)\r\n';

export class NetPeer {
  readonly records: PeerRecord[] = [];
  /** Times each act happened, for the fault-free test's coverage. */
  readonly acts: Record<string, number> = {};
  private readonly greylist = new Set<string>();

  constructor(
    readonly name: string,
    readonly ip: string,
    readonly kind: PeerKind,
    readonly odds: PeerOdds,
    private readonly rng: Prng,
    private readonly epoch: () => number,
  ) {}

  program(): Program {
    return async (sys) => {
      const l = await sys.net.listen({ host: this.ip, port: 25 });
      for (;;) {
        const c = await l.accept();
        void this.serve(sys, c.fd);
      }
    };
  }

  /** One session, then its connection closed, however it ended (a client gone mid-reply is a
   *  SysError): a peer that kept them would run out of fds after a day's sessions. A hang never
   *  ends; its client closes its own end. */
  private async serve(sys: Sys, fd: number): Promise<void> {
    try {
      await this.session(sys, fd);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
    await sys.fs.close(fd).catch(() => undefined);
  }

  private count(act: string): void {
    this.acts[act] = (this.acts[act] ?? 0) + 1;
  }

  private misbehaves(p: number): boolean {
    return (this.kind === 'hang' || this.kind === 'reset') && this.rng.chance(p);
  }

  private rcptReply(sender: string, rcpt: string): string | 'hang' {
    if (this.kind === 'hang' && this.misbehaves(this.odds.hangRcpt)) return 'hang';
    if (this.kind === 'reject' && /^bad/.test(rcpt)) return rejectText;
    const pair = `${sender}\0${rcpt}`;
    if (this.kind === 'greylist' && !this.greylist.has(pair)) {
      this.greylist.add(pair);
      return greylistText;
    }
    return '250 ok\r\n';
  }

  private finalAct(): FinalAct {
    if (!this.misbehaves(this.odds.afterDot)) return 'ok';
    const kept = this.rng.chance(0.5);
    if (this.kind === 'hang') return kept ? 'hang-kept' : 'hang-lost';
    return kept ? 'reset-kept' : 'reset-lost';
  }

  private async session(sys: Sys, fd: number): Promise<void> {
    const say = (text: string): Promise<void> => writeAll(sys, fd, latin1Bytes(text));
    const hang = async (act: string): Promise<never> => {
      this.count(act);
      return new Promise<never>(() => undefined);
    };
    if (this.kind === 'hang' && this.misbehaves(this.odds.hangGreeting)) await hang('hang-greeting');
    await say(`220 ${this.name} ESMTP\r\n`);
    const lines = new LineReader(sys, fd);
    let sender = '';
    let rcpts: string[] = [];
    for (;;) {
      const line = await lines.next();
      if (line === null) return;
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'HELO' || verb === 'EHLO') await say(`250 ${this.name}\r\n`);
      else if (verb === 'MAIL') {
        sender = /<(.*)>/.exec(line)?.[1] ?? '';
        rcpts = [];
        await say('250 ok\r\n');
      } else if (verb === 'RCPT') {
        const rcpt = /<(.*)>/.exec(line)?.[1] ?? '';
        const r = this.rcptReply(sender, rcpt);
        if (r === 'hang') await hang('hang-rcpt');
        this.count(r.slice(0, 3));
        if (r.startsWith('250')) rcpts.push(rcpt);
        await say(r as string);
      } else if (verb === 'DATA') {
        if (rcpts.length === 0) {
          await say('503 no valid recipients\r\n');
          continue;
        }
        await say('354 go ahead\r\n');
        const body = await lines.data();
        if (body === null) return;
        const act = this.finalAct();
        this.count(act);
        if (act !== 'reset-lost' && act !== 'hang-lost') {
          this.records.push({ peer: this.name, sender, recipients: rcpts, mess: latin1Bytes(body), epoch: this.epoch(), window: act !== 'ok' });
        }
        if (act === 'ok') await say('250 ok kept\r\n');
        else if (act.startsWith('hang')) await new Promise<never>(() => undefined);
        else return; // the reset: serve closes the connection
        rcpts = [];
      } else if (verb === 'QUIT') {
        await say('221 bye\r\n');
        return;
      } else if (verb === 'RSET') {
        rcpts = [];
        await say('250 ok\r\n');
      } else await say('502 unimplemented\r\n');
    }
  }
}

/** A domain served by one scripted peer; noMx: no MX record, qmail-remote falls back to its A. */
export interface PeerSite {
  domain: string;
  kind: PeerKind;
  noMx?: boolean;
}

export interface Peers {
  peers: NetPeer[];
  /** domain -> the peer's address. */
  ipOf: Map<string, string>;
}

/** One peer per site: MX -> mx.<domain> -> 10.0.1.N (N counts the sites from 1), its program
 *  installed as /usr/bin/smtp-peer-mx.<domain>, its draws from the stream `peer-<domain>`. */
export function addPeers(k: Kernel, sites: readonly PeerSite[], odds: PeerOdds, epoch: () => number): Peers {
  const out: Peers = { peers: [], ipOf: new Map() };
  sites.forEach(({ domain, kind, noMx }, i) => {
    const ip = `10.0.1.${i + 1}`;
    const peer = new NetPeer(`mx.${domain}`, ip, kind, odds, k.prng(`peer-${domain}`), epoch);
    out.peers.push(peer);
    out.ipOf.set(domain, ip);
    if (noMx === true) k.net.setA(domain, [ip]);
    else {
      k.net.setMx(domain, [{ exchange: peer.name, priority: 10 }]);
      k.net.setA(peer.name, [ip]);
    }
    const name = `smtp-peer-${peer.name}`;
    k.programs.register(name, peer.program());
    k.install(`/usr/bin/${name}`, name, { uid: 0, gid: 0, mode: 0o755 });
  });
  return out;
}

/** Starts (again) every peer's process: once the world is made, and after each power loss. */
export function startPeers(k: Kernel, peers: readonly NetPeer[]): void {
  for (const p of peers) k.spawn(`/usr/bin/smtp-peer-${p.name}`, [`smtp-peer-${p.name}`], { ip: p.ip });
}

/** CRLF lines from a socket; data() reads a DATA body up to the final dot, un-stuffed, LF-ended. */
class LineReader {
  private buf = '';
  private readonly chunk = new Uint8Array(8192);

  constructor(
    private readonly sys: Sys,
    private readonly fd: number,
  ) {}

  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 2);
        return line;
      }
      const n = await this.sys.fs.read(this.fd, this.chunk, 0, this.chunk.length, null);
      if (n === 0) return null;
      this.buf += latin1(this.chunk.subarray(0, n));
    }
  }

  async data(): Promise<string | null> {
    const out: string[] = [];
    for (;;) {
      const line = await this.next();
      if (line === null) return null;
      if (line === '.') return out.join('');
      out.push(`${line.startsWith('.') ? line.slice(1) : line}\n`);
    }
  }
}
