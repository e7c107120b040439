// The world of scenario net-crash: mta-world.ts's MTA (qmail-start and its daemons, the real local
// channel, the real qmail-rspawn) with mail coming in and going out over the simulated network.
//
// In:  two long-lived `qmail-smtpd --listen` processes (as qmaild, as supervise would run them):
//      127.0.0.1:25 for the world (control/rcpthosts = sim.example: local recipients only) and
//      127.0.0.1:587 for relaying clients (RELAYCLIENT set, as tcprules would). Scripted clients,
//      one connection per message, send generated mail; a client retries a refused connection or a
//      session cut before its final dot, and never after it. A message is accepted iff the client
//      read `250` after its final dot; cut after the dot, or told `451 qq crashed` (its queue
//      writer was killed, perhaps after its commit), it is uncertain.
// Out: one domain per peer behaviour (net-peers.ts), `<kind>.example`, MX -> mx.<kind>.example ->
//      10.0.1.N (accept.example: no MX, its own A record), and client.example (the non-relaying clients' senders: it receives their bounces).
//      remote.example keeps mta-world's permanent DNS failure: its mail is held to the end.
// The listeners are outside qmail-start: a kill of one is restarted a second later by the scenario,
// and a power loss takes both (and the peers' processes) down until the boot. Clients and peers
// are other machines, but the sim's power loss kills every process: the scenario starts the peers
// again and lets each client whose message was not finished carry on (resumeClients).

import type { Prng } from '../prng.ts';
import type { SpawnHandle } from '../world.ts';
import { simIds } from '../install.ts';
import { mtaWorld, mtaMe, remoteDomain, type MtaWorld } from './mta-world.ts';
import { addPeers, peerKinds, startPeers, type NetPeer, type PeerKind, type PeerOdds } from './net-peers.ts';
import { randomText, unknownLocals } from './mta-crash.ts';
import type { LocalUser } from './lspawn-world.ts';
import type { CrashProfile } from '../fs-api.ts';
import type { LogPlace } from '../checkers/send-state.ts';
import { QueuedInstances } from './net-queued.ts';
import type { Program, Sys } from '../../impl/sys/types.ts';
import { SysError } from '../../impl/sys/errors.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';

export const clientDomain = 'client.example';
export const smtpPort = 25;
export const relayPort = 587;
export const clientProgram = 'sim-smtp-client';
/** A client's connection attempts before it gives up on a message (not sent). */
const clientTriesMax = 8;
const clientRetryMs = 20_000;
const connectTimeoutMs = 30_000;

export interface NetMail {
  index: number;
  sender: string;
  /** As the client gave them in RCPT. */
  recipients: string[];
  relay: boolean;
  /** X-Sim-Index: N and the text, LF-ended: what must follow the Received lines in every copy. */
  body: Uint8Array;
  /** Recipients the last session got 250 for: the envelope, once accepted. */
  rcptOk: string[];
  /** The client wrote its final dot (in some session). */
  dotSent: boolean;
  /** The reply to the final dot, or null while none was read. */
  final: string | null;
  /** The client ended and gave up before any final dot. */
  gaveUp: boolean;
  /** Its final dot is written and a live client waits for the reply (where faults are aimed). */
  waiting: boolean;
}

/** How the listeners run: started as root (production: they bind, start one qmail-queued as
 *  qmailq and become qmaild), or as qmaild (a qmail-queue process per message). */
export type ListenAs = 'root' | 'qmaild';

export type MailFate = 'accepted' | 'uncertain' | 'refused' | 'unsent';

/** The reply to the final dot when the queue writer died (qmail-queue by a signal, or qmail-queued
 *  gone without answering): it may have died after its commit (the todo link), so the message may
 *  be queued all the same, as under qmail; the client cannot know. */
const qqCrashedRe = /^451 qq crashed /;

export function fateOf(m: NetMail): MailFate {
  if (m.final !== null && qqCrashedRe.test(m.final)) return 'uncertain';
  if (m.final !== null) return m.final.startsWith('250') ? 'accepted' : 'refused';
  return m.dotSent ? 'uncertain' : 'unsent';
}

export class NetWorld {
  readonly mails: NetMail[] = [];
  readonly peers: NetPeer[] = [];
  readonly listeners = new Map<number, SpawnHandle>();
  /** Per peer domain: the peer's IP (failure texts name it). */
  readonly ipOf = new Map<string, string>();
  /** Where the activity log ends now; the scenario sets it once it boots (net-queued.ts). */
  logPlace: () => LogPlace = () => ({ log: -1, offset: 0 });
  /** The messages each qmail-queued queued, watched from outside. */
  readonly queued: QueuedInstances;

  constructor(
    readonly w: MtaWorld,
    readonly listenAs: ListenAs = 'root',
  ) {
    this.queued = new QueuedInstances(w.k, w.inst.queue, () => this.logPlace());
    // The world already watches every trace record (mta-world.ts); this watches beside it.
    const worldObserve = w.observe.bind(w);
    w.observe = (pid, event, fields) => {
      worldObserve(pid, event, fields);
      this.queued.observe(pid, event, fields);
    };
  }

  /** The live qmail-queue or qmail-queued processes a listener started. */
  queuers(port: number): number[] {
    const l = this.listeners.get(port);
    if (l === undefined || l.status() !== null) return [];
    return [...this.k.procs.values()].filter((p) => p.ppid === l.pid && /^qmail-queued?$/.test(p.argv[0] ?? '')).map((p) => p.pid);
  }

  get k(): MtaWorld['k'] {
    return this.w.k;
  }

  /** Starts (again) every peer process: after the world is made and after a power loss. */
  startPeers(): void {
    startPeers(this.k, this.peers);
  }

  /** Starts qmail-smtpd --listen on a port, as supervise does. */
  startListener(port: number): void {
    const env: Record<string, string> = { QMAILHOME: this.w.inst.home };
    if (port === relayPort) env['RELAYCLIENT'] = '';
    const creds = this.listenAs === 'root' ? { uid: 0, gid: 0 } : { uid: simIds.users.qmaild, gid: simIds.groups.nofiles };
    const h = this.k.spawn(`${this.w.inst.home}/bin/qmail-smtpd`, ['qmail-smtpd', '--listen', `127.0.0.1:${port}`], { env, ...creds });
    this.listeners.set(port, h);
  }

  /** A client (on its own host) sends one message, after delayMs. */
  send(mail: { sender: string; recipients: string[]; relay: boolean; text: string }, delayMs = 0): NetMail {
    const index = this.mails.length;
    const m: NetMail = {
      ...mail, index, body: latin1Bytes(`X-Sim-Index: ${index}\n${mail.text}`), rcptOk: [], dotSent: false, final: null, gaveUp: false, waiting: false,
    };
    this.mails.push(m);
    this.spawnClient(m, delayMs);
    return m;
  }

  /** After a power loss: the clients live on other hosts, so each whose message was not finished
   *  (no final dot written) carries on, as its retry would; one cut after its dot does not. */
  resumeClients(rng: Prng, spreadMs: number): void {
    for (const m of this.mails) m.waiting = false;
    for (const m of this.mails) if (!m.dotSent && m.final === null && !m.gaveUp) this.spawnClient(m, rng.int(spreadMs));
  }

  private spawnClient(m: NetMail, delayMs: number): void {
    this.k.spawn(`/usr/bin/${clientProgram}`, [clientProgram, String(m.index), String(delayMs)], { ip: m.relay ? '10.0.2.2' : '10.0.2.1' });
  }
}

export interface NetWorldOpts {
  seed: number;
  profile: CrashProfile;
  split?: number;
  override?: Record<string, Program>;
  /** Default root. */
  listenAs?: ListenAs;
}

export async function netWorld(opts: NetWorldOpts): Promise<NetWorld> {
  const w = await mtaWorld({ seed: opts.seed, profile: opts.profile, split: opts.split, override: opts.override });
  const { k, inst } = w;
  const root = { uid: 0, gid: 0, mode: 0o644 };
  k.writeFile(`${inst.home}/control/rcpthosts`, `${mtaMe}\n`, root);
  // A hung peer costs a remote slot this long (qmail's default is 1200 s).
  k.writeFile(`${inst.home}/control/timeoutremote`, '300\n', root);
  const nw = new NetWorld(w, opts.listenAs ?? 'root');
  const odds = drawOdds(k.prng('peer-odds'));
  const sites = [...peerKinds.map((kind) => ({ domain: `${kind}.example`, kind })), { domain: clientDomain, kind: 'accept' as PeerKind }];
  // accept.example has no MX: qmail-remote falls back to its A record.
  const { peers, ipOf } = addPeers(k, sites.map((s) => ({ ...s, noMx: s.domain === 'accept.example' })), odds, () => w.epoch);
  nw.peers.push(...peers);
  for (const [domain, ip] of ipOf) nw.ipOf.set(domain, ip);
  k.programs.register(clientProgram, clientMain(nw));
  k.install(`/usr/bin/${clientProgram}`, clientProgram, { uid: 0, gid: 0, mode: 0o755 });
  return nw;
}

function drawOdds(rng: Prng): PeerOdds {
  return { hangGreeting: 0.05 + 0.1 * rng.float(), hangRcpt: 0.05 + 0.1 * rng.float(), afterDot: 0.15 + 0.25 * rng.float() };
}

/** Generated mail: relaying clients send from local users (or <>) to local and remote recipients;
 *  the others from client.example or remote.example to local ones (a remote one is refused). */
export function randomNetMail(rng: Prng, nw: NetWorld): { sender: string; recipients: string[]; relay: boolean; text: string } {
  const { maildir, mbox, program, forward } = nw.w.users;
  const local = (u: LocalUser): string => `${u.name}@${mtaMe}`;
  const relay = rng.chance(0.6);
  const sender = relay
    ? rng.pick([...maildir.map(local), ...mbox.map(local), local(program[0] as LocalUser), '', `ghost@${mtaMe}`])
    : rng.pick([`c${rng.int(3)}@${clientDomain}`, `sender@${remoteDomain}`]);
  const n = 1 + rng.int(rng.chance(0.1) ? 5 : 3);
  const recipients = Array.from({ length: n }, () => {
    const roll = rng.float();
    if (roll < 0.25) return local(rng.pick(maildir));
    if (roll < 0.32) return local(rng.pick(mbox));
    if (roll < 0.37) return local(rng.pick(program));
    if (roll < 0.42) return local(rng.pick(forward));
    if (roll < 0.47) return `${rng.pick(unknownLocals.slice(0, 3))}@${mtaMe}`;
    if (roll < 0.49) return `r${rng.int(3)}@${remoteDomain}`;
    const kind = rng.pick(peerKinds);
    return `${kind === 'reject' && rng.chance(0.5) ? 'bad' : 'r'}${rng.int(4)}@${kind}.example`;
  });
  return { sender, recipients, relay, text: stuffable(rng, randomText(rng)) };
}

/** Now and then a line that SMTP must dot-stuff. */
function stuffable(rng: Prng, text: string): string {
  return rng.chance(0.2) ? text.replace(/\n$/, '\n.dot line\n..two dots\n') : text;
}

// ---- the client ----

function clientMain(nw: NetWorld): Program {
  return async (sys) => {
    const m = nw.mails[Number(sys.proc.self.argv[1])];
    if (m === undefined) return 100;
    await sys.clock.sleep(Number(sys.proc.self.argv[2] ?? 0));
    for (let attempt = 0; attempt < clientTriesMax; attempt++) {
      if (attempt > 0) await sys.clock.sleep(clientRetryMs * attempt);
      const done = await session(sys, m).catch((e: unknown) => {
        if (!(e instanceof SysError)) throw e;
        return false;
      });
      // After the final dot the client never sends again: the message may be queued already.
      if (done || m.dotSent) return 0;
    }
    m.gaveUp = true;
    return 0;
  };
}

/** One SMTP session; true when it ran to the end (accepted, refused or no recipient taken). */
async function session(sys: Sys, m: NetMail): Promise<boolean> {
  const c = await sys.net.connect({ host: '127.0.0.1', port: m.relay ? relayPort : smtpPort }, connectTimeoutMs);
  const r = new ReplyReader(sys, c.fd);
  try {
    const say = async (line: string): Promise<string | null> => {
      await writeAll(sys, c.fd, latin1Bytes(line));
      return r.reply();
    };
    if (!(await r.reply())?.startsWith('220')) return false;
    if (!(await say('HELO client\r\n'))?.startsWith('250')) return false;
    if (!(await say(`MAIL FROM:<${m.sender}>\r\n`))?.startsWith('250')) return false;
    const ok: string[] = [];
    for (const rcpt of m.recipients) {
      const got = await say(`RCPT TO:<${rcpt}>\r\n`);
      if (got === null) return false;
      if (got.startsWith('250')) ok.push(rcpt);
    }
    m.rcptOk = ok;
    if (ok.length === 0) {
      m.final = 'no recipient accepted';
      await say('QUIT\r\n');
      return true;
    }
    if (!(await say('DATA\r\n'))?.startsWith('354')) return false;
    await writeAll(sys, c.fd, latin1Bytes(smtpData(latin1(m.body))));
    m.dotSent = true;
    m.waiting = true;
    const final = await r.reply();
    if (final === null) return false;
    m.final = final;
    await say('QUIT\r\n');
    return true;
  } finally {
    m.waiting = false;
    await sys.fs.close(c.fd).catch(() => undefined);
  }
}

/** The body with CRLF line ends, dot-stuffed, and the final dot. */
export function smtpData(body: string): string {
  return `${body.replace(/\n$/, '').split('\n').map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}\r\n.\r\n`;
}

/** SMTP replies (the last line of a multi-line one), or null at EOF. */
class ReplyReader {
  private buf = '';
  private readonly chunk = new Uint8Array(1024);

  constructor(
    private readonly sys: Sys,
    private readonly fd: number,
  ) {}

  async reply(): Promise<string | null> {
    for (;;) {
      const m = /(^|\r\n)([0-9]{3}) [^\r\n]*\r\n/.exec(this.buf);
      if (m !== null) {
        const end = m.index + m[0].length;
        const line = this.buf.slice(m.index + m[1]!.length, end);
        this.buf = this.buf.slice(end);
        return line;
      }
      const n = await this.sys.fs.read(this.fd, this.chunk, 0, this.chunk.length, null);
      if (n === 0) return null;
      this.buf += latin1(this.chunk.subarray(0, n));
    }
  }
}
