// qmail-remote in the simulator against scripted SMTP peers: the dialogue, the 4xx/5xx rules and
// the exact reports (../shared/spec/local.md 5.4-5.5), timeouts in virtual time, MX/A selection and
// smtproutes against the simulated DNS table.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProperty } from '../support/seed.ts';
import type { PeerScript } from '../../sim/smtp-peer.ts';
import { nul, remoteWorld, runRemote, startPeer } from './helpers.ts';

const ip = '10.0.0.2';
const msg = 'Subject: hi\n\n.dot line\nbody\n';

/** A world where example.org's MX is a peer at 10.0.0.2 with this script. */
async function mxWorld(seed: number, script: Parameters<typeof startPeer>[2], controls: Record<string, string> = {}) {
  const w = await remoteWorld(seed, controls);
  w.k.net.setMx('example.org', [{ exchange: 'mx.example.org', priority: 10 }]);
  w.k.net.setA('mx.example.org', [ip]);
  const peer = startPeer(w, ip, script);
  return { w, peer };
}

describe('qmail-remote dialogue', () => {
  it('two recipients, the second rejected: r, h, K with the remote texts; the transcript is qmail\'s', async () => {
    const { w, peer } = await mxWorld(1, {
      rcpt: (a) => (a === 'bob@example.org' ? '550 no such user\r\n' : '250 ok\r\n'),
      final: () => '250 queued as X\r\n',
    });
    const r = await runRemote(w, ['example.org', 'me@sim.example', 'al@example.org', 'bob@example.org'], msg);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `r${nul}h${ip} does not like recipient.\nRemote host said: 550 no such user\n${nul}K${ip} accepted message.\nRemote host said: 250 queued as X\n${nul}`,
    );
    expect(peer.sessions[0]?.received).toBe(
      'HELO sim.example\r\nMAIL FROM:<me@sim.example>\r\nRCPT TO:<al@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n' +
        'Subject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\nQUIT\r\n',
    );
  });

  it('a multi-line reject keeps every line; helohost and a quoted sender box', async () => {
    const { w, peer } = await mxWorld(2, { rcpt: () => '550-no\r\n550 really\r\n' }, { helohost: 'relay.sim\n' });
    const r = await runRemote(w, ['example.org', 'a b@sim.example', 'x@example.org'], msg);
    expect(r.out).toBe(`h${ip} does not like recipient.\nRemote host said: 550-no\n550 really\n${nul}DGiving up on ${ip}.\n${nul}`);
    expect(peer.sessions[0]?.received).toContain('HELO relay.sim\r\nMAIL FROM:<"a b"@sim.example>\r\n');
  });

  const cases: [string, PeerScript, string][] = [
    ['only recipient 451', { rcpt: () => '451 try later\r\n' }, `s${ip} does not like recipient.\nRemote host said: 451 try later\n${nul}DGiving up on ${ip}.\n${nul}`],
    ['sender 553', { mail: '553 bad sender\r\n' }, `DConnected to ${ip} but sender was rejected.\nRemote host said: 553 bad sender\n${nul}`],
    ['sender 421', { mail: '421 busy\r\n' }, `ZConnected to ${ip} but sender was rejected.\nRemote host said: 421 busy\n${nul}`],
    ['greeting 554', { greeting: '554 go away\r\n' }, `ZConnected to ${ip} but greeting failed.\nRemote host said: 554 go away\n${nul}`],
    ['HELO 501', { helo: '501 who\r\n' }, `ZConnected to ${ip} but my name was rejected.\nRemote host said: 501 who\n${nul}`],
    ['DATA 503', { data: '503 no\r\n' }, `r${nul}D${ip} failed on DATA command.\nRemote host said: 503 no\n${nul}`],
    ['DATA 451', { data: '451 later\r\n' }, `r${nul}Z${ip} failed on DATA command.\nRemote host said: 451 later\n${nul}`],
    ['final 452', { final: () => '452 full\r\n' }, `r${nul}Z${ip} failed after I sent the message.\nRemote host said: 452 full\n${nul}`],
    ['final 554', { final: () => '554 spam\r\n' }, `r${nul}D${ip} failed after I sent the message.\nRemote host said: 554 spam\n${nul}`],
    ['a NUL in the reply', { final: () => '250 a\0b\r\n' }, `r${nul}K${ip} accepted message.\nRemote host said: 250 a?b\n${nul}`],
  ];
  it.each(cases)('%s', async (_name, script, want) => {
    const { w } = await mxWorld(3, script);
    const r = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], msg);
    expect(r.out).toBe(want);
  });

  it('greylisting: 451 on the first connection, accepted on the retry', async () => {
    const { w, peer } = await mxWorld(4, { rcpt: (_a, _i, session) => (session === 0 ? '451 greylisted\r\n' : '250 ok\r\n') });
    const first = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], msg);
    expect(first.out.startsWith('s')).toBe(true);
    const second = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], msg);
    expect(second.out).toBe(`r${nul}K${ip} accepted message.\nRemote host said: 250 ok\n${nul}`);
    expect(peer.messages).toEqual(['Subject: hi\r\n\r\n..dot line\r\nbody\r\n']);
  });

  it('a peer that hangs at the greeting: connection died after timeoutremote of virtual time', async () => {
    const { w } = await mxWorld(5, { greeting: 'hang' }, { timeoutremote: '30\n' });
    const r = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], msg);
    expect(r.out).toBe(`ZConnected to ${ip} but connection died. (#4.4.2)\n${nul}`);
    expect(r.ms).toBeGreaterThanOrEqual(30_000);
    expect(r.ms).toBeLessThan(31_000);
  });

  it('a peer that hangs after the final dot: Possible duplicate!, after the default 1200 s', async () => {
    const { w, peer } = await mxWorld(6, { final: () => 'hang' });
    const r = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], msg);
    expect(r.out).toBe(`r${nul}ZConnected to ${ip} but connection died. Possible duplicate! (#4.4.2)\n${nul}`);
    expect(r.ms).toBeGreaterThanOrEqual(1_200_000);
    expect(peer.messages).toHaveLength(1);
  });

  it('a reset after DATA is a deferral with Possible duplicate!; a reset before it is not', async () => {
    const a = await mxWorld(7, { final: () => 'reset' });
    expect((await runRemote(a.w, ['example.org', 'me@sim.example', 'x@example.org'], msg)).out).toBe(
      `r${nul}ZConnected to ${ip} but connection died. Possible duplicate! (#4.4.2)\n${nul}`,
    );
    const b = await mxWorld(8, { mail: 'reset' });
    expect((await runRemote(b.w, ['example.org', 'me@sim.example', 'x@example.org'], msg)).out).toBe(
      `ZConnected to ${ip} but connection died. (#4.4.2)\n${nul}`,
    );
  });

  it('a partial final line is refused after the recipients; CRLF and bare CR are converted', async () => {
    const { w, peer } = await mxWorld(9, {});
    const partial = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], 'a\nno newline');
    expect(partial.out).toBe(`r${nul}DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n${nul}`);
    const ok = await runRemote(w, ['example.org', 'me@sim.example', 'x@example.org'], 'a\r\nb\rc\n.\n');
    expect(ok.out.endsWith(`K${ip} accepted message.\nRemote host said: 250 ok\n${nul}`)).toBe(true);
    expect(peer.messages).toEqual(['a\r\nb\r\nc\r\n..\r\n']);
  });

  it('fewer than three arguments: invoked improperly', async () => {
    const w = await remoteWorld(10);
    expect((await runRemote(w, ['example.org', 'me@sim.example'], msg)).out).toBe(`DI (qmail-remote) was invoked improperly. (#5.3.5)\n${nul}`);
  });
});

describe('qmail-remote MX, A and smtproutes', () => {
  const args = ['example.org', 'me@sim.example', 'x@example.org'];

  it('the best MX that answers: a black-holed best MX is skipped after timeoutconnect', async () => {
    const w = await remoteWorld(11, { timeoutconnect: '5\n' });
    w.k.net.setMx('example.org', [
      { exchange: 'mx2.example.org', priority: 20 },
      { exchange: 'mx1.example.org', priority: 10 },
    ]);
    w.k.net.setA('mx1.example.org', ['10.0.0.5']);
    w.k.net.setA('mx2.example.org', ['10.0.0.6']);
    w.k.net.setHostFault('10.0.0.5', 'timeout');
    startPeer(w, '10.0.0.6', {});
    const r = await runRemote(w, args, msg);
    expect(r.out).toBe(`r${nul}K10.0.0.6 accepted message.\nRemote host said: 250 ok\n${nul}`);
    expect(r.ms).toBeGreaterThanOrEqual(5000);
  });

  it('no MX: the A records; none at all: host not found; DNS trouble: temporary', async () => {
    const w = await remoteWorld(12);
    w.k.net.setA('example.org', [ip]);
    startPeer(w, ip, {});
    expect((await runRemote(w, args, msg)).out).toBe(`r${nul}K${ip} accepted message.\nRemote host said: 250 ok\n${nul}`);
    expect((await runRemote(w, ['nowhere.test', 'me@sim.example', 'x@nowhere.test'], msg)).out).toBe(
      `DSorry, I couldn't find any host named nowhere.test. (#5.1.2)\n${nul}`,
    );
    w.k.net.setDnsFailure('example.org', true);
    expect((await runRemote(w, args, msg)).out).toBe(`ZSorry, I couldn't find any host by that name. (#4.1.2)\n${nul}`);
  });

  it('MX names without addresses: no mail exchanger; one of them soft-failing: temporary', async () => {
    const w = await remoteWorld(13);
    w.k.net.setMx('example.org', [{ exchange: 'gone.example.org', priority: 10 }]);
    expect((await runRemote(w, args, msg)).out).toBe(`DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n${nul}`);
    w.k.net.setDnsFailure('gone.example.org', true);
    expect((await runRemote(w, args, msg)).out).toBe(`ZSorry, I couldn't find any host by that name. (#4.1.2)\n${nul}`);
  });

  it('nobody listening anywhere: no SMTP connection', async () => {
    const w = await remoteWorld(14);
    w.k.net.setA('example.org', [ip, '10.0.0.3']);
    expect((await runRemote(w, args, msg)).out).toBe(`ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n${nul}`);
  });

  it('smtproutes: host:port relay, .suffix, empty relay = MX, catch-all, IP literal', async () => {
    const w = await remoteWorld(15, {
      smtproutes: 'example.org:relay.test:2525\n.sub.test:\n:10.0.0.9\n# comment\nno colon line\n',
    });
    w.k.net.setA('relay.test', ['10.0.0.7']);
    w.k.net.setMx('a.sub.test', [{ exchange: 'mx.sub.test', priority: 1 }]);
    w.k.net.setA('mx.sub.test', ['10.0.0.8']);
    const relay = startPeer(w, '10.0.0.7', {}, 2525);
    startPeer(w, '10.0.0.8', {});
    startPeer(w, '10.0.0.9', {});
    startPeer(w, '10.0.0.4', {});
    const via = async (host: string) => (await runRemote(w, [host, 'me@sim.example', `x@${host}`], msg)).out;
    expect(await via('EXAMPLE.org')).toContain('K10.0.0.7 accepted');
    expect(relay.sessions).toHaveLength(1);
    expect(await via('a.sub.test')).toContain('K10.0.0.8 accepted');
    expect(await via('sub.test')).toContain('K10.0.0.9 accepted'); // .sub.test does not match sub.test
    expect(await via('[10.0.0.4]')).toContain('K10.0.0.9 accepted'); // the catch-all wins over a literal
  });

  it('an IP literal host without routes is itself', async () => {
    const w = await remoteWorld(16);
    startPeer(w, '10.0.0.4', {});
    expect((await runRemote(w, ['[10.0.0.4]', 'me@sim.example', 'x@[10.0.0.4]'], msg)).out).toContain('K10.0.0.4 accepted');
  });
});

describe('qmail-remote tcpto (queue/lock/tcpto)', () => {
  it('two connect timeouts 120 s apart: the address is skipped; after the hold-off it is tried again and cleared', async () => {
    const w = await remoteWorld(17, { timeoutconnect: '5\n' });
    w.k.net.setA('example.org', [ip]);
    w.k.net.setHostFault(ip, 'timeout');
    const args = ['example.org', 'me@sim.example', 'x@example.org'];
    const noConn = `ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n${nul}`;
    const first = await runRemote(w, args, msg);
    expect([first.out, first.ms >= 5000]).toEqual([noConn, true]);
    await w.k.run({ untilMs: w.k.nowMs + 200_000 });
    expect((await runRemote(w, args, msg)).ms).toBeGreaterThanOrEqual(5000);
    const skipped = await runRemote(w, args, msg);
    expect([skipped.out, skipped.ms < 1000]).toEqual([noConn, true]);
    // (60 + (pid & 31)) << 6 seconds at most: 5952 s.
    await w.k.run({ untilMs: w.k.nowMs + 6000_000 });
    w.k.net.setHostFault(ip, null);
    startPeer(w, ip, {});
    expect((await runRemote(w, args, msg)).out).toContain(`K${ip} accepted`);
    const table = w.k.fs.peekFile(`${w.inst.queue.dir}/lock/tcpto`) ?? new Uint8Array(0);
    expect(Array.from(table.subarray(0, 5))).toEqual([10, 0, 0, 2, 0]);
  });
});

describe('qmail-remote against a model of the 4xx/5xx rules', () => {
  it('property: random recipient and final replies give the reports the rules predict', async () => {
    const rcptCode = fc.constantFrom('250', '251', '451', '550', '553');
    const finalCode = fc.constantFrom('250', '452', '554');
    await checkProperty(
      'test/remote/remote-sim.test.ts',
      fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.array(rcptCode, { minLength: 1, maxLength: 4 }), finalCode, async (seed, codes, fin) => {
        const { w, peer } = await mxWorld(seed, { rcpt: (_a, i) => `${codes[i]} r${i}\r\n`, final: () => `${fin} f\r\n` });
        const recips = codes.map((_c, i) => `u${i}@example.org`);
        const r = await runRemote(w, ['example.org', 'me@sim.example', ...recips], msg);
        const said = (t: string): string => `Remote host said: ${t}\n`;
        const want = codes.map((c, i) => (Number(c) >= 500 ? `h${ip} does not like recipient.\n${said(`${c} r${i}`)}` : Number(c) >= 400 ? `s${ip} does not like recipient.\n${said(`${c} r${i}`)}` : 'r'));
        const any = codes.some((c) => Number(c) < 400);
        const letter = Number(fin) >= 500 ? 'D' : Number(fin) >= 400 ? 'Z' : 'K';
        const text = letter === 'K' ? 'accepted message' : 'failed after I sent the message';
        want.push(any ? `${letter}${ip} ${text}.\n${said(`${fin} f`)}` : `DGiving up on ${ip}.\n`);
        expect(r.out).toBe(want.map((x) => `${x}${nul}`).join(''));
        expect(peer.messages).toHaveLength(any ? 1 : 0);
      }),
      { numRuns: 25 },
    );
  });
});
