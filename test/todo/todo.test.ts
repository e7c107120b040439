// todo-proc (impl/todo) in the simulator, driven directly through its pipes as qmail-send would
// (a driver program spawns it as qmails with its own qmail-clean), against
// ../shared/spec/queue.md 3.3, 3.4, 3.9 and spec/send.md 3.

import { describe, expect, it } from 'vitest';
import type { Fd, Sys } from '../../impl/sys/types.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
import { NulRecords } from '../../impl/lib/nul-records.ts';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { parseLogLine } from '../../spec/log.ts';
import { addProgram, enc } from '../sim/helpers.ts';

const qmailq = { uid: simIds.users.qmailq, gid: simIds.groups.qmail, mode: 0o644 };

type Step =
  | { send: string }
  | { until: (records: string[]) => boolean }
  | { sleepMs: number }
  | { close: true }
  | { control: [string, string] }
  | { queue: [number, string] };

interface Run {
  records: string[];
  code: number | null;
}

let drivers = 0;

async function drive(k: Kernel, inst: Installation, steps: Step[], flags: string[] = []): Promise<Run> {
  const run: Run = { records: [], code: null };
  const name = `todo-driver-${drivers++}`;
  const path = addProgram(k, name, async (sys: Sys) => {
    const env = { QMAILHOME: inst.home };
    const g = simIds.groups.qmail;
    const c = await sys.proc.spawn(`${inst.home}/bin/qmail-clean`, ['qmail-clean'], { env, uid: simIds.users.qmailq, gid: g, fds: ['pipe', 'pipe'] });
    const t = await sys.proc.spawn(`${inst.home}/bin/todo-proc`, ['todo-proc', ...flags], { env, uid: simIds.users.qmails, gid: g, fds: ['pipe', 'pipe', c.fds[0] as Fd, c.fds[1] as Fd] });
    await sys.fs.close(c.fds[0] as Fd);
    await sys.fs.close(c.fds[1] as Fd);
    const parser = new NulRecords(100_000);
    let ended = false;
    const reading = (async () => {
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await sys.fs.read(t.fds[1] as Fd, buf, 0, buf.length, null);
        if (n === 0) break;
        run.records.push(...parser.push(buf.subarray(0, n)).map(latin1));
      }
      ended = true;
    })();
    for (const step of steps) {
      if ('send' in step) await sys.fs.write(t.fds[0] as Fd, enc(step.send));
      else if ('sleepMs' in step) await sys.clock.sleep(step.sleepMs);
      else if ('close' in step) await sys.fs.close(t.fds[0] as Fd);
      else if ('control' in step) k.writeFile(`${inst.home}/control/${step.control[0]}`, step.control[1], { uid: 0, gid: 0, mode: 0o644 });
      else if ('queue' in step) {
        queued(k, inst, step.queue[0], step.queue[1]);
        await sys.fs.trigger(`${inst.queue.dir}/lock/trigger`);
      }
      else while (!step.until(run.records) && !ended) await sys.clock.sleep(100);
    }
    await reading;
    run.code = (await t.wait()).code;
    return 0;
  });
  const h = k.spawn(path, [name]);
  await k.run({ until: () => h.status() !== null, untilMs: k.nowMs + 3 * 3_600_000 });
  return run;
}

async function world(opts: { bigtodo?: boolean; controls?: Record<string, string> } = {}): Promise<{ k: Kernel; inst: Installation }> {
  const k = new Kernel({ seed: 9 });
  const inst = await installQmail(k, { split: 7, bigtodo: opts.bigtodo ?? false });
  for (const [n, t] of Object.entries({ locals: 'sim.example\n', ...opts.controls })) k.writeFile(`${inst.home}/control/${n}`, t, { uid: 0, gid: 0, mode: 0o644 });
  return { k, inst };
}

/** A queued message as qmail-queue leaves it (mess, intd = todo). */
function queued(k: Kernel, inst: Installation, id: number, envelope: string, todoRel?: string): void {
  const q = inst.queue.dir;
  k.writeFile(`${q}/mess/${id % 7}/${id}`, 'Received: x\n\nbody\n', qmailq);
  k.writeFile(`${q}/intd/${id}`, envelope, qmailq);
  k.writeFile(`${q}/${todoRel ?? `todo/${id}`}`, envelope, qmailq);
}

const done = (id: number) => (r: string[]) => r.some((x) => x.startsWith('D') && x.endsWith(String(id)));

describe('todo-proc', () => {
  it('refuses a qmail-send that does not start with C', async () => {
    const { k, inst } = await world();
    const r = await drive(k, inst, [{ send: 'Q' }]);
    expect(r.code).toBe(100);
    expect(r.records).toEqual(['Lwarn: todo-proc: queue: qmail-send speaks an obscure dialect\n']);
  });

  it('refuses -d (no POSIX message queues here)', async () => {
    const { k, inst } = await world();
    const r = await drive(k, inst, [], ['-d']);
    expect(r.code).toBe(100);
    expect(r.records).toEqual(['Lalert: todo-proc: queue: dynamic queue not supported\n']);
  });

  it('preprocesses: new msg, info msg, then D, with info, local and remote written and todo gone', async () => {
    const { k, inst } = await world({ controls: { virtualdomains: 'virtual.example:vv\n' } });
    queued(k, inst, 100, 'u1000\0p42\0Fa b@x.example\0Tjoe@sim.example\0Tann@virtual.example\0Tbob@remote.example\0Tnobody\0');
    const r = await drive(k, inst, [{ send: 'C' }, { until: done(100) }, { send: 'X' }, { until: (x) => x.includes('X') }, { close: true }]);
    expect(r.code).toBe(0);
    expect(r.records.filter((x) => !x.startsWith('Linfo: todo-proc: pid'))).toEqual([
      'Lnew msg 100\n',
      'Linfo msg 100: bytes 18 from <a_b@x.example> qp 42 uid 1000\n',
      'DB100',
      'X',
    ]);
    for (const rec of r.records.filter((x) => x.startsWith('L'))) expect('error' in parseLogLine(rec.slice(1, -1))).toBe(false);
    const q = inst.queue.dir;
    expect(latin1(k.fs.peekFile(`${q}/info/2/100`) as Uint8Array)).toBe('Fa b@x.example\0');
    expect(latin1(k.fs.peekFile(`${q}/local/2/100`) as Uint8Array)).toBe('Tjoe@sim.example\0Tvv-ann@virtual.example\0Tnobody@sim.example\0');
    expect(latin1(k.fs.peekFile(`${q}/remote/2/100`) as Uint8Array)).toBe('Tbob@remote.example\0');
    expect(k.fs.peekStat(`${q}/todo/100`)).toBeNull();
    expect(k.fs.peekStat(`${q}/intd/100`)).toBeNull();
    expect(k.fs.peekStat(`${q}/info/2/100`)?.mode).toBe(0o100600);
    // Durable: everything it announced survives a power loss.
    k.powerLoss();
    expect(latin1(k.fs.peekFile(`${q}/remote/2/100`) as Uint8Array)).toBe('Tbob@remote.example\0');
    expect(k.fs.peekStat(`${q}/todo/100`)).toBeNull();
  });

  it('announces DL, DR and DX by the channels a message has', async () => {
    const { k, inst } = await world();
    queued(k, inst, 10, 'u1\0p2\0Fa@b\0Tjoe@sim.example\0');
    queued(k, inst, 11, 'u1\0p2\0Fa@b\0Tjoe@remote.example\0');
    queued(k, inst, 12, 'u1\0p2\0Fa@b\0');
    const r = await drive(k, inst, [{ send: 'C' }, { until: (x) => [10, 11, 12].every((id) => done(id)(x)) }, { close: true }]);
    expect(r.records.filter((x) => x.startsWith('D')).sort()).toEqual(['DL10', 'DR11', 'DX12']);
    expect(r.code).toBe(1); // qmail-send went away without X
  });

  it('takes a scan larger than a batch in split order (a batch syncs a few info/S and local/S, not all), each message once', async () => {
    const { k, inst } = await world();
    const ids = Array.from({ length: 150 }, (_, i) => 1000 + i * 3);
    for (const id of ids) queued(k, inst, id, 'u1\0p2\0Fa@b\0Tjoe@sim.example\0');
    const r = await drive(k, inst, [{ send: 'C' }, { until: (x) => ids.every((id) => done(id)(x)) }, { close: true }]);
    const announced = r.records.filter((x) => x.startsWith('DL')).map((x) => Number(x.slice(2)));
    expect([...announced].sort((a, b) => a - b)).toEqual(ids);
    // Batches run a few at once, so their announcements may interleave; but the first ones come
    // from the first batch: the 64 lowest by (split, id), in readdir's (seeded, shuffled) order
    // only by a chance of about 2 in 10,000.
    const firstBatch = new Set([...ids].sort((a, b) => a % 7 - b % 7 || a - b).slice(0, 64));
    expect(announced.slice(0, 10).filter((id) => !firstBatch.has(id))).toEqual([]);
  });

  it("replaces an earlier attempt's leftovers: info and a used channel made afresh, an unused channel's file removed, durably", async () => {
    const { k, inst } = await world();
    const q = inst.queue.dir;
    const qmails = { uid: simIds.users.qmails, gid: simIds.groups.qmail, mode: 0o600 };
    queued(k, inst, 20, 'u1\0p2\0Fa@b\0Tjoe@sim.example\0');
    // As a crash in an earlier attempt (with other controls: joe was remote then) can leave them.
    k.writeFile(`${q}/info/6/20`, 'Fold@x\0', qmails);
    k.writeFile(`${q}/local/6/20`, 'Told@sim.example\0Told2@sim.example\0', qmails);
    k.writeFile(`${q}/remote/6/20`, 'Tjoe@sim.example\0', qmails);
    queued(k, inst, 21, 'u1\0p2\0Fc@d\0Tann@remote.example\0');
    k.writeFile(`${q}/local/0/21`, 'Tann@remote.example\0', qmails);
    const r = await drive(k, inst, [{ send: 'C' }, { until: (x) => done(20)(x) && done(21)(x) }, { close: true }]);
    expect(r.records.filter((x) => x.startsWith('D')).sort()).toEqual(['DL20', 'DR21']);
    expect(r.records.filter((x) => x.startsWith('Lwarning'))).toEqual([]);
    k.powerLoss();
    expect(latin1(k.fs.peekFile(`${q}/info/6/20`) as Uint8Array)).toBe('Fa@b\0');
    expect(latin1(k.fs.peekFile(`${q}/local/6/20`) as Uint8Array)).toBe('Tjoe@sim.example\0');
    expect(k.fs.peekStat(`${q}/remote/6/20`)).toBeNull();
    expect(latin1(k.fs.peekFile(`${q}/remote/0/21`) as Uint8Array)).toBe('Tann@remote.example\0');
    expect(k.fs.peekStat(`${q}/local/0/21`)).toBeNull();
  });

  it('gives up on an unknown record, leaving todo for later', async () => {
    const { k, inst } = await world();
    queued(k, inst, 10, 'u1\0p2\0Fa@b\0Qodd\0Tjoe@sim.example\0');
    const r = await drive(k, inst, [{ send: 'C' }, { until: (x) => x.some((y) => y.includes('unknown record')) }, { close: true }]);
    expect(r.records).toContain('Lwarning: unknown record type in todo/10\n');
    expect(k.fs.peekStat(`${inst.queue.dir}/todo/10`)).not.toBeNull();
  });

  it('with BIGTODO, an entry in the wrong split is skipped with the exact warn line', async () => {
    const { k, inst } = await world({ bigtodo: true });
    const q = inst.queue.dir;
    k.writeFile(`${q}/mess/2/100`, 'Received: x\n\n', qmailq);
    k.writeFile(`${q}/intd/2/100`, 'u1\0p2\0Fa@b\0', qmailq);
    k.writeFile(`${q}/todo/5/100`, 'u1\0p2\0Fa@b\0', qmailq);
    queued(k, inst, 101, 'u1\0p2\0Fa@b\0Tx@sim.example\0', 'todo/3/101');
    k.writeFile(`${q}/intd/3/101`, 'u1\0p2\0Fa@b\0Tx@sim.example\0', qmailq);
    const r = await drive(k, inst, [{ send: 'C' }, { until: done(101) }, { close: true }]);
    expect(r.records).toContain('Lwarn: todo-proc: queue: subdir=todo/5 fn=todo/2/100 incorrect split\n');
    expect(r.records).toContain('DL101');
    expect(k.fs.peekStat(`${q}/todo/5/100`)).not.toBeNull();
    expect(k.fs.peekStat(`${q}/todo/3/101`)).toBeNull();
  });

  it('rereads controls on H; while detached (D) it preprocesses without announcing; A attaches again', async () => {
    const { k, inst } = await world();
    const r = await drive(k, inst, [
      { send: 'C' },
      { sleepMs: 1000 },
      { control: ['virtualdomains', 'virtual.example:vv\n'] },
      { send: 'H' },
      { sleepMs: 1000 },
      { queue: [20, 'u1\0p2\0Fa@b\0Tann@virtual.example\0'] },
      { until: done(20) },
      { send: 'D' },
      { sleepMs: 1000 },
      { queue: [21, 'u1\0p2\0Fa@b\0Tann@virtual.example\0'] },
      { sleepMs: 5000 },
      { send: 'A' },
      { sleepMs: 1000 },
      { queue: [22, 'u1\0p2\0Fa@b\0Tann@virtual.example\0'] },
      { until: done(22) },
      { close: true },
    ]);
    const q = inst.queue.dir;
    expect(r.records.filter((x) => x.startsWith('D'))).toEqual(['DL20', 'DL22']);
    for (const id of [20, 21, 22]) {
      expect(latin1(k.fs.peekFile(`${q}/local/${id % 7}/${id}`) ?? new Uint8Array())).toBe('Tvv-ann@virtual.example\0');
      expect(k.fs.peekStat(`${q}/todo/${id}`)).toBeNull();
    }
  });
});
