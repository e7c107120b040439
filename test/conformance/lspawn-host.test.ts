// qmail-lspawn on this host, as root: the build installed by qmail-setup into a temporary home, run as
// qmail-start runs it, speaking the spawn protocol, with real mess files queued by the installed
// setuid qmail-queue and ordinary users created here (homes of their own under the temporary
// directory; one with a supplementary group). Checked:
//   - mail lands in the user's Maildir, owned by the user, with the queued bytes;
//   - a |program runs with the user's uid, gid and groups (id proves it), MESSID set; supplementary
//     groups only with SETUSER_PRIVILEGES;
//   - .qmail-default catches extensions; a world-writable or a sticky home defers;
//   - nothing is ever delivered as root; hostile addresses get clear reports and write nothing
//     outside the maildirs; QMAILLOCAL=bin/qmail-local delivers the same way.
// Needs root, cc, setpriv, useradd, flock (skipped otherwise, saying why).

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIntoTemp, gidOfGroup, isRoot, nosuid, qmailSetup, removeTemp } from '../../conformance/queue/host-install.ts';
import { aliasNoMailboxReport, command, ensureHomeUser, queueMessage, runLspawn, userFile, type HostUser } from '../../conformance/lspawn/host-world.ts';
import { localText } from '../../spec/local.ts';
import { spawnReports, spawnConcurrency } from '../../spec/spawn.ts';

const split = 23;

/** Every path below dir except the queue and the maildirs' contents (what a delivery may change). */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (/\/queue$|\/Maildir\/(new|cur|tmp)$|\/envelope-/.test(p)) continue;
      out.push(p);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}
const skip = !isRoot
  ? 'needs root: runs qmail-lspawn as root, creates users and installs a setuid-qmailq helper'
  : nosuid(tmpdir())
    ? `needs a temporary directory not mounted nosuid (${tmpdir()} is)`
    : null;
if (skip !== null) console.warn(`lspawn-host.test.ts: skipped: ${skip}`);

describe.skipIf(skip !== null)('qmail-lspawn on this host (root)', () => {
  let tmp: string;
  let home: string;
  let plain: HostUser;
  let grouped: HostUser;
  let writable: HostUser;
  let sticky: HostUser;
  let extraGid: number;

  beforeAll(() => {
    tmp = buildIntoTemp('qmail-lspawn-');
    home = join(tmp, 'qmail');
    qmailSetup(tmp, home, { split });
    const homes = join(tmp, 'home');
    plain = ensureHomeUser('qmlsp1', join(homes, 'qmlsp1'));
    grouped = ensureHomeUser('qmlsp2', join(homes, 'qmlsp2'), 'qmlspx');
    writable = ensureHomeUser('qmlsp3', join(homes, 'qmlsp3'));
    sticky = ensureHomeUser('qmlsp4', join(homes, 'qmlsp4'));
    chmodSync(writable.home, 0o777);
    chmodSync(sticky.home, 0o1755);
    extraGid = gidOfGroup('qmlspx');
    for (const u of [plain, grouped]) userFile(u, '.qmail-id', '|id -u; id -g; id -G; echo "$MESSID"\n');
    userFile(plain, '.qmail-default', './Maildir/\n');
  });
  afterAll(() => removeTemp(tmp));

  const aliasNoMailbox = (): string => aliasNoMailboxReport(localText.noMailbox, localText.switchHome);
  const newu = (): void => {
    execFileSync(join(home, 'bin/qmail-newu'), [], { env: { QMAILHOME: home, PATH: '/usr/bin:/bin' } });
  };
  const message = (n: number): string => `Subject: host test ${n}\n\nbody ${n}\n${'z'.repeat(500)}\n`;
  const newFiles = (u: HostUser): string[] => readdirSync(join(u.home, 'Maildir/new'));

  it('delivers into the Maildir, owned by the user, with the queued bytes', async () => {
    const m = queueMessage(home, split, message(1), 'qmlsp1@example.com');
    const before = newFiles(plain).length;
    const r = await runLspawn(home, command(3, m, 'sender@example.com', 'qmlsp1@example.com'));
    expect({ code: r.code, concurrency: r.concurrency, reports: [...r.reports] }).toEqual({ code: 0, concurrency: spawnConcurrency, reports: [[3, 'Kdid 1+0+0\n']] });
    const files = newFiles(plain);
    expect(files.length).toBe(before + 1);
    const mess = readFileSync(join(home, 'queue/mess', m));
    const file = join(plain.home, 'Maildir/new', files.sort().at(-1) as string);
    const got = readFileSync(file);
    expect(got.subarray(got.length - mess.length).equals(mess)).toBe(true);
    expect(got.toString().startsWith('Return-Path: <sender@example.com>\nDelivered-To: qmlsp1@example.com\n')).toBe(true);
    const st = statSync(file);
    expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: plain.uid, gid: plain.gid });
  });

  it('runs a |program as the user: uid, gid, exactly [gid] without SETUSER_PRIVILEGES; MESSID set', async () => {
    const m = queueMessage(home, split, message(2), 'qmlsp2-id@example.com');
    const r = await runLspawn(home, command(0, m, 's@example.com', 'qmlsp2-id@example.com'));
    expect(r.reports.get(0)).toBe(`K${grouped.uid}\n${grouped.gid}\n${grouped.gid}\n${m}\ndid 0+0+1\n`);
  });

  it('with SETUSER_PRIVILEGES the supplementary group shows', async () => {
    const m = queueMessage(home, split, message(3), 'qmlsp2-id@example.com');
    const r = await runLspawn(home, command(0, m, 's@example.com', 'qmlsp2-id@example.com'), { SETUSER_PRIVILEGES: '1' });
    expect(r.reports.get(0)).toBe(`K${grouped.uid}\n${grouped.gid}\n${grouped.gid} ${extraGid}\n${m}\ndid 0+0+1\n`);
  });

  it('.qmail-default catches extensions', async () => {
    const m = queueMessage(home, split, message(4), 'qmlsp1-anything@example.com');
    const before = newFiles(plain).length;
    const r = await runLspawn(home, command(1, m, 's@example.com', 'qmlsp1-anything@example.com'));
    expect(r.reports.get(1)).toBe('Kdid 1+0+0\n');
    expect(newFiles(plain).length).toBe(before + 1);
  });

  it('a world-writable home or a sticky home defers, and nothing is written', async () => {
    const m = queueMessage(home, split, message(5), 'qmlsp3@example.com');
    const r = await runLspawn(home, Buffer.concat([command(0, m, 's@x', 'qmlsp3@example.com'), command(1, m, 's@x', 'qmlsp4@example.com')]));
    expect(r.reports.get(0)).toBe(`Z${localText.homeWritable}\n`);
    expect(r.reports.get(1)).toBe(`Z${localText.homeSticky}\n`);
    expect(newFiles(writable)).toEqual([]);
    expect(newFiles(sticky)).toEqual([]);
  });

  it('never delivers as root: users/cdb with uid 0 is refused; root@ goes to alias, not to root', async () => {
    writeFileSync(join(home, 'users/assign'), '=toor:root:0:0:/root:::\n.\n');
    newu();
    const m = queueMessage(home, split, message(6), 'toor@example.com');
    const r = await runLspawn(home, Buffer.concat([command(0, m, 's@x', 'toor@example.com'), command(1, m, 's@x', 'root@example.com')]));
    expect(r.reports.get(0)).toBe('ZNot allowed to perform deliveries as root.\n');
    // root@ is alias's (getpw skips uid 0), and alias has no .qmail-root: never a delivery as root.
    expect(r.reports.get(1)).toBe(aliasNoMailbox());
    writeFileSync(join(home, 'users/assign'), '.\n');
    newu();
  });

  it('hostile addresses get clear reports and write nothing outside the maildirs', async () => {
    const m = queueMessage(home, split, message(7), 'qmlsp1@example.com');
    const before = newFiles(plain).length;
    const tree = treeOf(tmp);
    const passwd = statSync('/etc/passwd').mtimeMs;
    const hostile: [string, string][] = [
      ['../../etc/passwd@example.com', aliasNoMailbox()], // alias, ext "../../etc/passwd": no such .qmail
      ['qmlsp1/../qmlsp2@example.com', aliasNoMailbox()],
      [`${'a'.repeat(2000)}@example.com`, aliasNoMailbox()],
      ['QMLSP1@example.com', 'Kdid 1+0+0\n'], // getpw lowercases: qmlsp1's mailbox
      ['qmlsp1', spawnReports.noHost],
    ];
    const r = await runLspawn(home, Buffer.concat(hostile.map(([a], i) => command(i, m, 's@x', a))));
    expect([...r.reports].sort((a, b) => a[0] - b[0]).map(([, t]) => t)).toEqual(hostile.map(([, t]) => t));
    expect(newFiles(plain).length).toBe(before + 1);
    expect(treeOf(tmp)).toEqual(tree);
    expect(statSync('/etc/passwd').mtimeMs).toBe(passwd);
    // A NUL cannot be part of an address: it ends the field. `qml\0...` is the recipient `qml`.
    const nul = await runLspawn(home, Buffer.concat([Buffer.of(9), Buffer.from(`${m}\0s@x\0qml\0`)]));
    expect(nul.reports.get(9)).toBe(spawnReports.noHost);
  });

  it('QMAILLOCAL: qmail-local\'s argv, fd 0 the message file (seekable), fds 1 and 2 one pipe, as the user', async () => {
    const script = join(tmp, 'fake-local');
    writeFileSync(script, '#!/bin/sh\necho "argv: $*"\necho "to stderr" >&2\nwc -c\nid -u\necho "cwd: $(pwd) MESSID: $MESSID"\nexit 0\n', { mode: 0o755 });
    const m = queueMessage(home, split, message(9), 'qmlsp1-x@example.com');
    const size = statSync(join(home, 'queue/mess', m)).size;
    const r = await runLspawn(home, command(5, m, 'from@x', 'Qmlsp1-Ext@Example.COM'), { QMAILLOCAL: script });
    expect(r.reports.get(5)).toBe(`Kargv: -- qmlsp1 ${plain.home} Qmlsp1-Ext - Ext Example.COM from@x ./Maildir/\nto stderr\n${size}\n${plain.uid}\ncwd: ${home} MESSID: ${m}\n`);
  });

  it('QMAILLOCAL=bin/qmail-local delivers the same way, one process per delivery', async () => {
    const m = queueMessage(home, split, message(8), 'qmlsp1@example.com');
    const before = newFiles(plain).length;
    const r = await runLspawn(home, Buffer.concat([command(0, m, 's@x', 'qmlsp1@example.com'), command(1, m, 's@x', 'qmlsp2-id@example.com')]), {
      QMAILLOCAL: join(home, 'bin/qmail-local'),
    });
    expect(r.reports.get(0)).toBe('Kdid 1+0+0\n');
    expect(r.reports.get(1)).toBe(`K${grouped.uid}\n${grouped.gid}\n${grouped.gid}\n${m}\ndid 0+0+1\n`);
    expect(newFiles(plain).length).toBe(before + 1);
  });
});
