// The whole MTA booted in the simulator through the installed qmail-start (sim/boot.ts), with the
// real daemons: qmail-send, todo-proc, two qmail-cleans, qmail-lspawn with its delivery workers, and
// bin/qmail-rspawn (the deferring stand-in until qmail-rspawn exists). A message queued by the real
// qmail-queue as an ordinary user lands in her Maildir and is logged; TERM ends everything; a killed
// daemon brings the rest down with exit 111; after a power loss the world boots again the same way.

import { describe, expect, it } from 'vitest';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { bootQmail, type QmailBoot } from '../../sim/boot.ts';
import { addLocalUser, usersGid, type LocalUser } from '../../sim/scenarios/lspawn-world.ts';
import type { SpawnHandle } from '../../sim/world.ts';

interface World {
  k: Kernel;
  inst: Installation;
  alice: LocalUser;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const rootCtx = { cred: { uid: 0, gid: 0, groups: [0] }, cwd: '/', umask: 0 };

async function world(seed: number): Promise<World> {
  const k = new Kernel({ seed, trace: { syscalls: false, keepLines: 5000 } });
  const inst = await installQmail(k, { split: 7 });
  k.users.addGroup('users', usersGid);
  k.mkdirs('/home', { uid: 0, gid: 0, mode: 0o755 });
  const alice = addLocalUser(k, 'alice', 2001);
  k.writeFile(`${inst.home}/control/locals`, 'sim.example\n', { uid: 0, gid: 0, mode: 0o644 });
  return { k, inst, alice };
}

/** Runs the real bin/qmail-queue as alice: message on fd 0, envelope on fd 1. */
function queueAsAlice(w: World, body: string, rcpt = 'alice@sim.example'): SpawnHandle {
  const envelope = enc(`Falice@sim.example\0T${rcpt}\0\0`);
  return w.k.spawn(`${w.inst.home}/bin/qmail-queue`, ['qmail-queue'], { uid: w.alice.uid, gid: w.alice.gid, fds: [enc(body), envelope, 'capture'] });
}

function maildirNew(w: World): string[] {
  return w.k.fs.peekDir(`${w.alice.home}/Maildir/new`) ?? [];
}

function mailText(w: World, name: string): string {
  return dec(w.k.fs.peekFile(`${w.alice.home}/Maildir/new/${name}`) ?? new Uint8Array(0));
}

async function stop(w: World, b: QmailBoot): Promise<void> {
  b.kill('SIGTERM');
  await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 600_000 });
}

describe('the MTA booted by qmail-start in the simulator', () => {
  it('starts the real daemons under the seed table\'s uids', async () => {
    const w = await world(101);
    const b = bootQmail(w.k, w.inst, { logger: true });
    await w.k.run({ until: () => b.log().includes('status: local 0/10 remote 0/20'), untilMs: 60_000 });
    const p = b.pids();
    if (p === null) throw new Error(`not booted: ${b.stderr()}`);
    const uidOf = (pid: number) => w.k.procs.get(pid)?.creds.uid;
    const { users } = simIds;
    expect([p.send, p.todo, ...p.clean, p.lspawn, p.rspawn, p.logger as number].map(uidOf))
      .toEqual([users.qmails, users.qmails, users.qmailq, users.qmailq, 0, users.qmailr, users.qmaill]);
    expect(w.k.procs.get(p.rspawn)?.exe).toBe(`${w.inst.home}/bin/qmail-rspawn`);
    await stop(w, b);
    expect(b.status()).toEqual({ code: 0, signal: null });
  });

  it('a message queued with qmail-queue is delivered to the Maildir through qmail-lspawn and logged; TERM ends it all', async () => {
    const w = await world(102);
    const b = bootQmail(w.k, w.inst, { logger: true });
    await w.k.run({ until: () => b.log().includes('status: local 0/10 remote 0/20'), untilMs: 60_000 });
    const q = queueAsAlice(w, 'Subject: hello\n\nthrough the whole MTA\n');
    await w.k.run({ until: () => /^end msg \d+$/m.test(b.log()), untilMs: w.k.nowMs + 120_000 });
    expect(q.status()).toEqual({ code: 0, signal: null });
    const names = maildirNew(w);
    expect(names).toHaveLength(1);
    const name = names[0] as string;
    expect(mailText(w, name)).toMatch(/Subject: hello\n\nthrough the whole MTA\n$/);
    expect(w.k.fs.stat(rootCtx, `${w.alice.home}/Maildir/new/${name}`).uid).toBe(w.alice.uid);
    const log = b.logLines();
    expect(log).toContainEqual(expect.stringMatching(/^starting delivery 1: msg \d+ to local alice@sim\.example$/));
    expect(log).toContainEqual(expect.stringMatching(/^delivery 1: success: /));
    await stop(w, b);
    expect(b.status()).toEqual({ code: 0, signal: null });
    expect(b.logLines().at(-1)).toBe('status: exiting');
    expect(w.k.pids()).toEqual([]);
    expect(w.k.bugs).toEqual([]);
  });

  it('a killed qmail-lspawn: qmail-send\'s alert, everything stopped, qmail-start exits 111', async () => {
    const w = await world(103);
    const b = bootQmail(w.k, w.inst, { logger: true });
    await w.k.run({ until: () => b.log().includes('status: local 0/10 remote 0/20'), untilMs: 60_000 });
    const p = b.pids();
    if (p === null) throw new Error('not booted');
    w.k.kill(p.lspawn, 'SIGKILL');
    await w.k.run({ until: () => b.status() !== null, untilMs: w.k.nowMs + 600_000 });
    expect(b.status()).toEqual({ code: 111, signal: null });
    expect(b.log()).toContain('alert: oh no! lost spawn connection! dying...');
    expect(b.stderr()).toContain(`fatal: qmail-start: qmail-lspawn (pid ${p.lspawn}) was killed by SIGKILL; stopped everything`);
    expect(w.k.pids()).toEqual([]);
    expect(w.k.bugs).toEqual([]);
  });

  it('after a power loss the world boots again through qmail-start and delivers what was queued', async () => {
    const w = await world(104);
    let b = bootQmail(w.k, w.inst, { logger: true });
    await w.k.run({ until: () => b.log().includes('status: local 0/10 remote 0/20'), untilMs: 60_000 });
    // Queued while the MTA runs; the power goes the moment qmail-queue has said yes.
    const q = queueAsAlice(w, 'Subject: survivor\n\nqueued before the power loss\n');
    await w.k.run({ until: () => q.status() !== null, untilMs: w.k.nowMs + 60_000 });
    expect(q.status()).toEqual({ code: 0, signal: null });
    expect(maildirNew(w)).toEqual([]);
    w.k.powerLoss();
    expect(b.status()).toEqual({ code: null, signal: 'SIGKILL' });
    b = bootQmail(w.k, w.inst, { logger: true });
    await w.k.run({ until: () => maildirNew(w).some((n) => mailText(w, n).includes('queued before the power loss')), untilMs: w.k.nowMs + 600_000 });
    expect(maildirNew(w).filter((n) => mailText(w, n).includes('queued before the power loss')).length).toBeGreaterThanOrEqual(1);
    await stop(w, b);
    expect(b.status()).toEqual({ code: 0, signal: null });
    expect(w.k.pids()).toEqual([]);
    expect(w.k.bugs).toEqual([]);
  });

  it('is deterministic: a seed replays the boot, a delivery and the shutdown byte for byte', async () => {
    const once = async (): Promise<[string, string]> => {
      const w = await world(105);
      const b = bootQmail(w.k, w.inst, { logger: true });
      await w.k.run({ until: () => b.log().includes('status: local 0/10 remote 0/20'), untilMs: 60_000 });
      queueAsAlice(w, 'Subject: again\n\nsame bytes\n');
      await w.k.run({ until: () => /^end msg \d+$/m.test(b.log()), untilMs: w.k.nowMs + 120_000 });
      await stop(w, b);
      return [w.k.traceHash(), b.log()];
    };
    expect(await once()).toEqual(await once());
  });
});
