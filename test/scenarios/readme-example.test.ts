// The README's "Write your own scenario" example, run as a test; the part between the two marker
// lines below must appear in README.md verbatim (the last test checks it), so they cannot drift.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// README:begin
import fc from 'fast-check';
import { createWorld } from '../../sim/world-api.ts';
import { mailArb } from '../../sim/workload.ts';

it('mail to an mbox user survives a power loss', async () => {
  const world = await createWorld({ seed: 42, profile: 'posix' });
  world.addUser('alice', { kind: 'mbox' });
  const sent = await world.inject({ sender: 'bob@remote.example', recipients: ['alice@sim.example', 'nosuch@sim.example'] });
  expect(sent.code).toBe(0); // qmail-queue accepted it
  await world.advance(50); // deliveries under way...
  await world.crash(); // ...power loss, queue-fix, boot
  expect((await world.settle()).problems).toEqual([]); // idle, 36 h, clean restart
  expect(world.mailbox('alice').filter((m) => m.index === sent.index)).not.toHaveLength(0);
  expect(world.log().some((l) => l.event.kind === 'end')).toBe(true); // qmail-send's log, parsed
  const check = world.check(); // ledger, mailboxes, queue, log, no root
  expect(check.violations).toEqual([]);
  expect(check.counts.bounced).toBe(1); // nosuch: "Sorry, no mailbox here by that name."
});

it('any mail from the arbitraries is delivered, bounced or held', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(mailArb(['m1', 'b1', 'p1', 'f1']), { minLength: 1, maxLength: 3 }), async (mails) => {
      const world = await createWorld({ seed: 7 });
      for (const mail of mails) expect((await world.inject(mail)).code).toBe(0);
      expect(await world.runUntilIdle()).toBe(true);
      expect(world.check().violations).toEqual([]);
    }),
    { numRuns: 3, seed: 5 },
  );
});
// README:end

describe('README', () => {
  it('shows this example verbatim', () => {
    const me = readFileSync(join(import.meta.dirname, 'readme-example.test.ts'), 'utf8');
    const snippet = me.slice(me.indexOf('// README:begin\n') + '// README:begin\n'.length, me.indexOf('// README:end'));
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(snippet.length).toBeGreaterThan(500);
    expect(readme).toContain(snippet);
  });
});
