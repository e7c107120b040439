// qmail-rspawn in the simulator: the spawn protocol (concurrency byte, commands, reports by slot in
// any order), in-process qmail-remote against scripted peers, the report conversion of
// ../shared/spec/queue.md 4.2, QMAILREMOTE, and "a reset after DATA may duplicate, never lose".

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Program } from '../../impl/sys/types.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { simIds } from '../../sim/install.ts';
import type { PeerReply, PeerScript } from '../../sim/smtp-peer.ts';
import { command, commands, parseReports } from '../lspawn/helpers.ts';
import { checkProperty } from '../support/seed.ts';
import { remoteWorld, startPeer, type RemoteWorld } from './helpers.ts';

const messBody = 'Subject: hi\n\nhello\n';

function queueMessage(w: RemoteWorld, messid: string, body = messBody, uid: number = simIds.users.qmailq): void {
  w.k.writeFile(`${w.inst.queue.dir}/mess/${messid}`, body, { uid, gid: simIds.groups.qmail, mode: 0o644 });
}

async function rawRspawn(w: RemoteWorld, input: Uint8Array, env: Record<string, string> = {}) {
  const h = w.k.spawn(`${w.inst.home}/bin/qmail-rspawn`, ['qmail-rspawn'], {
    uid: simIds.users.qmailr,
    gid: simIds.groups.qmail,
    env: { QMAILHOME: w.inst.home, ...env },
    stdin: input,
    ip: '10.0.0.1',
  });
  const done = h.wait();
  await w.k.run({ until: () => h.status() !== null });
  const st = await done;
  return { code: st.code, ...parseReports(h.output(1)) };
}

describe('qmail-rspawn', () => {
  it('delivers in-process as qmailr and reports per slot: K, D (h), Z (s + Giving up), spawn checks', async () => {
    const w = await remoteWorld(101);
    w.k.net.setA('example.org', ['10.0.0.2']);
    startPeer(w, '10.0.0.2', {
      rcpt: (a) => (a.startsWith('perm') ? '550 no\r\n' : a.startsWith('temp') ? '451 later\r\n' : '250 ok\r\n'),
      final: () => '250 queued\r\n',
    });
    queueMessage(w, '5/28');
    queueMessage(w, '6/29', messBody, simIds.users.qmailr);
    const run = await rawRspawn(
      w,
      commands(
        command(0, '5/28', 'me@sim.example', 'ok@example.org'),
        command(1, '5/28', 'me@sim.example', 'perm@example.org'),
        command(2, '5/28', 'me@sim.example', 'temp@example.org'),
        command(3, '6/29', 'me@sim.example', 'ok@example.org'),
        command(4, '5/28', 'me@sim.example', 'nohost'),
        command(5, '9/99', 'me@sim.example', 'ok@example.org'),
      ),
    );
    expect(run.code).toBe(0);
    expect(run.concurrency).toBe(120);
    expect(new Map(run.reports)).toEqual(
      new Map([
        [0, 'K10.0.0.2 accepted message.\nRemote host said: 250 queued\n'],
        // h then DGiving up: the message result is not better than the recipient's, so both texts.
        [1, 'D10.0.0.2 does not like recipient.\nRemote host said: 550 no\nGiving up on 10.0.0.2.\n'],
        [2, 'Z10.0.0.2 does not like recipient.\nRemote host said: 451 later\nGiving up on 10.0.0.2.\n'],
        [3, 'ZSorry, message has wrong owner. (#4.3.5)\n'],
        [4, 'DSorry, address must include host name. (#5.1.3)\n'],
        [5, 'Zqmail-spawn unable to open message. (#4.3.0)\n'],
      ]),
    );
  });

  it('QMAILREMOTE: runs that program with host sender recipient and the message on fd 0', async () => {
    const w = await remoteWorld(102);
    queueMessage(w, '1/24');
    let seen: string[] = [];
    const fake: Program = async (sys) => {
      seen = sys.proc.self.argv;
      const buf = new Uint8Array(100);
      const n = await sys.fs.read(0, buf, 0, buf.length, 0);
      await writeAll(sys, 1, new TextEncoder().encode(`r\0K1.2.3.4 accepted ${n} bytes.\n\0`));
      return 0;
    };
    const exit111: Program = async () => 111;
    for (const [name, p] of [['fake-remote', fake], ['remote-111', exit111]] as const) {
      w.k.programs.register(name, p);
      w.k.install(`/usr/bin/${name}`, name, { uid: 0, gid: 0, mode: 0o755 });
    }
    const a = await rawRspawn(w, command(7, '1/24', 's@x', 'r@dom.test'), { QMAILREMOTE: 'fake-remote', PATH: '/bin:/usr/bin' });
    expect(a.reports).toEqual([[7, `K1.2.3.4 accepted ${messBody.length} bytes.\n`]]);
    expect(seen).toEqual(['qmail-remote', 'dom.test', 's@x', 'r@dom.test']);
    const b = await rawRspawn(w, command(7, '1/24', 's@x', 'r@dom.test'), { QMAILREMOTE: '/usr/bin/remote-111' });
    expect(b.reports).toEqual([[7, 'ZUnable to run qmail-remote.\n']]);
    const c = await rawRspawn(w, command(7, '1/24', 's@x', 'r@dom.test'), { QMAILREMOTE: '/usr/bin/missing' });
    expect(c.reports).toEqual([[7, 'DUnable to run qmail-remote.\n']]);
  });

  it('the installation runs the real qmail-rspawn; the deferring stand-in stays installed', async () => {
    const w = await remoteWorld(103);
    const rootCtx = { cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 };
    expect(w.k.fs.stat(rootCtx, `${w.inst.home}/bin/qmail-rspawn-defer`).kind).toBe('file');
    const run = await rawRspawn(w, command(0, '1/1', 's@x', 'r@nowhere.test'));
    expect(run.reports).toEqual([[0, 'Zqmail-spawn unable to open message. (#4.3.0)\n']]);
  });
});

describe('a connection lost during the dialogue may duplicate, never lose', () => {
  const points = ['greeting', 'helo', 'mail', 'rcpt', 'data', 'final'] as const;

  it('property: a reset or hang at any point is Z; after the dot it says Possible duplicate!; the retry delivers', async () => {
    await checkProperty(
      'test/remote/rspawn-sim.test.ts',
      fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.constantFrom(...points), fc.constantFrom<PeerReply>('reset', 'hang'), async (seed, at, how) => {
        const w = await remoteWorld(seed, { timeoutremote: '10\n' });
        w.k.net.setA('example.org', ['10.0.0.2']);
        const once = (s: number): PeerReply | undefined => (s === 0 ? how : undefined);
        let session = 0;
        const script: PeerScript = {
          get greeting() {
            return at === 'greeting' ? once(session++) : (session++, undefined);
          },
          helo: undefined,
          rcpt: (_a, _i, s) => (at === 'rcpt' ? once(s) : undefined) ?? '250 ok\r\n',
          final: (s) => (at === 'final' ? once(s) : undefined) ?? '250 ok\r\n',
        };
        const peer = startPeer(w, '10.0.0.2', script);
        // helo/mail/data are fixed per peer: only the first session fails there.
        const first = { helo: at === 'helo' ? how : undefined, mail: at === 'mail' ? how : undefined, data: at === 'data' ? how : undefined };
        Object.assign(script, first);
        queueMessage(w, '3/3');
        const one = await rawRspawn(w, command(0, '3/3', 's@sim.example', 'x@example.org'));
        const report = one.reports[0]?.[1] ?? '';
        expect(report).toMatch(/^ZConnected to 10\.0\.0\.2 but connection died\. /);
        expect(report.includes('Possible duplicate!')).toBe(at === 'final');
        Object.assign(script, { helo: undefined, mail: undefined, data: undefined });
        const two = await rawRspawn(w, command(0, '3/3', 's@sim.example', 'x@example.org'));
        expect(two.reports).toEqual([[0, 'K10.0.0.2 accepted message.\nRemote host said: 250 ok\n']]);
        expect(peer.messages.length).toBe(at === 'final' ? 2 : 1);
      }),
      { numRuns: 20 },
    );
  });
});
