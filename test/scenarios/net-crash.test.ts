// The network crash property of issue 6 in the simulator: mail comes in through qmail-smtpd
// --listen from scripted clients (relaying ones with RELAYCLIENT, the rest held to rcpthosts) and
// goes out through the real qmail-rspawn to scripted peers that accept, reject some recipients,
// greylist, hang, reset after the final dot (having kept the message or not) or go dark, while
// power losses and kill -9 of qmail-send, todo-proc, qmail-lspawn, qmail-clean, qmail-rspawn,
// qmail-smtpd and its qmail-queued strike. The listeners run as in production (root: one
// qmail-queued each, then qmaild), and in a variant as qmaild with a qmail-queue per message. Every message a client saw 250 for ends delivered (mailbox or peer), bounced
// in qmail's words, or held for the unreachable domain; duplicates only across faults or after a
// peer kept a message without answering (counted apart); sim/scenarios/net-crash.ts.
//
// Replay a failure with the line printed beside it, e.g.
//   SEED=7 MESSAGES=50 FAULTS=8 PROFILE=posix npx vitest run test/scenarios/net-crash.test.ts -t replay
// (LISTEN_AS=qmaild for the per-message qmail-queue variant).
// Bigger runs: NET_CRASH_LARGE=1 (1000 messages, 20 faults; SEED and PROFILE apply), or
// `npx tsx scripts/qsim.ts run --scenario net-crash`.

import { describe, expect, it } from 'vitest';
import { expectDeterministic, expectQsimRunReplays, withoutSyncs } from '../support/scenario-checks.ts';
import fc from 'fast-check';
import { netCrashReplay, netFaults, runNetCrash, withoutSmtpdReceived, type NetCrashOpts, type NetCrashResult, type NetFault } from '../../sim/scenarios/net-crash.ts';
import { peerKinds } from '../../sim/scenarios/net-peers.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';
import type { Sys } from '../../impl/sys/types.ts';
import { main as qmailQueue } from '../../impl/queue/main.ts';
import { main as qmailQueued } from '../../impl/queued/main.ts';
import { checkDeliveries, type Attempt } from '../../sim/checkers/delivery.ts';
import { copyEnds } from '../../sim/checkers/send-state.ts';
import { latin1Bytes } from '../../impl/lib/latin1.ts';
import { fateOf, type ListenAs, type NetMail } from '../../sim/scenarios/net-world.ts';
import { main as qmailRspawn } from '../../impl/rspawn/main.ts';
import { duplicateAsSuccess } from './rspawn-faults.ts';

const env = process.env;
const seeds = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const large = env['NET_CRASH_LARGE'] === '1';

async function holds(opts: NetCrashOpts): Promise<NetCrashResult> {
  const r = await runNetCrash(opts);
  const why = `seed ${opts.seed}: ${r.violations.slice(0, 6).join('; ')}\nreplay: ${netCrashReplay(opts)}`;
  expect(r.violations, why).toEqual([]);
  expect(r.sent.accepted, why).toBeGreaterThan(0);
  return r;
}

function summary(r: NetCrashResult): string {
  const c = r.counts;
  return `seed ${r.seed}: ${r.sent.accepted} accepted, ${r.sent.uncertain} uncertain (${r.uncertainArrived} arrived), ${r.queued.commits} through qmail-queued; duplicates ${c.duplicateDeliveries} (${r.windowDuplicates} after a peer's unanswered keep) + ${c.duplicateBounces} bounces`;
}

/** The same Sys, but fsync and directory fsync are started and not waited for: a queue writer that
 *  answers success before its data and names are durable. */
function syncsNotAwaited(sys: Sys): Sys {
  const fs = new Proxy(sys.fs, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop !== 'syncDir' && prop !== 'fsync') return v.bind(target);
      return async (...args: unknown[]): Promise<void> => {
        void (v as (...a: unknown[]) => Promise<void>).apply(target, args).catch(() => undefined);
      };
    },
  });
  return { ...sys, fs };
}

/** Lost (neither delivered nor bounced), or torn (a copy or queue file cut short). */
const lossOrTear = /neither delivered nor bounced|no valid Received line|left without its remote or mess|nobody submitted|bytes differ/;

/** Seeds 1..8 of a power-loss-only run with a broken program, until one shows a loss or a tear. */
async function exposes(override: Record<string, (sys: Sys) => Promise<number>>, listenAs: ListenAs): Promise<string[]> {
  const failing: string[] = [];
  for (let seed = 1; seed <= 8 && failing.length === 0; seed++) {
    const r = await runNetCrash({ seed, messages: 40, faults: 4, profile: 'posix', kinds: ['power'], override, listenAs });
    if (r.violations.some((v) => lossOrTear.test(v))) failing.push(`seed ${seed}: ${r.violations[0]}`);
  }
  return failing;
}

describe('MTA crash property over the network (sim)', () => {
  it.runIf(env['SEED'] !== undefined)('replay', async () => {
    const r = await holds({
      seed: Number(env['SEED']), messages: Number(env['MESSAGES'] ?? 50), faults: Number(env['FAULTS'] ?? 8),
      profile: (env['PROFILE'] ?? 'posix') as CrashProfile,
      kinds: env['KINDS'] === undefined ? undefined : (env['KINDS'].split(',') as NetFault[]),
      listenAs: (env['LISTEN_AS'] ?? 'root') as ListenAs,
    });
    console.info(`${summary(r)}; faults ${JSON.stringify(r.faults)}`);
  });

  it('without faults: every peer behaviour, bounces local and remote, held mail, no duplicate but the peers\'', async () => {
    const r = await holds({ seed: 6, messages: 60, faults: 0, profile: 'posix' });
    const c = r.counts;
    // Production listeners: every accepted message went through qmail-queued, and every `info msg`
    // of its qp was named after its message (rule 6 checked them all).
    expect(r.queued.commits).toBe(r.sent.accepted);
    expect(r.queued.unnamed).toBe(0);
    expect(r.queued.named).toBeGreaterThanOrEqual(r.queued.commits);
    expect(c.duplicateBounces).toBe(0);
    // The only duplicates: a reset or hang after the dot when the peer had kept the message.
    expect(c.duplicateDeliveries).toBe(r.windowDuplicates);
    expect(c.delivered).toBeGreaterThan(0);
    expect(c.bounced).toBeGreaterThan(0);
    expect(c.held).toBeGreaterThan(0);
    expect(r.sent.uncertain + r.sent.unsent).toBe(0);
    const acts = r.acts;
    for (const kind of peerKinds) expect(acts[kind]?.['ok'] ?? 0, `peer ${kind} accepted nothing`).toBeGreaterThan(0);
    expect(acts.reject['550'] ?? 0).toBeGreaterThan(0);
    expect(acts.greylist['451'] ?? 0).toBeGreaterThan(0);
    expect((acts.hang['hang-greeting'] ?? 0) + (acts.hang['hang-rcpt'] ?? 0)).toBeGreaterThan(0);
    expect((acts.hang['hang-kept'] ?? 0) + (acts.hang['hang-lost'] ?? 0)).toBeGreaterThan(0);
    expect(acts.reset['reset-kept'] ?? 0).toBeGreaterThan(0);
    expect(acts.reset['reset-lost'] ?? 0).toBeGreaterThan(0);
    expect(r.possibleDuplicateLogged).toBeGreaterThan(0);
  });

  for (const profile of ['posix', 'ext4-ordered', 'sync'] as const) {
    it(`holds under ${profile} power losses and every kill, for random seeds`, async () => {
      const lines: string[] = [];
      await fc.assert(
        fc.asyncProperty(seeds, async (seed) => {
          const opts: NetCrashOpts = { seed, messages: 50, faults: 8, profile };
          lines.push(`${summary(await holds(opts))} (replay: ${netCrashReplay(opts)})`);
        }),
        { numRuns: 2, endOnFailure: true },
      );
      console.info(`net-crash ${profile}: ${lines.join('; ')}`);
    });
  }

  it('holds when only daemons are killed (qmail-smtpd and qmail-rspawn among them)', async () => {
    const kinds = netFaults.filter((f) => f !== 'power');
    await fc.assert(fc.asyncProperty(seeds, async (seed) => {
      const opts: NetCrashOpts = { seed, messages: 60, faults: 10, profile: 'posix', kinds };
      console.info(`net-crash kills: ${summary(await holds(opts))} (replay: ${netCrashReplay(opts)})`);
    }), { numRuns: 1, endOnFailure: true });
  });

  it('holds with the listeners as qmaild, a qmail-queue per message (power losses and every kill)', async () => {
    await fc.assert(fc.asyncProperty(seeds, async (seed) => {
      const opts: NetCrashOpts = { seed, messages: 50, faults: 8, profile: 'posix', listenAs: 'qmaild' };
      const r = await holds(opts);
      expect(r.queued.commits).toBe(0);
      console.info(`net-crash qmaild: ${summary(r)} (replay: ${netCrashReplay(opts)})`);
    }), { numRuns: 1, endOnFailure: true });
  });

  it('is deterministic: the same seed gives the same trace', async () => {
    const opts: NetCrashOpts = { seed: 4242, messages: 20, faults: 3, profile: 'posix' };
    await expectDeterministic(runNetCrash, opts);
  });

  it('qsim run --scenario net-crash reports the run and a line that replays it', async () => {
    await expectQsimRunReplays(['run', '--scenario', 'net-crash', '--seed', '3', '--messages', '12', '--crashes', '1'], 'npx tsx scripts/qsim.ts run --scenario net-crash --seed 3 --messages 12 --crashes 1 --profile posix --split 7');
  });

  it.runIf(large)('a large run: 1000 messages, 20 faults', async () => {
    const r = await holds({ seed: Number(env['SEED'] ?? 20261122), messages: 1000, faults: 20, profile: (env['PROFILE'] ?? 'posix') as CrashProfile });
    console.info(`net-crash large: ${summary(r)}; ${JSON.stringify({ counts: r.counts, faults: r.faults, sent: r.sent })}`);
  }, 600_000);
});

describe('the property catches a broken component', () => {
  it("a copy must carry qmail-smtpd's Received line before the message, and loses only that", () => {
    const qq = 'Received: (qmail 7 invoked from network); 1 Jan 2027 00:00:00 -0000\n';
    const smtpd = 'Received: from unknown (HELO client) (10.0.2.2)\n  by 127.0.0.1 with SMTP; 1 Jan 2027 00:00:00 -0000\n';
    const body = 'X-Sim-Index: 3\nSubject: s\n\nhi\n';
    expect(withoutSmtpdReceived(qq + smtpd + body)).toBe(qq + body);
    expect(withoutSmtpdReceived(qq + body)).not.toBe(qq + body);
    expect(withoutSmtpdReceived(qq + smtpd.replace('HELO client', 'HELO other') + body)).not.toBe(qq + body);
  });

  it('a qmail-queue that skips its fsyncs (listeners as qmaild): mail acknowledged with 250 is lost at a power loss', async () => {
    const broken = (sys: Sys): Promise<number> => qmailQueue(withoutSyncs(sys));
    const failing = await exposes({ 'qmail-queue': broken }, 'qmaild');
    expect(failing.length, 'no seed in 1..8 exposed a qmail-queue without fsyncs').toBeGreaterThan(0);
  });

  it('a qmail-queued that answers before its fsyncs complete: mail acknowledged with 250 is lost at a power loss', async () => {
    const broken = (sys: Sys): Promise<number> => qmailQueued(syncsNotAwaited(sys));
    const failing = await exposes({ 'qmail-queued': broken }, 'root');
    expect(failing.length, 'no seed in 1..8 exposed a qmail-queued that answers early').toBeGreaterThan(0);
  });

  it("a queue writer killed under a message leaves it uncertain (451 qq crashed may follow its commit), any other 4xx refused", () => {
    const m = (final: string | null, dotSent = true): NetMail => ({
      index: 0, sender: '', recipients: ['r@x'], relay: false, body: new Uint8Array(0), rcptOk: ['r@x'], dotSent, final, gaveUp: false, waiting: false,
    });
    expect(fateOf(m('451 qq crashed (#4.3.0)\r\n'))).toBe('uncertain');
    expect(fateOf(m(null))).toBe('uncertain');
    expect(fateOf(m('451 qqt failure (#4.3.0)\r\n'))).toBe('refused');
    expect(fateOf(m('451 qq trouble creating files in intd. (#4.3.0)\r\n'))).toBe('refused');
    expect(fateOf(m('250 ok 1 qp 40\r\n'))).toBe('accepted');
    expect(fateOf(m(null, false))).toBe('unsent');
  });

  it('rule 6 tells apart the messages one qmail-queued queued: a copy delivered after its own end msg, not a sibling\'s', () => {
    const line = 'Received: (qmail 40 invoked from network); 1 Jan 2027 00:00:00 -0000\n';
    const copy = (i: number): Uint8Array => latin1Bytes(`${line}X-Sim-Index: ${i}\nSubject: s\n\nhi\n`);
    // Queue id 9 is message 0 (ended in run 1), then, reused, message 1 (ended in run 2).
    const log1 = 'new msg 9\ninfo msg 9: bytes 100 from <a@b> qp 40 uid 71\nend msg 9\n';
    const log2 = 'new msg 9\ninfo msg 9: bytes 100 from <a@b> qp 40 uid 71\nend msg 9\n';
    const names = new Map([[0, '40#0'], [1, '40#1']]);
    const ends = copyEnds([{ run: 1, text: log1 }, { run: 2, text: log2 }], (at) => names.get(at.log) ?? null);
    const accepted = [0, 1].map((index) => ({ index, sender: 'a@b', recipients: ['r@x'] }));
    const ledger = (attempts: Attempt[]): string[] =>
      checkDeliveries({ accepted, uncertain: [], attempts, address: (r) => r, bounceName: (r) => r, ends }).violations;
    const k = (i: number, epoch: number): Attempt => ({ recipient: 'r@x', report: 'K', message: copy(i), epoch });
    // Message 1 delivered in run 2: after message 0's end, before its own: fine.
    expect(ledger([k(0, 1), k(1, 2)])).toEqual([]);
    // Message 0 delivered again in run 2, after its end msg in run 1: a resurrected message.
    expect(ledger([k(0, 1), k(1, 2), k(0, 2)]).join('\n')).toMatch(/qp 40 \(message 0\): delivered to r@x in run 2, after its end msg in run 1/);
    // Both delivered twice in run 2 under one qp: each is its own copy, neither a duplicate.
    expect(ledger([k(0, 2), k(1, 2)]).filter((v) => /times in run/.test(v))).toEqual([]);
  });

  it('a qmail-rspawn that reports a reset after the dot as delivered loses the mail the peer did not keep', async () => {
    const broken = (sys: Sys): Promise<number> => qmailRspawn(duplicateAsSuccess(sys));
    const r = await runNetCrash({ seed: 6, messages: 60, faults: 0, profile: 'posix', override: { 'qmail-rspawn': broken } });
    expect(r.acts.reset['reset-lost'] ?? 0).toBeGreaterThan(0);
    expect(r.violations.some((v) => /neither delivered nor bounced/.test(v)), r.violations.join('\n')).toBe(true);
  });
});
