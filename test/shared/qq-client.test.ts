// The client side of qmail-queue (impl/shared/qq-client.ts) in the simulator, against spec/queue.md
// section 6: which program it runs (NULLQUEUE, QMAILQUEUE, <home>/bin/qmail-queue), how it reads
// custom errors (ERROR_FD), and what it reports for each way the child ends. The client runs as an
// ordinary user in a world with qmail installed; the frontends are small programs of this file.
// The messages are typed out as qmail-queue-clients(7) prints them: they are what users see.

import { describe, expect, it } from 'vitest';
import type { Program, Sys } from '../../impl/sys/types.ts';
import { readAll, writeAll } from '../../impl/shared/fdio.ts';
import { queueMessage, type QueueClientResult } from '../../impl/shared/qq-client.ts';
import type { Envelope } from '../../impl/lib/envelope.ts';
import { Kernel } from '../../sim/kernel.ts';
import { addSubmitters, installQmail, type Installation } from '../../sim/install.ts';
import { pipeBytesDefault } from '../../sim/pipe.ts';
import { messagePath } from '../../spec/queue.ts';
import { addProgram, dec, enc } from '../sim/helpers.ts';

const envelope: Envelope = { sender: enc('a@example.com'), recipients: [enc('b@example.org')] };
const message = enc('Subject: client\n\nhello\n');
const customError = 'Dno thanks (#5.7.1)';
/** The lazy frontend's pause: long enough for the client to fill the pipes and close them. */
const lazyPauseMs = 1_000;
/** The submitter's group (sim/install.ts addSubmitters). */
const usersGid = 100;

/** The error fd a frontend writes on: ERROR_FD as the client sets it, else 2. */
function errorFdOf(sys: Sys): number {
  const v = Number(sys.proc.self.env['ERROR_FD'] ?? '2');
  return Number.isInteger(v) && v >= 2 ? v : 2;
}

async function readInput(sys: Sys): Promise<void> {
  await readAll(sys, 0);
  await readAll(sys, 1);
}

/** Frontends a test points QMAILQUEUE at, installed as /bin/<name>; FE_EXIT sets exit codes. */
const frontends: Record<string, Program> = {
  // Refuses with its own message on its error fd, without reading anything.
  'fe-custom': async (sys) => {
    await writeAll(sys, errorFdOf(sys), enc(customError));
    return 88;
  },
  'fe-exit': async (sys) => {
    await readInput(sys);
    return Number(sys.proc.self.env['FE_EXIT']);
  },
  'fe-killed': async (sys) => {
    await readInput(sys);
    await sys.proc.kill(sys.proc.self.pid, 'SIGKILL');
    return 0; // never reached
  },
  // Exits 0 without reading its input, after FE_PAUSE_MS.
  'fe-lazy': async (sys) => {
    await sys.clock.sleep(Number(sys.proc.self.env['FE_PAUSE_MS'] ?? '0'));
    return 0;
  },
};

interface ClientRun {
  result: QueueClientResult;
  k: Kernel;
  inst: Installation;
}

/** Installs qmail, runs queueMessage as an ordinary user with `env`, and returns what it said. */
async function runClient(seed: number, env: Record<string, string>, body: Uint8Array = message): Promise<ClientRun> {
  const k = new Kernel({ seed });
  const inst = await installQmail(k);
  const [uid] = addSubmitters(k, 1);
  for (const [name, main] of Object.entries(frontends)) addProgram(k, name, main);
  let result: QueueClientResult | null = null;
  const client = addProgram(k, 'qq-client', async (sys) => {
    result = await queueMessage(sys, body, envelope, { home: inst.home, env });
    return 0;
  });
  const h = k.spawn(client, ['qq-client'], { uid, gid: usersGid });
  await k.run();
  expect((await h.wait()).code).toBe(0);
  if (result === null) throw new Error('the client did not finish');
  return { result, k, inst };
}

const outcome = (r: QueueClientResult) => ({ kind: r.kind, message: r.message });

/** Every message file in mess/ (one per queued message). */
function messFiles(k: Kernel, inst: Installation): string[] {
  return Array.from({ length: inst.queue.split }, (_, i) => `${inst.queue.dir}/mess/${i}`).flatMap((d) => (k.fs.peekDir(d) ?? []).map((f) => `${d}/${f}`));
}

describe('qq-client: which program queues', () => {
  it('NULLQUEUE: qmail-nullqueue runs, the result is ok, and nothing is queued', async () => {
    const { result, k, inst } = await runClient(1, { NULLQUEUE: '1' });
    expect(outcome(result)).toEqual({ kind: 'ok', message: '' });
    const spawned = k.trace.lines.map((l) => JSON.parse(l) as { event: string; program?: string }).filter((e) => e.event === 'proc.spawn');
    expect(spawned.map((e) => e.program)).toContain('qmail-nullqueue');
    expect(spawned.map((e) => e.program)).not.toContain('qmail-queue');
    expect(messFiles(k, inst)).toEqual([]);
  });

  it('no NULLQUEUE or QMAILQUEUE: the real qmail-queue queues the message, end to end', async () => {
    const { result, k, inst } = await runClient(2, {});
    expect(outcome(result)).toEqual({ kind: 'ok', message: '' });
    expect(result.status).toEqual({ code: 0, signal: null });
    const mess = messFiles(k, inst);
    expect(mess).toHaveLength(1);
    const bytes = k.fs.peekFile(mess[0]!)!;
    expect(dec(bytes.subarray(bytes.indexOf(0x0a) + 1))).toBe(dec(message));
    const id = Number(mess[0]!.slice(mess[0]!.lastIndexOf('/') + 1));
    const todo = dec(k.fs.peekFile(`${inst.queue.dir}/${messagePath('todo', id, inst.queue)}`)!);
    expect(todo).toMatch(/^u1000\0p[0-9]+\0Fa@example\.com\0Tb@example\.org\0$/);
  });

  it('QMAILQUEUE naming a missing program: Zqq unable to exec qq', async () => {
    const { result } = await runClient(3, { QMAILQUEUE: '/nonexistent/qq' });
    expect(outcome(result)).toEqual({ kind: 'Z', message: 'Zqq unable to exec qq (#4.3.0)' });
    expect(result.status).toBeNull();
  });
});

describe('qq-client: custom errors (exit 88 and ERROR_FD)', () => {
  it('exit 88 with a message on fd 2: that message', async () => {
    const { result } = await runClient(10, { QMAILQUEUE: '/bin/fe-custom' });
    expect(outcome(result)).toEqual({ kind: 'D', message: customError });
  });

  it('ERROR_FD=5: the message is read from the frontend fd 5', async () => {
    const { result } = await runClient(11, { QMAILQUEUE: '/bin/fe-custom', ERROR_FD: '5' });
    expect(outcome(result)).toEqual({ kind: 'D', message: customError });
  });

  it('ERROR_FD=-1: custom errors are off, and exit 88 is a temporary problem', async () => {
    const { result } = await runClient(12, { QMAILQUEUE: '/bin/fe-custom', ERROR_FD: '-1' });
    expect(outcome(result)).toEqual({ kind: 'Z', message: 'Zqq temporary problem (#4.3.0)' });
  });
});

describe('qq-client: exit codes and signals', () => {
  const table: { code: number; message: string }[] = [
    { code: 31, message: 'Dqq mail server permanently rejected message (#5.3.0)' },
    { code: 17, message: 'Dqq permanent problem (#5.3.0)' },
    { code: 99, message: 'Zqq temporary problem (#4.3.0)' },
  ];
  for (const [i, row] of table.entries()) {
    it(`a frontend exiting ${row.code}: ${row.message}`, async () => {
      const { result } = await runClient(20 + i, { QMAILQUEUE: '/bin/fe-exit', FE_EXIT: String(row.code) });
      expect(outcome(result)).toEqual({ kind: row.message[0], message: row.message });
      expect(result.status).toEqual({ code: row.code, signal: null });
    });
  }

  it('a frontend killed by a signal: Zqq crashed', async () => {
    const { result } = await runClient(30, { QMAILQUEUE: '/bin/fe-killed' });
    expect(outcome(result)).toEqual({ kind: 'Z', message: 'Zqq crashed (#4.3.0)' });
    expect(result.status).toEqual({ code: null, signal: 'SIGKILL' });
  });
});

// qmail.c: exit 0 is success unless the client's own write failed (flagerr), and then it is
// "Zqq read error". A frontend that exits 0 without reading is therefore judged by whether the
// client could still hand everything over (spec/queue.md section 6).
describe('qq-client: a frontend that exits 0 without reading its input', () => {
  it('after the client wrote everything into the pipes: ok, as qmail says', async () => {
    const { result } = await runClient(40, { QMAILQUEUE: '/bin/fe-lazy', FE_PAUSE_MS: String(lazyPauseMs) });
    expect(outcome(result)).toEqual({ kind: 'ok', message: '' });
  });

  it('with a message larger than the pipe, so the write fails: Zqq read error', async () => {
    const big = new Uint8Array(4 * pipeBytesDefault).fill(0x78);
    const { result } = await runClient(41, { QMAILQUEUE: '/bin/fe-lazy' }, big);
    expect(outcome(result)).toEqual({ kind: 'Z', message: 'Zqq read error (#4.3.0)' });
    expect(result.status).toEqual({ code: 0, signal: null });
  });
});
