// qmail-smtpd --listen started as root on this host (loopback): it starts qmail-queued as qmailq,
// becomes qmaild, and queues every session's message through that one process.
//   a. /proc: the listener runs as qmaild (real, effective, saved), qmail-queued (its child) as
//      qmailq, with no other group; the queue's files are qmailq's (mess files watched during c).
//   b. swaks in: the message lands in ~qnetq/Maildir/new byte for byte, with qmail-queue's
//      Received line "(qmail <qmail-queued's pid> invoked from network)" and "250 ok T qp <pid>".
//   c. smtp-source, 10 sessions, 500 messages: every one delivered, none twice.
//   d. qmail-queued killed: the listener exits 111 (supervise would start both again).
// Needs root, cc, swaks, smtp-source (postfix), /tmp not nosuid.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accepted250 } from '../../spec/smtpd.ts';
import { receivedLineRe } from '../../spec/received.ts';
import { buildIntoTemp, isRoot, nosuid, qmailSetup, removeTemp } from '../../conformance/queue/host-install.ts';
import { gidOfGroup, primaryGidOf, uidOf, userWithMaildir } from '../../conformance/host/accounts.ts';
import { filesIn, freePort, killGroup, missingTools, smtpSource, startQmail, startRootListener, tcprules, waitFor, type Started } from './mta-host.ts';

const userName = 'qnetq'; // its own account: smtp-host.test.ts, running at the same time, points qnetu's home elsewhere
const domain = 'host.example';
const missing = missingTools(['swaks', 'smtp-source', 'tcprules', 'cc']);
const reason = !isRoot
  ? 'needs root: installs qmail, creates users, starts the listener as root'
  : missing.length > 0
    ? `missing ${missing.join(', ')} (.ci/run installs them)`
    : nosuid('/tmp')
      ? 'needs /tmp without nosuid: bin/qmail-queue is setuid qmailq'
      : null;
if (reason !== null) console.warn(`smtp-queued-host.test.ts: skipped: ${reason}`);

const dataWire = 'From: joe@client.test\r\nTo: you\r\nSubject: queued test\r\n\r\nhello\r\n..one dot\r\n\r\nend\r\n.\r\n';
const dataLf = 'From: joe@client.test\nTo: you\nSubject: queued test\n\nhello\n.one dot\n\nend\n';

interface ProcIds {
  uids: number[];
  gids: number[];
  groups: number[];
}

/** Real, effective, saved and fs uids and gids, and the groups, as the kernel shows them. */
function idsOf(pid: number): ProcIds {
  const st = readFileSync(`/proc/${pid}/status`, 'latin1');
  const nums = (key: string): number[] => (new RegExp(`^${key}:(.*)$`, 'm').exec(st)?.[1] ?? '').trim().split(/\s+/).filter((x) => x !== '').map(Number);
  return { uids: nums('Uid'), gids: nums('Gid'), groups: nums('Groups') };
}

/** Children of pid with their argv. */
function childrenOf(pid: number): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue;
      out.push({ pid: Number(name), argv: readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').filter((s) => s !== '') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(reason !== null)('qmail-smtpd --listen started as root, with qmail-queued (host, loopback)', () => {
  let tmp: string;
  let home: string;
  let maildirNew: string;
  let qmail: Started;
  let listener: Started;
  let port = 0;
  let queuedPid = 0;
  const started: Started[] = [];

  beforeAll(async () => {
    tmp = buildIntoTemp('qmail-queued-');
    home = join(tmp, 'qmail');
    qmailSetup(tmp, home, { split: 23 });
    maildirNew = join(userWithMaildir(tmp, userName).maildir, 'new');
    for (const [name, text] of [['me', domain], ['locals', domain], ['rcpthosts', domain]]) writeFileSync(join(home, 'control', name as string), `${text}\n`, { mode: 0o644 });
    qmail = await startQmail(home);
    started.push(qmail);
    port = await freePort();
    listener = await startRootListener(home, port);
    started.push(listener);
  }, 120_000);

  afterAll(() => {
    for (const s of started) killGroup(s);
    removeTemp(tmp);
  });

  it('a. the listener runs as qmaild, its qmail-queued as qmailq', async () => {
    const pid = listener.child.pid as number;
    await waitFor('qmail-queued', () => childrenOf(pid).some((c) => c.argv.some((a) => a.endsWith('/qmail-queued'))), 10_000, listener);
    const qmaild = uidOf('qmaild');
    const nofiles = primaryGidOf('qmaild');
    expect(idsOf(pid)).toEqual({ uids: [qmaild, qmaild, qmaild, qmaild], gids: [nofiles, nofiles, nofiles, nofiles], groups: [nofiles] });
    const kids = childrenOf(pid);
    expect(kids).toHaveLength(1);
    const q = kids[0]!;
    queuedPid = q.pid;
    expect(q.argv.slice(-2)).toEqual([join(home, 'bin/qmail-queued'), String(qmaild)]);
    const qmailq = uidOf('qmailq');
    const qmailGid = gidOfGroup('qmail');
    const ids = idsOf(q.pid);
    expect({ uids: ids.uids, gids: ids.gids }).toEqual({ uids: [qmailq, qmailq, qmailq, qmailq], gids: [qmailGid, qmailGid, qmailGid, qmailGid] });
    // libuv's spawn clears the supplementary groups for a child with a uid (impl/sys/host/spawn.ts).
    expect([[], [qmailGid]]).toContainEqual(ids.groups);
  });

  it('b. swaks -> listener -> qmail-queued -> ~qnetq/Maildir/new, byte for byte', async () => {
    const before = new Set(filesIn(maildirNew));
    const file = join(tmp, 'data.eml');
    writeFileSync(file, dataWire);
    const t0 = Date.now();
    const r = spawnSync('swaks', ['--server', `127.0.0.1:${port}`, '--timeout', '30', '--helo', 'client.test', '--from', 'joe@client.test', '--to', `${userName}@${domain}`, '--data', file, '--no-data-fixup'], { encoding: 'latin1', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const m = /^<- {2}(250 ok (\d+) qp (\d+))$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(`${m![1]}\r\n`).toBe(accepted250(Number(m![2]), queuedPid));
    expect(Number(m![2])).toBeGreaterThanOrEqual(Math.floor(t0 / 1000));
    await waitFor('the message in Maildir/new', () => filesIn(maildirNew).some((f) => !before.has(f)), 30_000, qmail);
    const fresh = filesIn(maildirNew).filter((f) => !before.has(f));
    expect(fresh).toHaveLength(1);
    const stored = readFileSync(join(maildirNew, fresh[0]!), 'latin1');
    const lines = stored.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Return-Path: <joe@client.test>', `Delivered-To: ${userName}@${domain}`]);
    expect(`${lines[2]}\n`).toMatch(receivedLineRe);
    expect(lines[2]).toContain(`(qmail ${queuedPid} invoked from network); `);
    expect(`${lines[3]}\n${lines[4]}\n`).toMatch(/^Received: from unknown \(HELO client\.test\) \(127\.0\.0\.1\)\n {2}by 127\.0\.0\.1 with SMTP; [^\n]+ -0000\n$/);
    expect(lines.slice(5).join('\n')).toBe(dataLf);
  });

  it('c. smtp-source, 10 sessions, 500 messages: all delivered once', async () => {
    const before = filesIn(maildirNew).length;
    const qmailq = uidOf('qmailq');
    const owners = new Set<number>();
    const watch = setInterval(() => {
      for (let i = 0; i < 23; i++) {
        for (const f of readdirSync(join(home, 'queue/mess', String(i)))) {
          try {
            owners.add(statSync(join(home, 'queue/mess', String(i), f)).uid);
          } catch {
            // delivered meanwhile
          }
        }
      }
    }, 50);
    const t0 = Date.now();
    const r = await smtpSource(port, 10, 500, 'source@client.test', `${userName}@${domain}`);
    const smtpMs = Date.now() - t0;
    expect(r.code, r.out).toBe(0);
    await waitFor('500 deliveries', () => filesIn(maildirNew).length >= before + 500, 180_000, qmail);
    clearInterval(watch);
    await new Promise((res) => setTimeout(res, 500)); // nothing more (no duplicate) arrives
    expect(filesIn(maildirNew).length).toBe(before + 500);
    expect([...owners].every((u) => u === qmailq), String([...owners])).toBe(true);
    expect(owners.size).toBe(1);
    console.info(`smtp-queued-host: 500 messages over SMTP in ${smtpMs} ms (${Math.round(500_000 / smtpMs)} msg/s)`);
  }, 240_000);

  it('d. -x rules.cdb from the real tcprules: RELAYCLIENT for 127.0.0.1 opens relaying; a deny rule closes before the greeting', async () => {
    const rules = join(tmp, 'tcp.smtp.cdb');
    const relayTo = 'someone@elsewhere.test';
    const swaksRcpt = (p: number): ReturnType<typeof spawnSync> =>
      spawnSync('swaks', ['--server', `127.0.0.1:${p}`, '--timeout', '20', '--helo', 'client.test', '--from', 'joe@client.test', '--to', relayTo, '--quit-after', 'RCPT'], { encoding: 'latin1', timeout: 60_000 });
    const withRules = async (text: string): Promise<ReturnType<typeof spawnSync>> => {
      tcprules(rules, text);
      const p = await freePort();
      const l = await startRootListener(home, p, {}, ['-x', rules]);
      started.push(l);
      try {
        return swaksRcpt(p);
      } finally {
        killGroup(l);
      }
    };
    const relay = await withRules('127.0.0.1:allow,RELAYCLIENT=""\n:allow\n');
    expect(relay.status, String(relay.stdout)).toBe(0);
    expect(String(relay.stdout)).toMatch(/^<- {2}250 ok\r?$/m);
    const plain = await withRules('10.:allow,RELAYCLIENT=""\n:allow\n');
    expect(String(plain.stdout)).toContain("<** 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
    const denied = await withRules('127.:deny\n');
    expect(denied.status).not.toBe(0);
    expect(String(denied.stdout)).not.toMatch(/^<- {2}220 /m);
  }, 120_000);

  it('e. qmail-queued killed: the listener exits 111', async () => {
    expect(queuedPid).toBeGreaterThan(0);
    process.kill(queuedPid, 'SIGKILL');
    const done = await Promise.race([listener.exit, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
    expect(done).toEqual({ code: 111, signal: null });
    expect(listener.err(), listener.err()).toContain('qmail-smtpd: qmail-queued died');
  });
});
