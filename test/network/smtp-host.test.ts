// Mail over real SMTP on this host, as root, loopback only: a full installation in a temporary
// directory (qmail-setup --create-users, built programs), an ordinary user (qnetu) with ./Maildir/,
// qmail-start in a process group of its own, and qmail-smtpd both as the long-lived --listen
// listener (no RELAYCLIENT) and under tcpserver with tcprules giving loopback RELAYCLIENT, both as
// qmaild. Clients and peers are the real ones: swaks, postfix's smtp-source, and nodemailer's
// smtp-server as the remote peer that control/smtproutes routes remote.test to.
//   a. swaks in: the message lands in ~qnetu/Maildir/new byte for byte (Return-Path, Delivered-To,
//      qmail-queue's Received, qmail-smtpd's Received, the data with CRLF made LF and dots
//      unstuffed); the replies are spec/smtpd.ts's (in swaks's transcript, and byte for byte with
//      their CRLFs on a plain socket); 553 for a domain outside rcpthosts.
//   b. smtp-source, 10 sessions, 200 messages: every one delivered.
//   c. out: a message for remote.test reaches the peer with its envelope, the log shows success;
//      a recipient the peer refuses with 550 bounces back to the sender's Maildir.
//   d. swaks -> qmail-smtpd (RELAYCLIENT) -> queue -> qmail-rspawn -> peer, bytes compared.
// Needs root, cc, setpriv, swaks, tcpserver/tcprules (ucspi-tcp), smtp-source (postfix), /tmp not nosuid.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accepted250, greeting220, helo250, quit221, smtpdReply } from '../../spec/smtpd.ts';
import { receivedLineRe } from '../../spec/received.ts';
import { bounceSingleIntro, bounceSingleSeparator, bounceSubject } from '../../spec/send.ts';
import { recipientRejectText, remoteTextPrefix } from '../../spec/remote.ts';
import { buildIntoTemp, isRoot, nosuid, qmailSetup, removeTemp } from '../../conformance/queue/host-install.ts';
import { queueAs, userWithMaildir, type MaildirUser } from '../../conformance/host/accounts.ts';
import {
  filesIn, freePort, killGroup, missingTools, smtpSource, startListener, startPeer, startQmail, startTcpserver, tcprules, waitFor,
  type Peer, type Started,
} from './mta-host.ts';

const userName = 'qnetu';
const domain = 'host.example';
const remoteDomain = 'remote.test';
const missing = missingTools(['swaks', 'tcpserver', 'tcprules', 'smtp-source', 'setpriv', 'cc']);
const reason = !isRoot
  ? 'needs root: installs qmail, creates users, runs daemons under the qmail uids'
  : missing.length > 0
    ? `missing ${missing.join(', ')} (.ci/run installs them)`
    : nosuid('/tmp')
      ? 'needs /tmp without nosuid: bin/qmail-queue is setuid qmailq'
      : null;
if (reason !== null) console.warn(`smtp-host.test.ts: skipped: ${reason}`);

/** The DATA bytes swaks sends as they are (--no-data-fixup): CRLF lines, two dot-stuffed, the final
 *  dot; and what is stored: LF lines, dots unstuffed, no final dot. */
const dataWire = 'From: joe@client.test\r\nTo: you\r\nSubject: network test\r\n\r\nhello\r\n..one dot\r\n...two dots\r\n\r\nend\r\n.\r\n';
const dataLf = 'From: joe@client.test\nTo: you\nSubject: network test\n\nhello\n.one dot\n..two dots\n\nend\n';

describe.skipIf(reason !== null)('SMTP in and out on this host (root, loopback)', () => {
  let tmp: string;
  let home: string;
  let maildirNew: string;
  let user: MaildirUser;
  let qmail: Started;
  let listener: Started;
  let tcpsrv: Started;
  let peer: Peer;
  let listenPort = 0;
  let tcpPort = 0;
  const started: Started[] = [];

  beforeAll(async () => {
    tmp = buildIntoTemp('qmail-net-');
    home = join(tmp, 'qmail');
    qmailSetup(tmp, home, { split: 23 });
    user = userWithMaildir(tmp, userName);
    maildirNew = join(user.maildir, 'new');
    peer = await startPeer();
    const control = (name: string, text: string): void => writeFileSync(join(home, 'control', name), text, { mode: 0o644 });
    control('me', `${domain}\n`);
    control('locals', `${domain}\n`);
    control('rcpthosts', `${domain}\n`);
    control('smtproutes', `${remoteDomain}:127.0.0.1:${peer.port}\n`);
    tcprules(join(tmp, 'tcp.smtp.cdb'), '127.0.0.1:allow,RELAYCLIENT=""\n:deny\n');
    qmail = await startQmail(home);
    started.push(qmail);
    listenPort = await freePort();
    listener = await startListener(home, listenPort);
    started.push(listener);
    tcpPort = await freePort();
    tcpsrv = await startTcpserver(home, tcpPort, domain, join(tmp, 'tcp.smtp.cdb'));
    started.push(tcpsrv);
  });

  afterAll(async () => {
    for (const s of started) killGroup(s);
    await peer?.close();
    removeTemp(tmp);
  });

  const swaks = (port: number, args: string[]) =>
    spawnSync('swaks', ['--server', `127.0.0.1:${port}`, '--timeout', '30', '--helo', 'client.test', ...args], { encoding: 'latin1', timeout: 60_000 });

  /** Runs swaks with dataWire; returns its transcript and the T and qp of its 250 ok. */
  function send(port: number, from: string, to: string, t0: number): { out: string; qp: number } {
    const file = join(tmp, 'data.eml');
    writeFileSync(file, dataWire);
    const r = swaks(port, ['--from', from, '--to', to, '--data', file, '--no-data-fixup']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const m = /^<- {2}(250 ok (\d+) qp (\d+))$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [, line, t, qp] = m as RegExpExecArray;
    expect(`${line}\r\n`).toBe(accepted250(Number(t), Number(qp)));
    expect(Number(t)).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
    expect(Number(t)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    return { out: r.stdout, qp: Number(qp) };
  }

  /** The two Received lines a message from swaks gets: qmail-queue's (pid qp, from network), then
   *  qmail-smtpd's (notqmail received.c: no TCPREMOTEHOST, so "unknown"; HELO differs from it). */
  function expectReceived(text: string, qp: number, local: string): string {
    const lines = text.split('\n');
    const qq = `${lines[0]}\n`;
    expect(qq).toMatch(receivedLineRe);
    expect(qq).toContain(`(qmail ${qp} invoked from network); `);
    const qqDate = Date.parse(/; ([^;]*)\n$/.exec(qq)?.[1] as string);
    const smtpd = `${lines[1]}\n${lines[2]}\n`;
    const m = new RegExp(`^Received: from unknown \\(HELO client\\.test\\) \\(127\\.0\\.0\\.1\\)\\n {2}by ${local.replaceAll('.', '\\.')} with SMTP; ([0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} -0000)\\n$`).exec(smtpd);
    expect(m, smtpd).not.toBeNull();
    // Both are dated when DATA begins (qmail-queue starts just before 354, qmail-smtpd's line after).
    const lag = Math.abs(qqDate - Date.parse(m?.[1] as string));
    expect(lag <= 10_000, `${qq}${smtpd}`).toBe(true);
    return lines.slice(3).join('\n');
  }

  async function newMessage(before: Set<string>): Promise<string> {
    await waitFor('a new message in Maildir/new', () => filesIn(maildirNew).some((f) => !before.has(f)), 30_000, qmail);
    const fresh = filesIn(maildirNew).filter((f) => !before.has(f));
    expect(fresh).toHaveLength(1);
    return readFileSync(join(maildirNew, fresh[0] as string), 'latin1');
  }

  for (const via of ['listener', 'tcpserver'] as const) {
    it(`a. swaks -> qmail-smtpd (${via}) -> queue -> ~${userName}/Maildir/new, byte for byte`, async () => {
      const port = via === 'listener' ? listenPort : tcpPort;
      const before = new Set(filesIn(maildirNew));
      const t0 = Date.now();
      const { out, qp } = send(port, 'joe@client.test', `${userName}@${domain}`, t0);
      expect(out).toContain(`<-  ${greeting220(domain).trimEnd()}\n`);
      const stored = await newMessage(before);
      const head = `Return-Path: <joe@client.test>\nDelivered-To: ${userName}@${domain}\n`;
      expect(stored.slice(0, head.length)).toBe(head);
      // Under tcpserver -l the local name is TCPLOCALHOST; the listener has only TCPLOCALIP.
      expect(expectReceived(stored.slice(head.length), qp, via === 'tcpserver' ? domain : '127.0.0.1')).toBe(dataLf);
      expect(qmail.out()).toMatch(new RegExp(`^starting delivery \\d+: msg \\d+ to local ${userName}@host\\.example$`, 'm'));
    });
  }

  it('a. a recipient outside rcpthosts gets the 553 (listener: no RELAYCLIENT)', () => {
    const r = swaks(listenPort, ['--from', 'joe@client.test', '--to', 'x@elsewhere.test', '--quit-after', 'RCPT']);
    expect(r.stdout).toContain(`<** ${smtpdReply.noGateway.trimEnd()}\n`);
  });

  it('a. the reply bytes, CRLF included, on a plain socket: greeting, HELO, MAIL, 553, QUIT', async () => {
    const sock = connect(listenPort, '127.0.0.1');
    let got = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (got += d));
    const expectReply = async (want: string): Promise<void> => {
      await waitFor(`the reply ${JSON.stringify(want)}`, () => got.length >= want.length, 10_000);
      expect(got).toBe(want);
      got = '';
    };
    await expectReply(greeting220(domain));
    sock.write('HELO client.test\r\n');
    await expectReply(helo250(domain));
    sock.write('MAIL FROM:<joe@client.test>\r\n');
    await expectReply(smtpdReply.ok);
    sock.write('RCPT TO:<x@elsewhere.test>\r\n');
    await expectReply(smtpdReply.noGateway);
    sock.write('QUIT\r\n');
    await expectReply(quit221(domain));
    sock.destroy();
  });

  it('b. smtp-source, 10 sessions, 200 messages into the listener: all 200 in the Maildir', async () => {
    const before = filesIn(maildirNew).length;
    const r = await smtpSource(listenPort, 10, 200, 'source@client.test', `${userName}@${domain}`);
    expect(r.code, r.out).toBe(0);
    await waitFor('200 deliveries', () => filesIn(maildirNew).length >= before + 200, 120_000, qmail);
    await new Promise((res) => setTimeout(res, 500)); // nothing more (no duplicate) arrives
    expect(filesIn(maildirNew).length).toBe(before + 200);
  }, 180_000);

  /** Queues a message as qnetu with bin/qmail-queue (setuid qmailq). */
  const queueAsUser = (message: string, envelope: string): Promise<number | null> => queueAs(home, user.uid, user.gid, message, envelope);

  it('c. a message for remote.test goes to the smtp-server peer with its envelope; logged as success', async () => {
    const n = peer.messages.length;
    const message = 'Subject: out\n\n.dot\nbye\n';
    expect(await queueAsUser(message, `F${userName}@${domain}\0Tyou@${remoteDomain}\0\0`)).toBe(0);
    await waitFor('the peer to receive it', () => peer.messages.length > n, 30_000, qmail);
    const got = peer.messages[n];
    expect({ from: got?.from, to: got?.to }).toEqual({ from: `${userName}@${domain}`, to: [`you@${remoteDomain}`] });
    const data = got?.data.toString('latin1') ?? '';
    const [qq, ...rest] = data.split('\r\n');
    expect(`${qq}\n`).toMatch(new RegExp(receivedLineRe.source.replace('(by alias|from network|for bounce|by uid [0-9]+)', `by uid ${user.uid}`)));
    expect(rest.join('\r\n')).toBe(message.replaceAll('\n', '\r\n'));
    await waitFor('the success line', () => /^delivery \d+: success: 127\.0\.0\.1_accepted_message\.\/Remote_host_said:_250_/m.test(qmail.out()), 30_000, qmail);
    expect(qmail.out()).toMatch(new RegExp(`^starting delivery \\d+: msg \\d+ to remote you@remote\\.test$`, 'm'));
  });

  it('c. a recipient the peer refuses with 550: the bounce comes back to the sender\'s Maildir', async () => {
    const before = new Set(filesIn(maildirNew));
    const message = 'Subject: refused\n\nfor nobody\n';
    expect(await queueAsUser(message, `F${userName}@${domain}\0Tnobody@${remoteDomain}\0\0`)).toBe(0);
    const bounce = await newMessage(before);
    expect(peer.rejected).toContain(`nobody@${remoteDomain}`);
    expect(bounce.startsWith(`Return-Path: <>\nDelivered-To: ${userName}@${domain}\n`)).toBe(true);
    expect(bounce).toContain(`\n${bounceSubject}`);
    expect(bounce).toContain(`\n\nHi. This is the qmail-send program at ${domain}.\n${bounceSingleIntro}<nobody@${remoteDomain}>:\n127.0.0.1${recipientRejectText}${remoteTextPrefix}550 5.1.1 no such user here\n`);
    expect(bounce).toContain(`${bounceSingleSeparator}Return-Path: <${userName}@${domain}>\n`);
    expect(bounce.endsWith(`\n${message}`)).toBe(true);
    expect(qmail.out()).toMatch(/^delivery \d+: failure: 127\.0\.0\.1_does_not_like_recipient\.\/Remote_host_said:_550_5\.1\.1_no_such_user_here\//m);
  });

  it('d. swaks -> qmail-smtpd under tcpserver (RELAYCLIENT) -> queue -> qmail-rspawn -> peer, bytes compared', async () => {
    const n = peer.messages.length;
    const { qp } = send(tcpPort, 'joe@client.test', `relayed@${remoteDomain}`, Date.now());
    await waitFor('the peer to receive it', () => peer.messages.length > n, 30_000, qmail);
    const got = peer.messages[n];
    expect({ from: got?.from, to: got?.to }).toEqual({ from: 'joe@client.test', to: [`relayed@${remoteDomain}`] });
    // What qmail-remote sent: the queued message (two Received lines + the LF data), LF made CRLF.
    const asLf = (got?.data.toString('latin1') ?? '').replaceAll('\r\n', '\n');
    expect((got?.data.toString('latin1') ?? '').replaceAll('\r\n', '')).not.toContain('\n');
    expect(expectReceived(asLf, qp, domain)).toBe(dataLf);
  });

  it('no daemon complained on fd 2', () => {
    for (const s of [qmail, listener]) expect(s.err()).not.toMatch(/fatal|internal error|"level":50/);
    expect(execFileSync(join(home, 'bin/qmail-qstat'), [], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', QMAILHOME: home } })).toMatch(/^messages in queue: 0\n/);
  });
});
