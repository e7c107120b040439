// qmail-smtpd --listen started as root in the simulator: it starts qmail-queued as qmailq, becomes
// qmaild itself, and its sessions queue through that one process. Checked here: the credentials of
// both processes in the sim kernel; the queued bytes equal those of the qmail-queue-per-message path
// (Received line, intd/todo records) up to pids and dates; files owned by qmailq; a qmail-queued
// killed mid-DATA gives 451, never 250, and the listener exits 111; a power loss after any 250
// keeps that message (each crash profile, several seeds); many sessions at once.
//
// Replay one seed: QUEUED_SEED=<seed> npx vitest run test/smtpd/queue-server-sim.test.ts

import { describe, expect, it } from 'vitest';
import type { Fd, Sys } from '../../impl/sys/types.ts';
import type { CrashProfile } from '../../sim/fs-api.ts';
import { writeAll } from '../../impl/shared/fdio.ts';
import { smtpdReply } from '../../spec/smtpd.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import type { SimProcess } from '../../sim/proc.ts';
import { addProgram, dec, enc } from '../sim/helpers.ts';

const port = 2525;

/** Reads one SMTP reply (possibly multi-line) through a small buffer kept per connection. */
class Replies {
  private held = '';
  constructor(
    private readonly sys: Sys,
    private readonly fd: Fd,
  ) {}

  async next(): Promise<string> {
    const buf = new Uint8Array(4096);
    for (;;) {
      const m = /^(?:[0-9]{3}-[^\n]*\n)*[0-9]{3} [^\n]*\r\n/.exec(this.held);
      if (m !== null) {
        this.held = this.held.slice(m[0].length);
        return m[0];
      }
      const n = await this.sys.fs.read(this.fd, buf, 0, buf.length, null).catch(() => 0);
      if (n === 0) {
        const rest = this.held;
        this.held = '';
        return rest === '' ? 'EOF' : rest;
      }
      this.held += String.fromCharCode(...buf.subarray(0, n));
    }
  }
}

interface World {
  k: Kernel;
  inst: Installation;
  listener: ReturnType<Kernel['spawn']>;
  /** Every reply each client got, by client number. */
  transcripts: string[][];
  /** Clients that have sent the first half of a message body (see pauseMs). */
  halfway: Set<number>;
}

interface ClientPlan {
  messages: number;
  /** Sleep between the two halves of each body (virtual ms): a window to kill or crash in. */
  pauseMs?: number;
}

/** A world with a listener on port 2525, started as `as` (root by default). */
async function world(seed: number, opts: { as?: 'root' | 'qmaild'; profile?: CrashProfile; env?: Record<string, string> } = {}): Promise<World> {
  const k = new Kernel({ seed, profile: opts.profile ?? 'posix' });
  const inst = await installQmail(k);
  const creds = opts.as === 'qmaild' ? { uid: simIds.users.qmaild, gid: simIds.groups.nofiles } : {};
  const listener = k.spawn(`${inst.home}/bin/qmail-smtpd`, ['qmail-smtpd', '--listen', `0.0.0.0:${port}`], {
    env: { QMAILHOME: inst.home, ...opts.env },
    ...creds,
  });
  return { k, inst, listener, transcripts: [], halfway: new Set() };
}

function startClients(w: World, count: number, plan: ClientPlan): Array<ReturnType<Kernel['spawn']>> {
  const path = addProgram(w.k, 'smtp-client', async (sys) => {
    await sys.clock.sleep(10); // let the daemon listen
    const n = Number(sys.proc.self.argv[1]);
    const t: string[] = [];
    w.transcripts[n] = t;
    let c;
    try {
      c = await sys.net.connect({ host: '127.0.0.1', port }, 5_000);
    } catch {
      t.push('ECONNREFUSED');
      return 1;
    }
    const r = new Replies(sys, c.fd);
    const say = async (s: string): Promise<void> => {
      await writeAll(sys, c.fd, enc(s)).catch(() => undefined);
      t.push(await r.next());
    };
    t.push(await r.next());
    await say('HELO c\r\n');
    for (let m = 0; m < plan.messages; m++) {
      await say(`MAIL FROM:<s${n}@x>\r\n`);
      await say(`RCPT TO:<r${n}.${m}@y>\r\n`);
      await say('DATA\r\n');
      if (!t[t.length - 1]!.startsWith('354')) continue;
      await writeAll(sys, c.fd, enc(`Subject: c${n}m${m}\r\n\r\nfirst half ${n}.${m}\r\n`)).catch(() => undefined);
      w.halfway.add(n);
      if (plan.pauseMs !== undefined) await sys.clock.sleep(plan.pauseMs);
      await say(`second half ${n}.${m}\r\n.\r\n`);
    }
    await say('QUIT\r\n');
    await sys.fs.close(c.fd);
    return 0;
  });
  return Array.from({ length: count }, (_, i) => w.k.spawn(path, ['smtp-client', String(i)], {}));
}

function queued(w: World): SimProcess | undefined {
  return [...w.k.procs.values()].find((p) => p.argv[0] === 'qmail-queued');
}

/** Every mess file: path → bytes. */
function messFiles(w: World): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < w.inst.queue.split; i++) {
    const d = `${w.inst.queue.dir}/mess/${i}`;
    for (const f of w.k.fs.peekDir(d) ?? []) out.set(`${d}/${f}`, dec(w.k.fs.peekFile(`${d}/${f}`)!));
  }
  return out;
}

/** Subjects of the messages in todo/ whose mess file is complete: what the queue holds. */
function queuedSubjects(w: World): Set<string> {
  const q = w.inst.queue;
  const out = new Set<string>();
  for (const id of w.k.fs.peekDir(`${q.dir}/todo`) ?? []) {
    const mess = w.k.fs.peekFile(`${q.dir}/mess/${Number(id) % q.split}/${id}`);
    const m = mess === null ? null : /\nSubject: (c[0-9]+m[0-9]+)\n\nfirst half [0-9.]+\nsecond half [0-9.]+\n$/.exec(dec(mess));
    if (m !== null) out.add(m[1]!);
  }
  return out;
}

const seedOf = (base: number): number => Number(process.env['QUEUED_SEED'] ?? base);
const replay = (seed: number): string => `QUEUED_SEED=${seed} npx vitest run test/smtpd/queue-server-sim.test.ts`;

describe('qmail-smtpd --listen as root with qmail-queued (simulator)', () => {
  it('starts qmail-queued as qmailq, becomes qmaild, and queues through it', async () => {
    const seed = seedOf(21);
    const w = await world(seed);
    const clients = startClients(w, 5, { messages: 2 });
    await w.k.run({ until: () => clients.every((h) => h.status() !== null) });
    const me = w.k.procs.get(w.listener.pid)!;
    expect(me.creds, replay(seed)).toEqual({ uid: simIds.users.qmaild, gid: simIds.groups.nofiles, euid: simIds.users.qmaild, egid: simIds.groups.nofiles, groups: [simIds.groups.nofiles] });
    const q = queued(w)!;
    expect(q.ppid).toBe(w.listener.pid);
    expect(q.creds).toEqual({ uid: simIds.users.qmailq, gid: simIds.groups.qmail, euid: simIds.users.qmailq, egid: simIds.groups.qmail, groups: [simIds.groups.qmail] });
    for (const t of w.transcripts) {
      expect(t.filter((r) => r.startsWith('250 ok ')), replay(seed)).toHaveLength(2);
      for (const r of t.filter((x) => x.startsWith('250 ok '))) expect(r).toMatch(new RegExp(`^250 ok [0-9]+ qp ${q.pid}\\r\\n$`));
    }
    const files = messFiles(w);
    expect(files.size).toBe(10);
    for (const path of files.keys()) expect(w.k.fs.peekStat(path)).toMatchObject({ uid: simIds.users.qmailq, gid: simIds.groups.qmail });
    expect(queuedSubjects(w).size).toBe(10);
    expect(w.listener.status()).toBeNull(); // still serving
  });

  it('queues the same bytes as qmail-queue per message (up to pids and dates)', async () => {
    const norm = (s: string): string => s.replace(/\(qmail [0-9]+ invoked/g, '(qmail PID invoked').replace(/; [^\n]*\n/g, '; DATE\n');
    const snapshot = async (as: 'root' | 'qmaild'): Promise<string[]> => {
      const w = await world(seedOf(5), { as });
      const clients = startClients(w, 1, { messages: 1 });
      await w.k.run({ until: () => clients.every((h) => h.status() !== null) });
      expect(w.transcripts[0]!.filter((r) => r.startsWith('250 ok '))).toHaveLength(1);
      const q = w.inst.queue;
      const [id] = w.k.fs.peekDir(`${q.dir}/todo`)!;
      const todo = dec(w.k.fs.peekFile(`${q.dir}/todo/${id}`)!).replace(/\0p[0-9]+\0/, '\0pPID\0');
      return [norm(dec(w.k.fs.peekFile(`${q.dir}/mess/${Number(id) % q.split}/${id}`)!)), todo];
    };
    const [viaServer, viaSpawn] = [await snapshot('root'), await snapshot('qmaild')];
    expect(viaServer).toEqual(viaSpawn);
    expect(viaServer[0]).toMatch(/^Received: \(qmail PID invoked from network\); DATE\nReceived: from unknown/);
    expect(viaServer[1]).toBe(`u${simIds.users.qmaild}\0pPID\0Fs0@x\0Tr0.0@y\0`);
  });

  it('QMAILQUEUE keeps qmail-queue per message, still as qmaild', async () => {
    const w = await world(seedOf(6), { env: { QMAILQUEUE: '/var/qmail/bin/qmail-queue' } });
    const clients = startClients(w, 2, { messages: 1 });
    await w.k.run({ until: () => clients.every((h) => h.status() !== null) });
    expect(queued(w)).toBeUndefined();
    expect(w.k.procs.get(w.listener.pid)!.creds.euid).toBe(simIds.users.qmaild);
    expect(queuedSubjects(w)).toEqual(new Set(['c0m0', 'c1m0']));
  });

  it('a qmail-queued killed mid-DATA gives 451 (never 250) and the listener exits 111', async () => {
    const seed = seedOf(31);
    const w = await world(seed);
    const clients = startClients(w, 3, { messages: 1, pauseMs: 200 });
    // One more session, between RCPT and DATA when qmail-queued dies: its DATA gets qqt.
    let killed = false;
    const late: string[] = [];
    const latePath = addProgram(w.k, 'late-client', async (sys) => {
      await sys.clock.sleep(10);
      const c = await sys.net.connect({ host: '127.0.0.1', port }, 5_000);
      const r = new Replies(sys, c.fd);
      await r.next();
      for (const cmd of ['HELO c\r\n', 'MAIL FROM:<l@x>\r\n', 'RCPT TO:<l@y>\r\n', 'DATA\r\n']) {
        while (cmd === 'DATA\r\n' && !killed) await sys.clock.sleep(1);
        await writeAll(sys, c.fd, enc(cmd));
        late.push(await r.next());
      }
      return 0;
    });
    const lateClient = w.k.spawn(latePath, ['late-client'], {});
    await w.k.run({ until: () => w.halfway.size === 3 && late.length === 3 });
    w.k.kill(queued(w)!.pid, 'SIGKILL');
    killed = true;
    await w.k.run({ until: () => [...clients, lateClient].every((h) => h.status() !== null) && w.listener.status() !== null });
    expect(late[3], replay(seed)).toBe(smtpdReply.qqt);
    for (const t of w.transcripts) {
      expect(t.some((r) => r.startsWith('250 ok ')), replay(seed)).toBe(false);
      expect(t[5], replay(seed)).toBe('451 qq crashed (#4.3.0)\r\n');
    }
    expect(w.listener.status()).toEqual({ code: 111, signal: null });
    expect(queuedSubjects(w).size).toBe(0);
  });

  it('a listener killed mid-DATA: qmail-queued sees EOF, queues nothing unfinished, exits 0', async () => {
    const seed = seedOf(35);
    const w = await world(seed);
    const clients = startClients(w, 3, { messages: 1, pauseMs: 200 });
    await w.k.run({ until: () => w.halfway.size === 3 });
    const q = queued(w)!;
    const exits: Array<number | null> = [];
    q.outsideWaiters.push((st) => exits.push(st.code));
    w.k.kill(w.listener.pid, 'SIGKILL');
    await w.k.run({ until: () => clients.every((h) => h.status() !== null) && exits.length > 0 });
    expect(exits, replay(seed)).toEqual([0]);
    expect(queuedSubjects(w).size).toBe(0);
    expect(messFiles(w).size).toBe(0); // cleaned up, not left for qmail-clean
  });

  it.each(['posix', 'ext4-ordered', 'sync'] as const)('a power loss after a 250 never loses that message (%s, several seeds)', async (profile) => {
    const seeds = process.env['QUEUED_SEED'] !== undefined ? [seedOf(0)] : [41, 42, 43, 44, 45, 46];
    const ackedBySeed: number[] = [];
    for (const seed of seeds) {
      const w = await world(seed, { profile });
      const clients = startClients(w, 6, { messages: 3, pauseMs: 5 });
      // Crash at a seeded moment while messages are in flight: after some 250s, some events later.
      const oks = (): number => w.transcripts.flat().filter((r) => r.startsWith('250 ok ')).length;
      await w.k.run({ until: () => clients.every((h) => h.status() !== null) || oks() >= 1 + (seed % 12) });
      await w.k.run({ maxEvents: (seed * 7919) % 300, until: () => clients.every((h) => h.status() !== null) });
      const acked = new Set<string>();
      w.transcripts.forEach((t, n) => {
        let m = 0;
        for (const r of t) {
          if (r.startsWith('250 ok ')) acked.add(`c${n}m${m}`);
          if (r.startsWith('250 ok ') || r.startsWith('451') || r.startsWith('554')) m++;
        }
      });
      w.k.powerLoss();
      const kept = queuedSubjects(w);
      for (const s of acked) expect(kept.has(s), `${s} acknowledged but lost; ${replay(seed)}`).toBe(true);
      ackedBySeed.push(acked.size);
    }
    // Not vacuous: crashes landed after some 250s and before all 18 (what the seeds are chosen for).
    if (seeds.length > 1) {
      expect(ackedBySeed.some((n) => n > 0), String(ackedBySeed)).toBe(true);
      expect(ackedBySeed.some((n) => n < 18), String(ackedBySeed)).toBe(true);
    }
  });

  it('a message of many pieces is queued whole; one over databytes gets 552 and is not queued', async () => {
    const seed = seedOf(61);
    const w = await world(seed);
    w.k.writeFile(`${w.inst.home}/control/databytes`, '200000\n', { uid: 0, gid: 0, mode: 0o644 });
    const line = `${'x'.repeat(98)}\r\n`;
    const results: string[] = [];
    const path = addProgram(w.k, 'big-client', async (sys) => {
      await sys.clock.sleep(10);
      const c = await sys.net.connect({ host: '127.0.0.1', port }, 5_000);
      const r = new Replies(sys, c.fd);
      await r.next();
      for (const [i, lines] of [[0, 1500], [1, 2500]] as const) {
        for (const cmd of [i === 0 ? 'HELO c\r\n' : '', `MAIL FROM:<s@x>\r\n`, `RCPT TO:<big${i}@y>\r\n`, 'DATA\r\n']) {
          if (cmd === '') continue;
          await writeAll(sys, c.fd, enc(cmd));
          await r.next();
        }
        await writeAll(sys, c.fd, enc(`Subject: big${i}\r\n\r\n${line.repeat(lines)}.\r\n`));
        results.push(await r.next());
      }
      await sys.fs.close(c.fd);
      return 0;
    });
    const h = w.k.spawn(path, ['big-client'], {});
    await w.k.run({ until: () => h.status() !== null });
    expect(results[0], replay(seed)).toMatch(/^250 ok /);
    expect(results[1], replay(seed)).toBe(smtpdReply.tooBig);
    const files = [...messFiles(w).values()];
    expect(files).toHaveLength(1);
    expect(files[0]!.slice(files[0]!.indexOf('\nSubject:'))).toBe(`\nSubject: big0\n\n${'x'.repeat(98)}\n`.replace(/(x+\n)$/, (m) => m.repeat(1500)));
  });

  it('40 sessions at once, 3 messages each, all queued', async () => {
    const seed = seedOf(51);
    const w = await world(seed);
    const clients = startClients(w, 40, { messages: 3 });
    await w.k.run({ until: () => clients.every((h) => h.status() !== null) });
    for (const h of clients) expect((await h.wait()).code, replay(seed)).toBe(0);
    expect(w.transcripts.flat().filter((r) => r.startsWith('250 ok ')), replay(seed)).toHaveLength(120);
    expect(queuedSubjects(w).size).toBe(120);
    expect(w.k.bugs).toEqual([]);
  });
});
