// Generated traffic: messages and envelopes drawn from a seed and an index, so that a checker can
// regenerate exactly what a client submitted without keeping it in memory; and, below, fast-check
// arbitraries and model-based commands for users' own scenarios over a World (sim/world-api.ts).

import { Prng } from './prng.ts';
import type { Envelope } from '../impl/lib/envelope.ts';
import { concat } from '../impl/lib/envelope.ts';
import { addressBytesMax } from '../spec/limits.ts';
import fc from 'fast-check';
import { daemons, dotQmailText, mtaMe, remoteDomain, sentinelMail, type Daemon, type DotQmail, type Mail, type World } from './world-api.ts';

export interface GeneratedMessage {
  index: number;
  message: Uint8Array;
  envelope: Envelope;
}

const enc = new TextEncoder();
const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
const alnumBytes = new TextEncoder().encode(alnum);
/** A random byte's text character in body(): one lookup instead of a modulo per byte. */
const textBytes = Uint8Array.from({ length: 256 }, (_, b) => alnumBytes[b % alnumBytes.length] as number);

function word(rng: Prng, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += alnum[rng.int(alnum.length)];
  return s;
}

function address(rng: Prng): string {
  if (rng.chance(0.01)) {
    const domain = '@example.org';
    return 'x'.repeat(addressBytesMax - 1 - domain.length) + domain; // the longest address qmail takes
  }
  if (rng.chance(0.02)) return ''; // the null sender / an empty recipient: qmail-queue does not judge
  return `${word(rng, 1, 12)}@${word(rng, 2, 10)}.${rng.pick(['com', 'org', 'net', 'example'])}`;
}

/** Body sizes: mostly small, some large, a few with 8-bit and NUL bytes (copied untouched). */
function body(rng: Prng): Uint8Array {
  const roll = rng.float();
  const size = roll < 0.8 ? rng.int(4000) : roll < 0.97 ? 4000 + rng.int(60_000) : 64_000 + rng.int(200_000);
  const out = rng.bytes(size);
  if (rng.chance(0.1)) return out;
  // Text: letters and digits in lines of at most 77 bytes, ending with a newline.
  let col = 0;
  for (let i = 0; i < size; i++) {
    const b = out[i] as number;
    if (col >= 76 || b < 4) {
      out[i] = 0x0a;
      col = 0;
    } else {
      out[i] = textBytes[b] as number;
      col++;
    }
  }
  if (size > 0) out[size - 1] = 0x0a;
  return out;
}

export function generateMessage(seed: number, index: number): GeneratedMessage {
  const rng = new Prng(seed, `message:${index}`);
  const sender = address(rng);
  const recipients = Array.from({ length: 1 + rng.int(rng.chance(0.05) ? 50 : 4) }, () => address(rng));
  const head = enc.encode(`X-Sim-Index: ${index}\nFrom: <${sender}>\nSubject: ${word(rng, 1, 30)}\n\n`);
  return {
    index,
    message: concat([head, body(rng)]),
    envelope: { sender: enc.encode(sender), recipients: recipients.map((r) => enc.encode(r)) },
  };
}

/** The index a generated message carries in its first header line, or null. */
export function indexOf(body: Uint8Array): number | null {
  const m = /^X-Sim-Index: ([0-9]+)\n/.exec(new TextDecoder().decode(body.subarray(0, 40)));
  return m === null ? null : Number(m[1]);
}

// ---- fast-check arbitraries and model-based commands for a World (sim/world-api.ts) ----
//
// For users' own scenarios: addresses, envelopes and message texts over a World's users, .qmail
// files, faults, and worldCommands(): fast-check commands (fc.commands) over the whole MTA with a
// model of what was accepted, checked after every step and, healed and idle, at the end
// (settleAndCheck). Randomness comes only from fast-check's seed and the world's.

/** Local parts no user has: qmail-local bounces them ("no mailbox here by that name"). */
export const unknownLocalArb: fc.Arbitrary<string> = fc.nat(99).map((n) => `nosuch${n}`);

/** An address: one of `users` at the world's domain, an unknown local one, or a remote one (its
 *  host never resolves: deferred and held). */
export function addressArb(users: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...users).map((u) => `${u}@${mtaMe}`) },
    { weight: 1, arbitrary: unknownLocalArb.map((u) => `${u}@${mtaMe}`) },
    { weight: 2, arbitrary: fc.nat(4).map((n) => `r${n}@${remoteDomain}`) },
  );
}

/** An envelope sender: a user, a remote address, the null sender, or an unknown local address
 *  (a bounce to it fails: a double bounce to postmaster). */
export function senderArb(users: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...users).map((u) => `${u}@${mtaMe}`),
    fc.constant(`sender@${remoteDomain}`),
    fc.constant(''),
    fc.constant(`ghost@${mtaMe}`),
  );
}

/** An envelope over `users`: a sender and one to five recipients (repeats allowed). */
export function envelopeArb(users: readonly string[]): fc.Arbitrary<{ sender: string; recipients: string[] }> {
  return fc.record({ sender: senderArb(users), recipients: fc.array(addressArb(users), { minLength: 1, maxLength: 5 }) });
}

const plainChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 .,:-'.split(''));
const eightBitChar = fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c));

/** One body line: plain text, 8-bit bytes, a long line, a line an mbox quotes (`From `,
 *  `>From `), or dots (SMTP's business, untouched here). No NUL, no newline. */
export const bodyLineArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: plainChar, maxLength: 70 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.oneof(plainChar, eightBitChar), maxLength: 70 }) },
  { weight: 1, arbitrary: fc.integer({ min: 998, max: 4000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: plainChar, maxLength: 30 }).map((s) => `From ${s}`) },
  { weight: 1, arbitrary: fc.string({ unit: plainChar, maxLength: 30 }).map((s) => `>From ${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '.x') },
);

/** A message text (what follows the World's `X-Sim-Index` line): a Subject, an empty line and
 *  body lines, ending with a newline (an mbox adds one to a text without). */
export const messageTextArb: fc.Arbitrary<string> = fc
  .tuple(fc.string({ unit: plainChar, maxLength: 40 }), fc.array(bodyLineArb, { maxLength: 12 }))
  .map(([subject, lines]) => `Subject: ${subject}\n\n${lines.map((l) => `${l}\n`).join('')}`);

/** A whole message to inject. */
export function mailArb(users: readonly string[]): fc.Arbitrary<Mail> {
  return fc.tuple(envelopeArb(users), messageTextArb).map(([e, text]) => ({ ...e, text }));
}

/** A .qmail: Maildir, mbox, a program exiting 0/99/100/111, or a forward to `targets` (addresses
 *  whose own .qmail never forwards, so that no copy loops). */
export function dotQmailArb(targets: readonly string[]): fc.Arbitrary<DotQmail> {
  return fc.oneof(
    fc.constant<DotQmail>({ kind: 'maildir' }),
    fc.constant<DotQmail>({ kind: 'mbox' }),
    fc.constantFrom<DotQmail>(...([0, 99, 100, 111] as const).map((exit) => ({ kind: 'program' as const, exit }))),
    fc.array(addressArb(targets), { minLength: 1, maxLength: 2 }).map((to): DotQmail => ({ kind: 'forward', to })),
  );
}

export type Fault = { kind: 'power' } | { kind: 'kill'; daemon: Daemon };

/** A fault: a power loss, or kill -9 of a daemon or a delivery worker. */
export const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.constant<Fault>({ kind: 'power' }),
  fc.constantFrom(...daemons).map((daemon): Fault => ({ kind: 'kill', daemon })),
);

/** What the model expects of one recipient when its message was accepted. */
export type Expectation = 'deliver' | 'bounce' | 'defer' | 'held';

/** The model of a World under commands. */
export interface WorldModel {
  /** Users the commands may edit, with their current .qmail. */
  dotQmail: Map<string, DotQmail>;
  accepted: { index: number; mail: Mail; expect: Expectation[] }[];
  /** Power losses and kills so far (the window in which duplicates are allowed). */
  faults: number;
}

/** The model of a fresh createWorld() world: b1, b2 mbox; p1, p2 a program; f1, f2 forwards. */
export function initialModel(): WorldModel {
  const dotQmail = new Map<string, DotQmail>([
    ['b1', { kind: 'mbox' }], ['b2', { kind: 'mbox' }],
    ['p1', { kind: 'program', exit: 0 }], ['p2', { kind: 'program', exit: 0 }],
    ['f1', { kind: 'forward', to: [`m1@${mtaMe}`] }], ['f2', { kind: 'forward', to: [`m2@${mtaMe}`, `f2-away@${remoteDomain}`] }],
  ]);
  return { dotQmail, accepted: [], faults: 0 };
}

function expectationOf(m: WorldModel, address: string): Expectation {
  const [local, domain] = address.split('@') as [string, string];
  if (domain !== mtaMe) return 'held';
  if (local.startsWith('nosuch') || local === 'ghost') return 'bounce';
  const d = m.dotQmail.get(local);
  return d?.kind !== 'program' ? 'deliver' : d.exit === 100 ? 'bounce' : d.exit === 111 ? 'defer' : 'deliver';
}

/** After every step: the cheap invariants (World.stepViolations). */
function stepCheck(w: World, what: string): void {
  const v = w.stepViolations();
  if (v.length > 0) throw new Error(`after ${what}: ${v.slice(0, 5).join('; ')}`);
}

type WorldCommand = fc.AsyncCommand<WorldModel, World>;

class InjectCommand implements WorldCommand {
  constructor(readonly mail: Mail) {}
  check = (): boolean => true;
  async run(m: WorldModel, w: World): Promise<void> {
    const r = await w.inject(this.mail);
    if (r.code !== 0) throw new Error(`${this.toString()}: qmail-queue exited ${r.code}`);
    m.accepted.push({ index: r.index, mail: this.mail, expect: this.mail.recipients.map((a) => expectationOf(m, a)) });
    stepCheck(w, this.toString());
  }
  toString = (): string => `Inject(<${this.mail.sender}> ${this.mail.recipients.join(' ')}, ${this.mail.text?.length ?? 0} bytes)`;
}

class RunForCommand implements WorldCommand {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(_m: WorldModel, w: World): Promise<void> {
    await w.advance(this.ms);
    stepCheck(w, this.toString());
  }
  toString = (): string => `RunFor(${this.ms} ms)`;
}

class FaultCommand implements WorldCommand {
  constructor(readonly fault: Fault) {}
  check = (): boolean => true;
  async run(m: WorldModel, w: World): Promise<void> {
    if (this.fault.kind === 'power') await w.crash();
    else await w.kill(this.fault.daemon);
    m.faults++;
    stepCheck(w, this.toString());
  }
  toString = (): string => (this.fault.kind === 'power' ? 'Crash' : `Kill(${this.fault.daemon})`);
}

class RestartCommand implements WorldCommand {
  check = (): boolean => true;
  async run(_m: WorldModel, w: World): Promise<void> {
    await w.restart();
    stepCheck(w, this.toString());
  }
  toString = (): string => 'Restart';
}

class EditDotQmailCommand implements WorldCommand {
  constructor(readonly user: string, readonly d: DotQmail) {}
  check = (m: Readonly<WorldModel>): boolean => m.dotQmail.has(this.user);
  async run(m: WorldModel, w: World): Promise<void> {
    w.setDotQmail(this.user, '', dotQmailText(this.d));
    m.dotQmail.set(this.user, this.d);
    stepCheck(w, this.toString());
  }
  toString = (): string => `EditDotQmail(${this.user}, ${JSON.stringify(dotQmailText(this.d))})`;
}

export interface WorldCommandsOpts {
  /** Users mail goes to and senders are drawn from (default createWorld's m1..m6, b1, b2, p1, p2,
   *  f1, f2). */
  users?: readonly string[];
  /** Users whose .qmail EditDotQmail may change (default b1, b2, p1, p2, f1, f2); the rest never
   *  forward, and forwards go only to them. */
  editable?: readonly string[];
  /** Which faults to draw (default all). */
  faults?: fc.Arbitrary<Fault>;
  maxCommands?: number;
  /** fast-check's replayPath for commands (printed in a counterexample). */
  replayPath?: string;
}

const defaultEditable = ['b1', 'b2', 'p1', 'p2', 'f1', 'f2'];
const defaultUsers = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', ...defaultEditable];

/** Model-based commands over a World: Inject, RunFor (advance time), Crash and Kill(daemon)
 *  (faults), Restart, EditDotQmail. Each checks the World's step invariants after it runs; run them
 *  with fc.asyncModelRun, then settleAndCheck. */
export function worldCommands(opts: WorldCommandsOpts = {}): fc.Arbitrary<Iterable<WorldCommand>> {
  const users = opts.users ?? defaultUsers;
  const editable = opts.editable ?? defaultEditable;
  const targets = users.filter((u) => !editable.includes(u));
  const hourMs = 3_600_000;
  return fc.commands<WorldModel, World, false>(
    [
      mailArb(users).map((mail) => new InjectCommand(mail)),
      fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 2000, max: hourMs })).map((ms) => new RunForCommand(ms)),
      (opts.faults ?? faultArb).map((f) => new FaultCommand(f)),
      fc.constant(new RestartCommand()),
      fc.tuple(fc.constantFrom(...editable), dotQmailArb(targets)).map(([u, d]) => new EditDotQmailCommand(u, d)),
    ],
    { maxCommands: opts.maxCommands ?? 12, replayPath: opts.replayPath },
  );
}

/** The end of a model run: heal (every .qmail that defers becomes a Maildir), World.settle() (run
 *  to idle, 37 hours, a clean restart, one more message, idle), then World.check() and the model's
 *  own expectations. Returns the violations. */
export async function settleAndCheck(w: World, m: WorldModel): Promise<string[]> {
  for (const [user, d] of m.dotQmail) {
    if (d.kind === 'program' && d.exit === 111) w.setDotQmail(user, '', dotQmailText({ kind: 'maildir' }));
  }
  const { problems, sentinel } = await w.settle();
  const out = [...problems];
  if (sentinel.code === 0) m.accepted.push({ index: sentinel.index, mail: sentinelMail, expect: ['deliver'] });
  const c = w.check();
  out.push(...c.violations);
  const pairs = (e: Expectation): number => m.accepted.reduce((n, a) => n + new Set(a.mail.recipients.filter((_, i) => a.expect[i] === e)).size, 0);
  if (c.accepted !== m.accepted.length) out.push(`model: ${m.accepted.length} messages accepted, the world counts ${c.accepted}`);
  if (c.counts.held !== pairs('held')) out.push(`model: ${pairs('held')} remote recipients held, the ledger counts ${c.counts.held}`);
  const dups = c.counts.duplicateDeliveries + c.counts.duplicateBounces;
  if (m.faults === 0 && dups > 0) out.push(`model: ${dups} duplicates without a fault`);
  return out;
}
