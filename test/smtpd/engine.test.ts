// qmail-smtpd's protocol engine against shared/spec/local.md section 4, reply by reply (byte for
// byte), without IO: impl/smtpd/engine.ts driven by ./engine-harness.ts.

import { describe, expect, it } from 'vitest';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { CdbReader, cdbHash, cdbMake } from '../../impl/lib/cdb.ts';
import { latin1Bytes } from '../../impl/lib/latin1.ts';
import { config, converse } from './engine-harness.ts';

const greet = '220 mx.example.com ESMTP\r\n';
const recv = 'Received: from client.example (192.0.2.1)\n  by mx.example.com with SMTP; 21 Nov 2026 22:57:35 -0000\n';
const txn = 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n';
const txnReplies = '250 ok\r\n250 ok\r\n354 go ahead\r\n';
const accepted = '250 ok 1795301855 qp 4242\r\n';

describe('qmail-smtpd engine: commands', () => {
  const cases: [string, string][] = [
    ['HELO there\r\n', '250 mx.example.com\r\n'],
    ['helo\r\n', '250 mx.example.com\r\n'],
    ['EHLO there\r\n', '250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n'],
    ['NOOP\r\n', '250 ok\r\n'],
    ['noop whatever\r\n', '250 ok\r\n'],
    ['RSET\r\n', '250 flushed\r\n'],
    ['VRFY postmaster\r\n', "252 send some mail, i'll try my best\r\n"],
    ['HELP\r\n', '214 notqmail home page: https://notqmail.org\r\n'],
    ['FOO bar\r\n', '502 unimplemented (#5.5.1)\r\n'],
    ['\r\n', '502 unimplemented (#5.5.1)\r\n'],
    ['STARTTLS\r\n', '502 unimplemented (#5.5.1)\r\n'],
    ['AUTH LOGIN\r\n', '502 unimplemented (#5.5.1)\r\n'],
    [' NOOP\r\n', '502 unimplemented (#5.5.1)\r\n'],
    ['NOOP\n', '250 ok\r\n'],
    ['NO\0OP\r\n', '502 unimplemented (#5.5.1)\r\n'],
    ['NOOP\0junk\r\n', '250 ok\r\n'],
    ['RCPT TO:<b@example.com>\r\n', '503 MAIL first (#5.5.1)\r\n'],
    ['DATA\r\n', '503 MAIL first (#5.5.1)\r\n'],
    ['MAIL FROM:<a@example.org>\r\nDATA\r\n', '250 ok\r\n503 RCPT first (#5.5.1)\r\n'],
    ['MAIL FROM:<a@example.org>\r\nRSET\r\nRCPT TO:<b@example.com>\r\n', '250 ok\r\n250 flushed\r\n503 MAIL first (#5.5.1)\r\n'],
    ['MAIL FROM:<a@example.org>\r\nHELO x\r\nRCPT TO:<b@example.com>\r\n', '250 ok\r\n250 mx.example.com\r\n503 MAIL first (#5.5.1)\r\n'],
    ['MAIL FROM:<a@example.org>\r\nEHLO x\r\nDATA\r\n', '250 ok\r\n250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n503 MAIL first (#5.5.1)\r\n'],
    ['MAIL\r\n', '250 ok\r\n'],
    ['MAIL FROM:<>\r\n', '250 ok\r\n'],
    // 900 bytes counting the NUL pass, 901 do not
    [`MAIL FROM:<${'x'.repeat(900)}>\r\n`, '555 syntax error (#5.5.4)\r\n'],
    [`MAIL FROM:<${'x'.repeat(899)}>\r\n`, '250 ok\r\n'],
    ['MAIL FROM:<a@b>\r\nRCPT TO:<x@elsewhere.org>\r\n', "250 ok\r\n553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n"],
    ['MAIL FROM:<a@b>\r\nRCPT TO:<x>\r\n', '250 ok\r\n250 ok\r\n'],
    [`MAIL FROM:<a@b>\r\nRCPT TO:<${'x'.repeat(900)}@example.com>\r\n`, '250 ok\r\n555 syntax error (#5.5.4)\r\n'],
  ];
  for (const [input, reply] of cases) {
    it(JSON.stringify(input.slice(0, 60)), () => {
      const c = converse(config(), input);
      expect(c.out).toBe(greet + reply);
      expect(c.exit).toBe(1); // EOF after the input: exit 1, no reply
    });
  }

  it('QUIT: 221 + greeting, exit 0, nothing after it is read', () => {
    const c = converse(config(), 'QUIT\r\nNOOP\r\n');
    expect(c).toMatchObject({ out: `${greet}221 mx.example.com\r\n`, exit: 0 });
  });

  it('verbs are case-insensitive; no HELO is needed', () => {
    const c = converse(config(), 'mAiL FrOm:<a@example.org>\r\nrcpt to:<b@example.com>\r\ndata\r\nhi\r\n.\r\nquit\r\n');
    expect(c.out).toBe(`${greet}${txnReplies}${accepted}221 mx.example.com\r\n`);
  });

  it('a command line past commandLineBytesMax is discarded to its LF and refused, then the session goes on', () => {
    const c = converse(config(), `NOOP ${'x'.repeat(100_000)}\r\nNOOP\r\n`, { chunk: 1000 });
    expect(c.out).toBe(`${greet}500 line too long (#5.5.2)\r\n250 ok\r\n`);
    expect(c.maxHeld).toBeLessThanOrEqual(8192 + 1000);
  });
});

describe('qmail-smtpd engine: addresses', () => {
  const rcpt = (arg: string, over = {}) => converse(config(over), `MAIL FROM:<a@b>\r\nRCPT ${arg}\r\nDATA\r\n.\r\n`).queued[0]?.recipients;
  it('quotes removed, backslash escapes, source route stripped, RFC 821 violations', () => {
    expect(rcpt('TO:<"q u"@example.com>')).toEqual(['q u@example.com']);
    expect(rcpt('to: w@example.com')).toEqual(['w@example.com']);
    expect(rcpt('to:w@example.com trailing')).toEqual(['w@example.com']);
    expect(rcpt('TO:<@relay.example,@r2:x@example.com>')).toEqual(['x@example.com']);
    expect(rcpt('TO:<a\\>b@example.com>')).toEqual(['a>b@example.com']);
    expect(rcpt('TO:<x@example.com> NOTIFY=NEVER')).toEqual(['x@example.com']);
    expect(rcpt('anything<x@example.com>')).toEqual(['x@example.com']);
  });
  it('x@[our IP] becomes x@localiphost before rcpthosts; another IP does not', () => {
    const lip = { localIp: { host: 'mx.example.net', ips: new Set(['192.0.2.25']) } };
    expect(rcpt('TO:<x@[192.0.2.25]>', lip)).toEqual(['x@mx.example.net']);
    expect(rcpt('TO:<x@[192.0.2.281]>', lip)).toEqual(['x@mx.example.net']); // ip_scan keeps the low byte
    const c = converse(config(), 'MAIL FROM:<a@b>\r\nRCPT TO:<x@[192.0.2.99]>\r\n');
    expect(c.out).toBe(`${greet}250 ok\r\n553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n`);
  });
});

describe('qmail-smtpd engine: rcpthosts, morercpthosts, RELAYCLIENT, badmailfrom', () => {
  const verdict = (addr: string, over = {}) => {
    const out = converse(config(over), `MAIL FROM:<a@b>\r\nRCPT TO:<${addr}>\r\n`).out;
    return out.slice(greet.length + '250 ok\r\n'.length).slice(0, 3);
  };
  it('exact lines and .domain wildcards, case-insensitive', () => {
    expect(verdict('x@example.com')).toBe('250');
    expect(verdict('x@EXAMPLE.Com')).toBe('250');
    expect(verdict('x@sub.example.com')).toBe('553');
    expect(verdict('x@a.b.example.net')).toBe('250');
    expect(verdict('x@example.net')).toBe('553');
    expect(verdict('x@y@example.com')).toBe('250');
    expect(verdict('x@example.com@evil.org')).toBe('553');
  });
  it('no rcpthosts: everything allowed (and morercpthosts is ignored)', () => {
    expect(verdict('x@anywhere.org', { rcptHosts: { map: null, more: null } })).toBe('250');
  });
  it('morercpthosts.cdb: exact and .suffix keys', () => {
    const more = CdbReader.open(cdbMake([[latin1Bytes('more.example'), new Uint8Array(0)], [latin1Bytes('.wild.example'), new Uint8Array(0)]]));
    const over = { rcptHosts: { map: new ConstMap(['example.com'], false), more } };
    expect(verdict('x@more.example', over)).toBe('250');
    expect(verdict('x@MORE.example', over)).toBe('250');
    expect(verdict('x@a.more.example', over)).toBe('553');
    expect(verdict('x@a.wild.example', over)).toBe('250');
    expect(verdict('x@example.com', over)).toBe('250');
  });
  it('a corrupt morercpthosts.cdb on lookup: 421 unable to read controls, exit 1', () => {
    // One hash table holding a slot for 'y.org' whose record lies past the end of the file.
    const bad = new Uint8Array(2048 + 8);
    const view = new DataView(bad.buffer);
    const h = cdbHash(latin1Bytes('y.org'));
    view.setUint32((h & 255) * 8, 2048, true);
    view.setUint32((h & 255) * 8 + 4, 1, true);
    view.setUint32(2048, h, true);
    view.setUint32(2048 + 4, 9999, true);
    const more = CdbReader.open(bad);
    const c = converse(config({ rcptHosts: { map: new ConstMap([], false), more } }), 'MAIL FROM:<a@b>\r\nRCPT TO:<x@y.org>\r\nNOOP\r\n');
    expect(c.out).toBe(`${greet}250 ok\r\n421 unable to read controls (#4.3.0)\r\n`);
    expect(c.exit).toBe(1);
  });
  it('RELAYCLIENT: rcpthosts not consulted, the value appended to every recipient', () => {
    const c = converse(config({ relayClient: '.relay' }), `MAIL FROM:<a@b>\r\nRCPT TO:<x@whatever.org>\r\nRCPT TO:<y>\r\nDATA\r\n.\r\n`);
    expect(c.queued[0]?.recipients).toEqual(['x@whatever.org.relay', 'y.relay']);
    const empty = converse(config({ relayClient: '' }), `MAIL FROM:<a@b>\r\nRCPT TO:<x@whatever.org>\r\nDATA\r\n.\r\n`);
    expect(empty.queued[0]?.recipients).toEqual(['x@whatever.org']);
  });
  it('badmailfrom: MAIL still 250, every RCPT 553; @domain lines; case-insensitive', () => {
    const bmf = new ConstMap(['spam@bad.example', '@worse.example'], false);
    for (const from of ['spam@bad.example', 'SPAM@Bad.Example', 'x@worse.example']) {
      const c = converse(config({ badMailFrom: bmf }), `MAIL FROM:<${from}>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n`);
      expect(c.out).toBe(`${greet}250 ok\r\n553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n503 RCPT first (#5.5.1)\r\n`);
    }
    const ok = converse(config({ badMailFrom: bmf }), `MAIL FROM:<ok@bad.example>\r\nRCPT TO:<b@example.com>\r\n`);
    expect(ok.out).toBe(`${greet}250 ok\r\n250 ok\r\n`);
  });
});

describe('qmail-smtpd engine: DATA', () => {
  const send = (body: string, over = {}, outcome?: Parameters<typeof converse>[2]) => converse(config(over), `${txn}${body}QUIT\r\n`, outcome);
  it('the Received line, CRLF → LF, dot-unstuffing, a lone CR kept, 250 ok T qp P', () => {
    const c = send('Subject: hi\r\n\r\n.x\r\n..y\r\na\rb\r\n.\r\n');
    expect(c.out).toBe(`${greet}${txnReplies}${accepted}221 mx.example.com\r\n`);
    expect(c.queued).toEqual([{ sender: 'a@example.org', recipients: ['b@example.com'], data: `${recv}Subject: hi\n\nx\n.y\na\rb\n` }]);
  });
  it('(HELO x) when the HELO differs from TCPREMOTEHOST; REMOTEINFO; unsafe bytes become ?', () => {
    const c = converse(config({ remoteInfo: 'id ent' }), `HELO other.example\r\n${txn}.\r\n`);
    expect(c.queued[0]?.data).toBe('Received: from client.example (HELO other.example) (id?ent@192.0.2.1)\n  by mx.example.com with SMTP; 21 Nov 2026 22:57:35 -0000\n');
    const same = converse(config(), `HELO CLIENT.example\r\n${txn}.\r\n`);
    expect(same.queued[0]?.data).toBe(recv);
  });
  it('HELO without an argument still differs from TCPREMOTEHOST: (HELO ) as qmail writes it', () => {
    const c = converse(config(), `HELO\r\n${txn}.\r\n`);
    expect(c.queued[0]?.data.split('\n')[0]).toBe('Received: from client.example (HELO ) (192.0.2.1)');
  });
  it('a second MAIL starts over: earlier recipients are dropped', () => {
    const c = converse(config(), `MAIL FROM:<a@b>\r\nRCPT TO:<x@example.com>\r\nMAIL FROM:<c@d>\r\nRCPT TO:<y@example.com>\r\nDATA\r\n.\r\n`);
    expect(c.queued.map((q) => [q.sender, q.recipients])).toEqual([['c@d', ['y@example.com']]]);
  });
  it('bare LF in DATA: 451 See https://cr.yp.to/docs/smtplf.html. and exit 1 at once', () => {
    for (const body of ['a\nb\r\n.\r\n', '\n', '.\n', 'x\r\n.\n']) {
      const c = send(body);
      expect(c.out).toBe(`${greet}${txnReplies}451 See https://cr.yp.to/docs/smtplf.html.\r\n`);
      expect(c).toMatchObject({ exit: 1, queued: [] });
    }
  });
  it('hops: 99 Received/Delivered-To lines pass, 100 are a loop; only the header counts', () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? 'Delivered-To: x\r\n' : 'RECEIVED: y\r\n')).join('');
    expect(send(`${lines(99)}\r\nbody\r\n.\r\n`).out).toContain(accepted);
    const loop = send(`${lines(100)}\r\n.\r\n`);
    expect(loop.out).toBe(`${greet}${txnReplies}554 too many hops, this message is looping (#5.4.6)\r\n221 mx.example.com\r\n`);
    expect(loop.queued).toEqual([]);
    expect(send(`a: b\r\n\r\n${lines(150)}.\r\n`).out).toContain(accepted);
    expect(send(`${'receivedx\r\n'.repeat(100)}.\r\n`).out).toContain('554 too many hops');
    expect(send(`${'receive\r\n'.repeat(100)}.\r\n`).out).toContain(accepted);
  });
  it('databytes: exactly databytes stored bytes pass, one more is 552 (read to the end)', () => {
    expect(send('123456789\r\n.\r\n', { databytes: 10 }).out).toContain(accepted); // 10 bytes stored
    const big = send('1234567890\r\n.\r\n', { databytes: 10 });
    expect(big.out).toBe(`${greet}${txnReplies}552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n221 mx.example.com\r\n`);
    expect(big.queued).toEqual([]);
  });
  it('hops win over databytes', () => {
    expect(send(`${'Received: x\r\n'.repeat(100)}.\r\n`, { databytes: 10 }).out).toContain('554 too many hops');
  });
  it('qmail-queue exit codes: D → 554 text, Z → 451 text; DATA ends the transaction', () => {
    const perm = send('.\r\n', {}, { outcome: { kind: 'D', message: 'Dmail server permanently rejected message (#5.3.0)', pid: 1 } });
    expect(perm.out).toBe(`${greet}${txnReplies}554 mail server permanently rejected message (#5.3.0)\r\n221 mx.example.com\r\n`);
    const temp = converse(config(), `${txn}.\r\nDATA\r\n`, { outcome: { kind: 'Z', message: 'Zqq write error or disk full (#4.3.0)', pid: 1 } });
    expect(temp.out).toBe(`${greet}${txnReplies}451 qq write error or disk full (#4.3.0)\r\n503 MAIL first (#5.5.1)\r\n`);
  });
  it('qmail-queue cannot start: 451 qqt failure, the transaction is over, the rest is commands', () => {
    const c = converse(config(), `${txn}NOOP\r\n`, { queueOpens: false });
    expect(c.out).toBe(`${greet}250 ok\r\n250 ok\r\n451 qqt failure (#4.3.0)\r\n250 ok\r\n`);
  });
  it('EOF in DATA: exit 1, no reply, nothing queued', () => {
    const c = converse(config(), `${txn}Subject: x\r\n`);
    expect(c).toMatchObject({ out: `${greet}${txnReplies}`, exit: 1, queued: [] });
  });
  it('pipelined transactions and a chunking that splits every byte give the same result', () => {
    const input = `${txn}one\r\n.\r\nMAIL FROM:<c@d>\r\nRCPT TO:<e@example.com>\r\nRCPT TO:<f@g.example.net>\r\nDATA\r\n.two\r\n.\r\nQUIT\r\n`;
    const whole = converse(config(), input);
    expect(converse(config(), input, { chunk: 1 })).toEqual({ ...whole, maxHeld: expect.any(Number) as number });
    expect(whole.queued.map((q) => q.recipients)).toEqual([['b@example.com'], ['e@example.com', 'f@g.example.net']]);
    expect(whole.queued[1]?.data).toBe(`${recv}two\n`);
  });
});
