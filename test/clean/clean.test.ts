// qmail-clean (impl/clean) in the simulator, as qmailq, against ../shared/spec/queue.md 4.4 and
// spec/send.md 4: replies byte for byte, removals durable before '+', one fsync per directory for
// a group of commands, the pid/ and stale intd/ sweeps.

import { describe, expect, it } from 'vitest';
import { Kernel } from '../../sim/kernel.ts';
import { installQmail, simIds, type Installation } from '../../sim/install.ts';
import { parseCleanCommand } from '../../impl/clean/command.ts';
import { ossifiedMs } from '../../spec/limits.ts';
import { enc } from '../sim/helpers.ts';

const qmailq = { uid: simIds.users.qmailq, gid: simIds.groups.qmail, mode: 0o644 };

async function world(bigtodo = false): Promise<{ k: Kernel; inst: Installation }> {
  const k = new Kernel({ seed: 5 });
  const inst = await installQmail(k, { split: 7, bigtodo });
  return { k, inst };
}

/** A queued message's files as qmail-queue leaves them (names made durable by k.writeFile). */
function message(k: Kernel, inst: Installation, id: number, bigtodo = false): void {
  const q = inst.queue.dir;
  const s = id % 7;
  k.writeFile(`${q}/mess/${s}/${id}`, 'Received: x\n\nbody\n', qmailq);
  k.writeFile(`${q}/intd/${bigtodo ? `${s}/` : ''}${id}`, 'u1\0p2\0Fa@b\0Tc@d\0', qmailq);
  k.writeFile(`${q}/todo/${bigtodo ? `${s}/` : ''}${id}`, 'u1\0p2\0Fa@b\0Tc@d\0', qmailq);
}

async function clean(k: Kernel, inst: Installation, input: string): Promise<{ code: number | null; out: string }> {
  const h = k.spawn(`${inst.home}/bin/qmail-clean`, ['qmail-clean'], { uid: simIds.users.qmailq, gid: simIds.groups.qmail, env: { QMAILHOME: inst.home }, stdin: enc(input) });
  await k.run({ until: () => h.status() !== null });
  const r = await h.wait();
  return { code: r.code, out: r.stdout };
}

describe('qmail-clean commands', () => {
  it('parses as qmail does, with indimail split names', () => {
    expect(parseCleanCommand('todo/123')).toEqual({ kind: 'todo', id: 123 });
    expect(parseCleanCommand('foop/9')).toEqual({ kind: 'message', id: 9 });
    expect(parseCleanCommand('todo/5/123')).toEqual({ kind: 'todo', id: 123 });
    for (const bad of ['todo/', 'todo/x', 'todo/1x', 'info/12', 'todo/1/2/3', `todo/${'1'.repeat(95)}`, 'todox123']) expect(parseCleanCommand(bad), bad).toEqual({ kind: 'bad' });
    expect(parseCleanCommand(`todo/${'1'.repeat(15)}`).kind).toBe('todo');
  });

  it('answers + ! x byte for byte, removes intd then todo or mess, and exits 0 at EOF', async () => {
    const { k, inst } = await world();
    message(k, inst, 100);
    message(k, inst, 101);
    const q = inst.queue.dir;
    const r = await clean(k, inst, 'todo/100\0foop/101\0todo/\0junk\0foop/555\0todo/12');
    expect(r).toEqual({ code: 0, out: '++xx+' }); // the last command has no NUL: dropped at EOF
    expect(k.fs.peekStat(`${q}/todo/100`)).toBeNull();
    expect(k.fs.peekStat(`${q}/intd/100`)).toBeNull();
    expect(k.fs.peekStat(`${q}/mess/2/100`)).not.toBeNull();
    expect(k.fs.peekStat(`${q}/mess/3/101`)).toBeNull();
    expect(k.fs.peekStat(`${q}/intd/101`)).toBeNull();
    expect(k.fs.peekStat(`${q}/todo/101`)).not.toBeNull(); // foop never touches todo
  });

  it('with BIGTODO, todo/S/ID removes the split names', async () => {
    const { k, inst } = await world(true);
    message(k, inst, 100, true);
    const r = await clean(k, inst, 'todo/2/100\0');
    expect(r.out).toBe('+');
    expect(k.fs.peekStat(`${inst.queue.dir}/todo/2/100`)).toBeNull();
    expect(k.fs.peekStat(`${inst.queue.dir}/intd/2/100`)).toBeNull();
  });

  it('a removal is durable when + is sent, and a group shares one fsync per directory', async () => {
    const { k, inst } = await world();
    for (const id of [100, 101, 102]) message(k, inst, id);
    let fsyncs = 0;
    k.fs.setFaultHook((op) => {
      if (op === 'fsync') fsyncs++;
      return null;
    });
    const r = await clean(k, inst, 'todo/100\0todo/101\0todo/102\0');
    k.fs.setFaultHook(null);
    expect(r.out).toBe('+++');
    expect(fsyncs).toBe(2); // intd/ and todo/ (the sweep removed nothing, so it synced nothing)
    k.powerLoss();
    for (const id of [100, 101, 102]) expect(k.fs.peekStat(`${inst.queue.dir}/todo/${id}`)).toBeNull();
  });

  it('foop: intd already gone (todo/ID removed it) or still there, mess durably removed either way', async () => {
    const { k, inst } = await world();
    const q = inst.queue.dir;
    for (const id of [100, 101, 102]) message(k, inst, id);
    expect((await clean(k, inst, 'todo/100\0')).out).toBe('+');
    // 102's intd cannot be looked at (EIO): unlink(2) decides, and removes it.
    k.fs.setFaultHook((op, path) => (op === 'lstat' && path?.endsWith('/intd/102') === true ? 'EIO' : null));
    const r = await clean(k, inst, 'foop/100\0foop/101\0foop/102\0');
    k.fs.setFaultHook(null);
    expect(r.out).toBe('+++');
    k.powerLoss();
    for (const id of [100, 101, 102]) {
      expect(k.fs.peekStat(`${q}/mess/${id % 7}/${id}`)).toBeNull();
      expect(k.fs.peekStat(`${q}/intd/${id}`)).toBeNull();
    }
  });

  it('! when an unlink fails for another reason than ENOENT', async () => {
    const { k, inst } = await world();
    message(k, inst, 100);
    k.fs.setFaultHook((op, path) => (op === 'unlink' && path?.endsWith('/todo/100') === true ? 'EIO' : null));
    const r = await clean(k, inst, 'todo/100\0');
    expect(r.out).toBe('!');
  });

  it('sweeps pid/ and stale intd/ by age before the first command', async () => {
    const { k, inst } = await world();
    const q = inst.queue.dir;
    k.writeFile(`${q}/pid/old`, '', qmailq);
    k.writeFile(`${q}/intd/999`, 'u1\0', qmailq); // no mess/5/999
    await k.run({ untilMs: k.nowMs + ossifiedMs + 1000 });
    k.writeFile(`${q}/pid/young`, '', qmailq);
    const r = await clean(k, inst, 'foop/1\0');
    expect(r.out).toBe('+');
    expect(k.fs.peekDir(`${q}/pid`)).toEqual(['young']);
    expect(k.fs.peekStat(`${q}/intd/999`)).toBeNull();
  });
});
