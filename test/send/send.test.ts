// qmail-send with todo-proc and two qmail-cleans in the simulator (sim/boot-send.ts wires them as
// qmail-start will), messages queued by the real qmail-queue, scripted spawners
// (sim/fake-spawner.ts) or the real qmail-rspawn-defer. Against ../shared/spec/queue.md 3-4 and
// spec/send.md: the commands a spawner gets (VERP, virtual domains), the retry schedule in virtual
// time, dying jobs and the bounce bytes (single, double, triple), the log byte for byte (and every
// line in the grammar), signals, the send mutex, concurrency, a dying spawner.

import { describe, expect, it } from 'vitest';
import type { SendBoot } from '../../sim/boot-send.ts';
import type { SpawnAnswer, SpawnRecord, SpawnScript } from '../../sim/fake-spawner.ts';
import { checkLog, queueLeftovers } from '../../sim/checkers/send-state.ts';
import { sendWorld, type SendWorld, type SendWorldOpts } from '../../sim/scenarios/send-world.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { date822 } from '../../impl/lib/date822.ts';
import { dyingText, remoteDeferReport } from '../../spec/send.ts';

const K = (text = 'did 0+0+1\n', delayMs = 100): SpawnAnswer => ({ report: `K${text}`, delayMs });
const Z = (text = 'Mailbox busy. (#4.2.1)\n', delayMs = 100): SpawnAnswer => ({ report: `Z${text}`, delayMs });
const D = (text = 'Sorry, no mailbox here by that name. (#5.1.1)\n', delayMs = 100): SpawnAnswer => ({ report: `D${text}`, delayMs });
/** Bounces (recognised by their text) are accepted; everything else by the recipient's first letter. */
const byLetter: SpawnScript = (r) => {
  if (r.message !== null && latin1(r.message).includes('\nHi. This is the qmail-send program at ')) return K('bounce taken\n');
  const c = r.recipient.replace(/^vv-/, '')[0];
  return c === 'd' ? D() : c === 'z' ? Z() : K();
};

async function world(opts: Partial<SendWorldOpts> & { controls?: Record<string, string> } = {}): Promise<SendWorld> {
  return sendWorld({ seed: 3, local: byLetter, remote: byLetter, ...opts, controls: { me: 'sim.example\n', locals: 'sim.example\n', ...opts.controls } });
}

const minute = 60_000;
const hour = 60 * minute;

async function runFor(w: SendWorld, ms: number): Promise<void> {
  await w.k.run({ untilMs: w.k.nowMs + ms });
}

async function started(w: SendWorld, env: Record<string, string> = {}): Promise<SendBoot> {
  const b = w.boot(env);
  await w.k.run({ until: () => b.log().includes('info: todo-proc: pid') || b.handle.status() !== null });
  return b;
}

/** SIGTERM to qmail-send, then run until the group is gone. */
async function stop(w: SendWorld, b: SendBoot): Promise<void> {
  const pid = b.pids()?.send;
  if (pid !== undefined && w.k.procs.has(pid)) w.k.kill(pid, 'SIGTERM');
  await w.k.run({ until: () => b.handle.status() !== null, untilMs: w.k.nowMs + 2 * hour });
  expect(b.handle.status()).not.toBeNull();
}

function lines(b: SendBoot): string[] {
  const log = b.log();
  expect(checkLog(log).violations).toEqual([]);
  return log.split('\n').slice(0, -1);
}

const idOf = (r: SpawnRecord): number => Number(r.messid.split('/')[1]);
const qpOf = (mess: Uint8Array): number => Number(/^Received: \(qmail ([0-9]+) invoked/.exec(latin1(mess))?.[1]);
const secOf = (ms: number): number => Math.floor(ms / 1000);

function birthOf(w: SendWorld, id: number): number {
  const st = w.k.fs.peekStat(`${w.inst.queue.dir}/info/${id % 7}/${id}`);
  if (st === null) throw new Error(`no info for ${id}`);
  return secOf(st.mtimeMs);
}

describe('qmail-send: deliveries', () => {
  it('one local delivery: the spawn command, and the log byte for byte', async () => {
    const w = await world();
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example'] });
    await runFor(w, minute);
    await stop(w, b);
    const [rec] = w.spawners.records;
    if (rec === undefined || rec.message === null) throw new Error('no delivery');
    const id = idOf(rec);
    expect(rec).toMatchObject({ channel: 'local', messid: `${id % 7}/${id}`, sender: 'a@remote.example', recipient: 'joe@sim.example' });
    expect(latin1(rec.message)).toMatch(/^Received: \(qmail [0-9]+ invoked by uid 1000\); .* -0000\nX-Sim-Index: 0\n/);
    expect(lines(b)).toEqual([
      'status: local 0/10 remote 0/20',
      `info: todo-proc: pid ${b.pids()?.todo}: /var/qmail/queue: conf split=7, todo chunk size=64, bigtodo=no`,
      `new msg ${id}`,
      `info msg ${id}: bytes ${rec.message.length} from <a@remote.example> qp ${qpOf(rec.message)} uid 1000`,
      `starting delivery 1: msg ${id} to local joe@sim.example`,
      'status: local 1/10 remote 0/20',
      'delivery 1: success: did_0+0+1/',
      'status: local 0/10 remote 0/20',
      `end msg ${id}`,
      'status: exiting',
    ]);
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
    expect(w.k.bugs).toEqual([]);
  });

  it('VERP senders and virtual domains reach the spawners rewritten; QIDENT numbers deliveries', async () => {
    const w = await world({ controls: { virtualdomains: 'virtual.example:vv\n' } });
    const b = await started(w, { QIDENT: '3' });
    w.submit({ sender: 'owner-@lists.example-@[]', recipients: ['ann@virtual.example', 'bob@remote.example', 'NoHost'] });
    await runFor(w, minute);
    await stop(w, b);
    const got = w.spawners.records.map((r) => [r.channel, r.sender, r.recipient]).sort();
    expect(got).toEqual([
      ['local', 'owner-NoHost=sim.example@lists.example', 'NoHost@sim.example'],
      ['local', 'owner-vv-ann=virtual.example@lists.example', 'vv-ann@virtual.example'],
      ['remote', 'owner-bob=remote.example@lists.example', 'bob@remote.example'],
    ]);
    const starts = lines(b).filter((l) => l.startsWith('starting delivery')).map((l) => l.replace(/^starting delivery [123]\.3: msg [0-9]+ /, ''));
    expect(starts.sort()).toEqual(['to local NoHost@sim.example', 'to local vv-ann@virtual.example', 'to remote bob@remote.example']);
    expect(lines(b).filter((l) => /^delivery [123]\.3: success: /.test(l)).length).toBe(3);
  });

  it('retries on the quadratic schedule: local (10k)², remote (20k)² seconds after birth', async () => {
    const w = await world({ local: () => Z(), remote: () => Z() });
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example', 'bob@remote.example'] });
    await runFor(w, 10_100_000);
    const first = w.spawners.records[0];
    if (first === undefined) throw new Error('no delivery');
    const birth = birthOf(w, idOf(first));
    const times = (c: 'local' | 'remote'): number[] => w.spawners.records.filter((r) => r.channel === c).map((r) => secOf(r.atMs) - birth);
    expect(times('local')).toEqual([0, 100, 400, 900, 1600, 2500, 3600, 4900, 6400, 8100, 10000]);
    expect(times('remote')).toEqual([0, 400, 1600, 3600, 6400, 10000]);
    await stop(w, b);
  });
});

describe('qmail-send: marks', () => {
  it('marks each answered recipient D in place through the pass\'s fd; the next pass starts only the rest', async () => {
    const w = await world();
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example', 'zed@sim.example', 'kim@sim.example'] });
    await runFor(w, 10_000);
    const first = w.spawners.records[0];
    if (first === undefined) throw new Error('no delivery');
    const id = idOf(first);
    const local = `${w.inst.queue.dir}/local/${id % 7}/${id}`;
    expect(latin1(w.k.fs.peekFile(local) as Uint8Array)).toBe('Djoe@sim.example\0Tzed@sim.example\0Dkim@sim.example\0');
    w.k.kill(b.pids()?.send ?? -1, 'SIGALRM');
    await runFor(w, 10_000);
    expect(w.spawners.records.map((r) => r.recipient)).toEqual(['joe@sim.example', 'zed@sim.example', 'kim@sim.example', 'zed@sim.example']);
    expect(lines(b).filter((l) => /^(warning|alert)/.test(l))).toEqual([]);
    await stop(w, b);
  });
});

describe('qmail-send: idle', () => {
  it('waits without spinning: an idle day costs a few events per todo scan', async () => {
    const w = await world();
    const b = await started(w);
    await runFor(w, hour);
    const before = w.k.eventsRun;
    await runFor(w, 24 * hour);
    const scans = (24 * 3600) / 1500;
    expect(w.k.eventsRun - before).toBeLessThan(scans * 4 + 20);
    await stop(w, b);
  });
});

describe('qmail-send: leftovers and odd messages', () => {
  it('a message without recipients ends at once', async () => {
    const w = await world();
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: [] });
    await runFor(w, minute);
    await stop(w, b);
    expect(lines(b).filter((l) => /^(new|end) msg /.test(l)).map((l) => l.split(' ')[0])).toEqual(['new', 'end']);
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
  });

  it('a stat failure at start puts the message in pqfail, tried again after SLEEP_SYSFAIL', async () => {
    let tries = 0;
    const w = await world({ local: () => (tries++ === 0 ? Z() : K()) });
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example'] });
    await runFor(w, 10_000);
    await stop(w, b);
    const id = idOf(w.spawners.records[0] as SpawnRecord);
    let failures = 1;
    w.k.fs.setFaultHook((op, path) => (op === 'stat' && path?.endsWith(`/info/${id % 7}/${id}`) === true && failures-- > 0 ? 'EIO' : null));
    const restart = w.k.wallMs();
    const b2 = await started(w);
    await runFor(w, 10 * minute);
    await stop(w, b2);
    expect(lines(b2)).toContain(`warning: unable to stat info/${id % 7}/${id}; will try again later`);
    const again = w.spawners.records[1];
    expect(again?.report.startsWith('K')).toBe(true);
    // Seconds, as qmail counts: due at floor(failure) + 123.
    expect(secOf(again?.atMs ?? 0) - secOf(restart)).toBeGreaterThanOrEqual(123);
    expect(secOf(again?.atMs ?? 0) - secOf(restart)).toBeLessThan(126);
  });

  it('removes an ossified leftover (mess without todo and info) at a cleanup past OSSIFIED', async () => {
    const w = await world();
    const q = w.inst.queue.dir;
    w.k.writeFile(`${q}/mess/3/10`, 'Received: (qmail 1 invoked by uid 1000); 1 Jan 2026 00:00:00 -0000\n\nlost\n', { uid: 7794, gid: 2107, mode: 0o644 });
    const b = await started(w);
    await runFor(w, 30 * hour);
    expect(w.k.fs.peekStat(`${q}/mess/3/10`)).not.toBeNull(); // younger than 36 h at both cleanups so far
    await runFor(w, 20 * hour);
    expect(w.k.fs.peekStat(`${q}/mess/3/10`)).toBeNull(); // the cleanup at 2 × 76431 s
    await stop(w, b);
  });
});

describe('qmail-send: bounces', () => {
  it('after queuelifetime a deferral is a failure, and the bounce is byte for byte qmail\'s', async () => {
    const w = await world({ local: () => Z(), controls: { queuelifetime: '1000\n' } });
    const b = await started(w);
    w.submit({ sender: 'sender@remote.example', recipients: ['joe@sim.example'] });
    await runFor(w, hour);
    await stop(w, b);
    const local = w.spawners.records.filter((r) => r.channel === 'local');
    const [bounce] = w.spawners.records.filter((r) => r.channel === 'remote');
    if (bounce === undefined || bounce.message === null || local[0]?.message == null) throw new Error('no bounce');
    const id = idOf(local[0]);
    // Attempts at birth + 0 … 900; the one at 1600 is the first past queuelifetime (1000): dying.
    expect(local.map((r) => secOf(r.atMs) - secOf(local[0]?.atMs ?? 0))).toEqual([0, 100, 400, 900, 1600]);
    expect(bounce).toMatchObject({ sender: '', recipient: 'sender@remote.example' });
    const text = latin1(bounce.message);
    const date = /\nDate: (.*)\n/.exec(text)?.[1] ?? '';
    expect([0, 1].map((d) => date822((secOf(local[4]?.doneMs ?? 0) + d) * 1000))).toContain(date);
    expect(text.slice(text.indexOf('\n') + 1)).toBe(
      `Date: ${date}\nFrom: MAILER-DAEMON@sim.example\nTo: sender@remote.example\nSubject: failure notice\n\n` +
        'Hi. This is the qmail-send program at sim.example.\n' +
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n" +
        `<joe@sim.example>:\nMailbox busy. (#4.2.1)\n${dyingText}\n` +
        '--- Below this line is a copy of the message.\n\n' +
        'Return-Path: <sender@remote.example>\n' +
        latin1(local[0].message),
    );
    expect(text).toMatch(/^Received: \(qmail [0-9]+ invoked for bounce\); /);
    const log = lines(b);
    expect(log).toContain(`delivery 5: failure: Mailbox_busy._(#4.2.1)/I'm_not_going_to_try_again;_this_message_has_been_in_the_queue_too_long./`);
    expect(log).toContain(`bounce msg ${id} qp ${qpOf(bounce.message)}`);
    expect(log.indexOf(`bounce msg ${id} qp ${qpOf(bounce.message)}`)).toBeLessThan(log.indexOf(`end msg ${id}`));
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
  });

  it('failures of one message make one bounce; a VERP sender gets it without -@[]; the prepend is stripped', async () => {
    const w = await world({ controls: { virtualdomains: 'virtual.example:vv\n' } });
    const b = await started(w);
    w.submit({ sender: 'owner-@lists.example-@[]', recipients: ['d1@sim.example', 'k1@sim.example', 'dann@virtual.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b);
    const bounces = w.spawners.records.filter((r) => r.message !== null && latin1(r.message).includes('failure notice'));
    expect(bounces.length).toBe(1);
    const t = latin1(bounces[0]?.message ?? new Uint8Array());
    expect(bounces[0]).toMatchObject({ channel: 'remote', sender: '', recipient: 'owner-@lists.example' });
    expect(t).toContain('\nTo: owner-@lists.example\n');
    expect(t).toContain('\nReturn-Path: <owner-@lists.example>\n');
    const blocks = t.slice(t.indexOf("didn't work out.\n\n") + 18, t.indexOf('--- Below'));
    expect(blocks.split('\n\n').filter((x) => x !== '').sort()).toEqual([
      '<d1@sim.example>:\nSorry, no mailbox here by that name. (#5.1.1)',
      '<dann@virtual.example>:\nSorry, no mailbox here by that name. (#5.1.1)',
    ]);
  });

  it('a bounce/ID left by an earlier qmail-send is sent by the next one once the message is done', async () => {
    const w = await world();
    const b1 = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['d1@sim.example', 'z1@sim.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b1);
    const [rec] = w.spawners.records.filter((r) => r.recipient === 'd1@sim.example');
    if (rec === undefined) throw new Error('no delivery to d1');
    const id = idOf(rec);
    const q = w.inst.queue.dir;
    expect(w.k.fs.peekStat(`${q}/bounce/${id}`)?.size).toBeGreaterThan(0);
    // z1 done meanwhile (as if its delivery's D mark were the last thing the first run did).
    const local = `${q}/local/${id % 7}/${id}`;
    const st = w.k.fs.peekStat(local);
    w.k.writeFile(local, latin1(w.k.fs.peekFile(local) as Uint8Array).replace('Tz1@', 'Dz1@'), { uid: st?.uid ?? 0, gid: st?.gid ?? 0, mode: 0o600 });
    const b2 = await started(w);
    await runFor(w, 10 * minute);
    await stop(w, b2);
    const bounces = w.spawners.records.filter((r) => r.message !== null && latin1(r.message).includes('failure notice'));
    expect(bounces.map((r) => r.recipient)).toEqual(['a@remote.example']);
    expect(w.k.fs.peekStat(`${q}/bounce/${id}`)).toBeNull();
    expect(w.k.fs.peekStat(local)).toBeNull();
  });

  it('a bounce of a bounce goes to doublebounceto@doublebouncehost from #@[]', async () => {
    const w = await world({ controls: { doublebounceto: 'admin\n', doublebouncehost: 'sim.example\n', bouncehost: 'bounces.example\n', bouncefrom: 'bounce daemon\n' } });
    const b = await started(w);
    w.submit({ sender: '', recipients: ['d1@sim.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b);
    const [db] = w.spawners.records.filter((r) => r.recipient === 'admin@sim.example');
    if (db === undefined || db.message === null) throw new Error('no double bounce');
    expect(db.sender).toBe('#@[]');
    const t = latin1(db.message);
    expect(t.slice(t.indexOf('\n') + 1).replace(/^Date: .*\n/, '')).toMatch(
      /^From: "bounce daemon"@bounces\.example\nTo: admin@sim\.example\nSubject: failure notice\n\nHi\. This is the qmail-send program at bounces\.example\.\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n<d1@sim\.example>:\nSorry, no mailbox here by that name\. \(#5\.1\.1\)\n\n--- Below this line is the original bounce\.\n\nReturn-Path: <>\nReceived: /,
    );
  });

  it('a triple bounce is discarded', async () => {
    const w = await world();
    const b = await started(w);
    w.submit({ sender: '#@[]', recipients: ['d1@sim.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b);
    const [rec] = w.spawners.records;
    expect(w.spawners.records.length).toBe(1);
    expect(lines(b)).toContain(`triple bounce: discarding bounce/${idOf(rec as SpawnRecord)}`);
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
  });
});

describe('qmail-send: signals, the mutex, concurrency, spawners', () => {
  it('SIGHUP rereads virtualdomains (todo-proc classifies anew, bounces strip the new prepend)', async () => {
    const w = await world();
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['dann@virtual.example'] });
    await runFor(w, 10 * minute);
    w.k.writeFile(`${w.inst.home}/control/virtualdomains`, 'virtual.example:vv\n', { uid: 0, gid: 0, mode: 0o644 });
    w.k.kill(b.pids()?.send ?? -1, 'SIGHUP');
    await runFor(w, minute);
    w.submit({ sender: 'a@remote.example', recipients: ['dann@virtual.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b);
    const tries = w.spawners.records.filter((r) => r.recipient.endsWith('dann@virtual.example'));
    expect(tries.map((r) => [r.channel, r.recipient])).toEqual([
      ['remote', 'dann@virtual.example'],
      ['local', 'vv-dann@virtual.example'],
    ]);
    const bounces = w.spawners.records.filter((r) => r.recipient === 'a@remote.example').map((r) => latin1(r.message ?? new Uint8Array()));
    expect(bounces.length).toBe(2);
    for (const t of bounces) expect(t).toContain('\n<dann@virtual.example>:\n');
  });

  it('SIGALRM retries everything now', async () => {
    const w = await world({ local: (r) => (r.attempt === 0 ? Z() : K()) });
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example'] });
    await runFor(w, 10_000);
    w.k.kill(b.pids()?.send ?? -1, 'SIGALRM');
    await runFor(w, 10_000);
    const [first, second] = w.spawners.records;
    expect(secOf((second?.atMs ?? 0) - (first?.atMs ?? 0))).toBeLessThan(15);
    await stop(w, b);
  });

  it('SIGTERM waits for deliveries in flight, then stores the schedule, which a restart keeps', async () => {
    const w = await world({ local: (r) => (r.recipient.startsWith('slow') ? K('late\n', 90_000) : Z()) });
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['slow@sim.example'] });
    w.submit({ sender: 'a@remote.example', recipients: ['zed@sim.example'] });
    await runFor(w, 5_000);
    const termAt = w.k.wallMs();
    w.k.kill(b.pids()?.send ?? -1, 'SIGTERM');
    await w.k.run({ until: () => b.handle.status() !== null });
    expect(w.k.wallMs() - termAt).toBeGreaterThan(80_000);
    const log = lines(b);
    // Which of the two messages got delivery number 1 depends on todo-proc's batching.
    expect(log.slice(-3).map((l) => l.replace(/^delivery \d+:/, 'delivery N:'))).toEqual(['delivery N: success: late/', 'status: local 0/10 remote 0/20 exitasap', 'status: exiting']);
    const zed = w.spawners.records.find((r) => r.recipient === 'zed@sim.example') as SpawnRecord;
    const birth = birthOf(w, idOf(zed));
    expect(secOf(w.k.fs.peekStat(`${w.inst.queue.dir}/local/${idOf(zed) % 7}/${idOf(zed)}`)?.mtimeMs ?? 0)).toBe(birth + 100);
    const b2 = await started(w);
    await runFor(w, 20 * minute);
    const again = w.spawners.records.filter((r) => r.recipient === 'zed@sim.example').map((r) => secOf(r.atMs) - birth);
    expect(again.slice(0, 3)).toEqual([0, 100, 400]);
    await stop(w, b2);
  });

  it('a second qmail-send is refused by the send mutex', async () => {
    const w = await world();
    const b = await started(w);
    const second = w.boot();
    await w.k.run({ until: () => second.handle.status() !== null, untilMs: w.k.nowMs + hour });
    expect(second.handle.status()?.code).toBe(111);
    expect(lines(second)).toEqual(['alert: cannot start: qmail-send is already running']);
    await stop(w, b);
  });

  it('concurrencylocal caps deliveries in flight; the spawner byte caps it too; 0 holds the channel', async () => {
    const w = await world({ local: () => K('ok\n', 30_000), localSlots: 3, controls: { concurrencylocal: '2\n', concurrencyremote: '0\n' } });
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['k1@sim.example', 'k2@sim.example', 'k3@sim.example', 'k4@sim.example', 'r@remote.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b);
    const local = w.spawners.records.filter((r) => r.channel === 'local');
    expect(local.length).toBe(4);
    for (const r of local) expect(local.filter((o) => o.atMs < r.doneMs && o.doneMs > r.atMs).length).toBeLessThanOrEqual(2);
    expect(w.spawners.records.some((r) => r.channel === 'remote')).toBe(false);
    expect(lines(b)[0]).toBe('status: local 0/2 remote 0/0');
    const w2 = await world({ localSlots: 1, controls: { concurrencylocal: '5\n' } });
    const b2 = await started(w2);
    await stop(w2, b2);
    expect(lines(b2)[0]).toBe('status: local 0/1 remote 0/20');
  });

  it('the remote stand-in defers every remote delivery, and the message stays queued', async () => {
    const w = await world({ remote: 'defer' });
    const b = await started(w);
    w.submit({ sender: 'a@sim.example', recipients: ['bob@remote.example', 'joe@sim.example'] });
    await runFor(w, 10 * minute);
    await stop(w, b);
    const log = lines(b);
    expect(log).toContain(`delivery 1: deferral: ${remoteDeferReport.slice(1).replace(/ /g, '_').replace(/\n/g, '/')}`.replace('delivery 1', log.find((l) => l.includes('to remote'))?.match(/delivery ([0-9]+)/)?.[0] ?? ''));
    expect(log.filter((l) => l.includes('to remote')).length).toBe(2); // at birth and at +400 s
    const left = queueLeftovers(w.k.fs, w.inst.queue);
    expect(left.some((p) => p.includes('/remote/'))).toBe(true);
    expect(left.some((p) => p.includes('/local/'))).toBe(false);
  });

  it('a dying spawner: qmail-send alerts and exits; a restart delivers what was left', async () => {
    const w = await world({ local: () => K('ok\n', 20_000) });
    const b = await started(w);
    w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example'] });
    await runFor(w, 5_000);
    w.k.kill(b.pids()?.lspawn ?? -1, 'SIGKILL');
    await w.k.run({ until: () => b.handle.status() !== null, untilMs: w.k.nowMs + hour });
    expect(lines(b).slice(-2)).toEqual(['alert: oh no! lost spawn connection! dying...', 'status: exiting']);
    const b2 = await started(w);
    await runFor(w, 10 * minute);
    await stop(w, b2);
    expect(w.spawners.records.filter((r) => r.reported).length).toBe(1);
    expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
  });

  for (const [who, alert] of [
    ['qmail-clean', 'alert: oh no! lost qmail-clean connection! dying...'],
    ['todo-proc', 'alert: oh no! lost todo-proc connection! dying...'],
  ] as const) {
    it(`losing ${who}: qmail-send alerts, finishes its deliveries and exits; nothing is lost`, async () => {
      const w = await world({ local: () => K('ok\n', 20_000) });
      const b = await started(w);
      w.submit({ sender: 'a@remote.example', recipients: ['joe@sim.example'] });
      await runFor(w, 5_000);
      const pids = b.pids();
      w.k.kill(who === 'todo-proc' ? (pids?.todo ?? -1) : (pids?.clean[0] ?? -1), 'SIGKILL');
      await w.k.run({ until: () => b.handle.status() !== null, untilMs: w.k.nowMs + hour });
      const log = lines(b);
      expect(log.slice(-4)).toEqual([alert, 'delivery 1: success: ok/', 'status: local 0/10 remote 0/20 exitasap', 'status: exiting']);
      const b2 = await started(w);
      await runFor(w, hour);
      await stop(w, b2);
      expect(w.spawners.records.length).toBe(1);
      expect(queueLeftovers(w.k.fs, w.inst.queue)).toEqual([]);
    });
  }
});
