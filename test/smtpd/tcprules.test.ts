// qmail-smtpd --listen -x RULES.cdb: tcpserver's access rules. The lookup against cdbs of our own
// and against one built by the real tcprules(1) (ucspi-tcp, when installed), then the listener in
// the simulator: RELAYCLIENT from a rule opens relaying, a deny rule or an unreadable rules file
// closes the connection before the greeting.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAll } from '../../impl/shared/fdio.ts';
import { cdbMake } from '../../impl/lib/cdb.ts';
import { lookupRules, parseRuleData, ruleKeys, RulesCache, type RuleVerdict } from '../../impl/smtpd/tcprules.ts';
import { controlsSettleMs } from '../../impl/shared/control-snapshot.ts';
import { O } from '../../impl/sys/types.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds } from '../../sim/install.ts';
import { addProgram, enc, smtpReply } from '../sim/helpers.ts';

const rulesCdb = (rules: Record<string, string>): Uint8Array => cdbMake(Object.entries(rules).map(([k, v]) => [enc(k), enc(v)] as const));

describe('tcprules lookup', () => {
  it('tries the address, its prefixes ending in a separator, longest first, then the default', () => {
    expect(ruleKeys('192.168.1.5')).toEqual(['192.168.1.5', '192.168.1.', '192.168.', '192.', '']);
    expect(ruleKeys('::ffff:10.0.0.1')).toEqual(['10.0.0.1', '10.0.0.', '10.0.', '10.', '']);
    expect(ruleKeys('2001:db8::1')).toEqual(['2001:db8::1', '2001:db8::', '2001:db8:', '2001:', '']);
  });

  it('reads deny and +VAR=value entries as tcpserver does', () => {
    expect(parseRuleData(enc('D\0'))).toEqual({ deny: true });
    expect(parseRuleData(enc(''))).toEqual({ deny: false, env: {} });
    expect(parseRuleData(enc('+RELAYCLIENT=\0+FOO=bar baz\0'))).toEqual({ deny: false, env: { RELAYCLIENT: '', FOO: 'bar baz' } });
    // Without its terminating NUL an entry is not read (tcpserver's loop stops there).
    expect(parseRuleData(enc('+A=1\0+B=2'))).toEqual({ deny: false, env: { A: '1' } });
  });

  it('the first key found decides', () => {
    const cdb = rulesCdb({ '10.1.': '+RELAYCLIENT=\0', '10.': 'D\0', '': '+X=default\0' });
    expect(lookupRules(cdb, '10.1.2.3')).toEqual({ deny: false, env: { RELAYCLIENT: '' } });
    expect(lookupRules(cdb, '10.2.0.1')).toEqual({ deny: true });
    expect(lookupRules(cdb, '100.1.2.3')).toEqual({ deny: false, env: { X: 'default' } });
    expect(lookupRules(rulesCdb({}), '1.2.3.4')).toEqual({ deny: false, env: {} });
  });

  const hasTcprules = spawnSync('tcprules', [], { stdio: 'ignore' }).error === undefined;
  it.skipIf(!hasTcprules)('reads the cdb the real tcprules builds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcprules-'));
    try {
      const text = '127.0.0.1:allow,RELAYCLIENT=""\n10.:deny\n192.168.1.:allow,RELAYCLIENT="",FOO="bar baz"\n:allow,TCPREMOTEHOST="unknown"\n';
      execFileSync('tcprules', [join(dir, 'r.cdb'), join(dir, 'r.tmp')], { input: text });
      const cdb = new Uint8Array(readFileSync(join(dir, 'r.cdb')));
      expect(lookupRules(cdb, '127.0.0.1')).toEqual({ deny: false, env: { RELAYCLIENT: '' } });
      expect(lookupRules(cdb, '10.9.9.9')).toEqual({ deny: true });
      expect(lookupRules(cdb, '192.168.1.77')).toEqual({ deny: false, env: { RELAYCLIENT: '', FOO: 'bar baz' } });
      expect(lookupRules(cdb, '172.16.0.1')).toEqual({ deny: false, env: { TCPREMOTEHOST: 'unknown' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!hasTcprules) console.warn('skipped the real-tcprules check: tcprules (ucspi-tcp) is not installed');
});

/** One client session against a listener started with `-x rules.cdb` (or with the rules file
 *  missing when `rules` is null): the replies, up to RCPT for a domain outside rcpthosts. */
async function sessionWith(rules: Record<string, string> | null): Promise<string[]> {
  const k = new Kernel({ seed: 5 });
  const inst = await installQmail(k);
  const root = { uid: 0, gid: 0, mode: 0o644 };
  k.writeFile(`${inst.home}/control/rcpthosts`, 'sim.example\n', root);
  const path = `${inst.home}/control/smtp-rules.cdb`;
  if (rules !== null) k.writeFile(path, rulesCdb(rules), root);
  k.spawn(`${inst.home}/bin/qmail-smtpd`, ['qmail-smtpd', '--listen', '0.0.0.0:2525', '-x', path], {
    env: { QMAILHOME: inst.home },
    uid: simIds.users.qmaild,
    gid: simIds.groups.nofiles,
  });
  const t: string[] = [];
  const client = addProgram(k, 'smtp-client', async (sys) => {
    await sys.clock.sleep(10);
    const c = await sys.net.connect({ host: '127.0.0.1', port: 2525 }, 5_000);
    t.push(await smtpReply(sys, c.fd));
    if (t[0] !== '') {
      for (const cmd of ['HELO c\r\n', 'MAIL FROM:<s@x>\r\n', 'RCPT TO:<r@elsewhere.example>\r\n', 'QUIT\r\n']) {
        await writeAll(sys, c.fd, enc(cmd));
        t.push(await smtpReply(sys, c.fd));
      }
    }
    await sys.fs.close(c.fd);
    return 0;
  });
  const h = k.spawn(client, ['smtp-client'], {});
  await k.run({ until: () => h.status() !== null });
  expect((await h.wait()).code).toBe(0);
  return t;
}

describe('qmail-smtpd --listen -x (simulator)', () => {
  it('a rule setting RELAYCLIENT lets the client relay', async () => {
    const t = await sessionWith({ '127.0.0.1': '+RELAYCLIENT=\0', '': '' });
    expect(t[0]).toBe('220 sim.example ESMTP\r\n');
    expect(t[3]).toBe('250 ok\r\n');
  });

  it('without it, the same RCPT is refused', async () => {
    const t = await sessionWith({ '10.': '+RELAYCLIENT=\0', '': '' });
    expect(t[3]).toBe("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n");
  });

  it('a deny rule closes the connection before the greeting', async () => {
    expect(await sessionWith({ '127.': 'D\0' })).toEqual(['']);
  });

  it('a missing rules file refuses every connection, as tcpserver -x does', async () => {
    expect(await sessionWith(null)).toEqual(['']);
  });
});

describe('RulesCache: the listener keeps the rules cdb while a stat shows no change', () => {
  it('a new cdb (tcprules renames it in), a chmod, a removal: each shows at the next connection', async () => {
    const k = new Kernel({ seed: 6 });
    const dir = '/etc/tcp';
    const path = `${dir}/smtp.cdb`;
    const settle = controlsSettleMs + 500;
    const seen: (RuleVerdict | null)[] = [];
    let counts = { hits: 0, reads: 0 };
    const prog = addProgram(k, 'rules-reader', async (sys) => {
      const put = async (rules: Record<string, string>): Promise<void> => {
        const fd = await sys.fs.open(`${path}.tmp`, O.WRONLY | O.CREAT | O.TRUNC, 0o644);
        await writeAll(sys, fd, rulesCdb(rules));
        await sys.fs.close(fd);
        await sys.fs.rename(`${path}.tmp`, path);
      };
      await put({ '127.': '+RELAYCLIENT=\0' });
      const cache = new RulesCache(sys, path);
      seen.push(await cache.verdict('127.0.0.1')); // 0: just written, read
      seen.push(await cache.verdict('127.0.0.1')); // 1: not settled: read again
      await sys.clock.sleep(settle);
      seen.push(await cache.verdict('127.0.0.1')); // 2: read, kept
      seen.push(await cache.verdict('127.0.0.2')); // 3: kept
      await put({ '127.': 'D\0' });
      seen.push(await cache.verdict('127.0.0.1')); // 4: a new file: read
      await sys.clock.sleep(settle);
      seen.push(await cache.verdict('127.0.0.1')); // 5: read, kept
      await sys.fs.chmod(path, 0o000); // unreadable, even by its owner (this reader is not root)
      seen.push(await cache.verdict('127.0.0.1')); // 6: unreadable
      await sys.clock.sleep(settle);
      seen.push(await cache.verdict('127.0.0.1')); // 7: still unreadable, nothing kept
      await sys.fs.chmod(path, 0o644);
      await sys.clock.sleep(settle);
      seen.push(await cache.verdict('127.0.0.1')); // 8: read, kept
      await sys.fs.unlink(path);
      seen.push(await cache.verdict('127.0.0.1')); // 9: gone: refused
      counts = { hits: cache.hits, reads: cache.reads };
      return 0;
    });
    k.mkdirs(dir, { uid: 100, gid: 100, mode: 0o755 });
    const h = k.spawn(prog, ['rules-reader'], { uid: 100, gid: 100 });
    await k.run({ until: () => h.status() !== null });
    expect((await h.wait()).code).toBe(0);
    const relay = { deny: false, env: { RELAYCLIENT: '' } };
    const deny = { deny: true };
    expect(seen).toEqual([relay, relay, relay, relay, deny, deny, null, null, deny, null]);
    expect(counts).toEqual({ hits: 1, reads: 9 });
  });
});
