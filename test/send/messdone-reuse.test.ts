// messdone and a message number that comes back at once. A message's number is its mess inode; once
// qmail-clean has removed mess/S/ID (foop/ID), a new message may get the same number (a new inode,
// or one recycled through qpool/) and todo-proc may announce it while qmail-send still waits for
// qmail-clean's answer to foop/ID. The old message's messdone must not then erase the new one's
// state: before the fix it dropped the id from pqdone's members after the answer, so the new
// message, already finished, was never eliminated (its info and mess stayed until a restart).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostSys } from '../../impl/sys/host/index.ts';
import { messdone } from '../../impl/send/messdone.ts';
import { insertDone, todoAbsent } from '../../impl/send/pq.ts';
import { Prioq } from '../../impl/lib/prioq.ts';
import { Wakeup } from '../../impl/shared/wakeup.ts';
import { cleanReply } from '../../spec/send.ts';
import type { Send } from '../../impl/send/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'messdone-reuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('messdone', () => {
  it('forgets the id before foop/ID, so that a new message with the same number keeps its state', async () => {
    const id = 4242;
    const layout = { dir, split: 1, bigtodo: false };
    for (const d of ['info/0', 'mess/0', 'bounce']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'info/0', String(id)), 'Fbench@example.org\0');
    let answer: (r: string) => void = () => undefined;
    let asked = '';
    const lines: unknown[] = [];
    const s = {
      sys: await hostSys(),
      layout,
      doneIds: new Set<number>(),
      chanAbsent: new Map<number, number>(),
      pqdone: new Prioq(),
      wake: new Wakeup(),
      exitAsap: false,
      bounceMayExist: new Set<number>(),
      bounceUnsynced: new Set<number>(),
      bounceChains: new Map(),
      log: { line: (l: unknown) => void lines.push(l), drain: async () => undefined },
      pool: { retire: async () => 'kept' as const, publish: async () => undefined },
      clean: {
        request: (cmd: string) => {
          asked = cmd;
          return new Promise<string>((r) => (answer = r));
        },
      },
    } as unknown as Send;
    // The old message: every channel file and todo/ID known gone, in pqdone.
    insertDone(s, id, 0);
    s.pqdone.delmin();
    s.chanAbsent.set(id, 3 | todoAbsent);
    const finishing = messdone(s, id);
    while (asked === '') await new Promise((r) => setTimeout(r, 1));
    expect(asked).toBe(`foop/${id}`);
    expect(existsSync(join(dir, 'info/0', String(id)))).toBe(false);
    // qmail-clean has removed mess/0/ID; the number comes back as a new message with no
    // recipients, which todo-proc announces (insertDone) before qmail-clean's answer arrives.
    expect(s.chanAbsent.has(id)).toBe(false);
    insertDone(s, id, 0);
    answer(cleanReply.ok);
    await finishing;
    expect(s.doneIds.has(id)).toBe(true);
    expect(s.pqdone.min()?.id).toBe(id);
    expect(lines).toContainEqual({ kind: 'end', id, queue: null });
  });
});
