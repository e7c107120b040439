// Properties of the qmail-smtpd engine: any byte stream, cut into any chunks, ends in a defined
// exit without a throw and with bounded memory; dot-stuffing round-trips every message; the
// result does not depend on how the input is cut. SEED=<n> replays (test/support/seed.ts).

import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { checkProperty } from '../support/seed.ts';
import { dotStuff } from '../../impl/smtpd/blast.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import { commandLineBytesMax } from '../../spec/smtpd.ts';
import { config, converse } from './engine-harness.ts';

const file = 'test/smtpd/engine-props.test.ts';
const recv = 'Received: from client.example (192.0.2.1)\n  by mx.example.com with SMTP; 21 Nov 2026 22:57:35 -0000\n';

/** SMTP-ish tokens mixed with arbitrary bytes, so that sessions get past MAIL/RCPT/DATA. */
const token = fc.oneof(
  fc.constantFrom('HELO x\r\n', 'EHLO y\r\n', 'MAIL FROM:<a@b>\r\n', 'RCPT TO:<c@example.com>\r\n', 'RCPT TO:<d@nowhere>\r\n', 'DATA\r\n', '.\r\n', '\r\n', '\n', '\r', '.', 'RSET\r\n', 'NOOP\r\n', 'Received: x\r\n', 'QUIT\r\n'),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constant('x'.repeat(commandLineBytesMax + 3)),
);
const stream = fc.array(token, { maxLength: 60 }).map((ts) => latin1Bytes(ts.join('').replace(/[^\0-\xff]/g, '?')));

describe('qmail-smtpd engine properties', () => {
  it('any byte stream in any chunks: no throw, a 0 or 1 exit, memory within the bound', async () => {
    await checkProperty(
      file,
      fc.property(stream, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 20 }), (bytes, chunk, databytes) => {
        const c = converse(config({ databytes }), bytes, { chunk });
        expect([0, 1]).toContain(c.exit);
        expect(c.maxHeld).toBeLessThanOrEqual(commandLineBytesMax + chunk);
        expect(c.out.startsWith('220 mx.example.com ESMTP\r\n')).toBe(true);
        expect(c.out.endsWith('\r\n') || c.out === '').toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('dot-stuffing round trip: what the client sends is what qmail-queue gets', async () => {
    const line = fc.string({ unit: fc.constantFrom('.', '\r', 'a', ' ', 'R', 'é', '\0'), maxLength: 12 });
    await checkProperty(
      file,
      fc.property(fc.array(line, { maxLength: 12 }), fc.integer({ min: 1, max: 50 }), (lines, chunk) => {
        const message = lines.map((l) => `${l}\n`).join('');
        const data = latin1(dotStuff(latin1Bytes(message)));
        const c = converse(config(), `MAIL FROM:<a@b>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n${data}QUIT\r\n`, { chunk });
        expect(c.exit).toBe(0);
        expect(c.queued.map((q) => q.data)).toEqual([recv + message]);
      }),
      { numRuns: 300 },
    );
  });

  it('the result does not depend on how the input is cut', async () => {
    await checkProperty(
      file,
      fc.property(stream, fc.integer({ min: 1, max: 64 }), (bytes, chunk) => {
        const whole = converse(config(), bytes);
        const cut = converse(config(), bytes, { chunk });
        expect({ ...cut, maxHeld: 0 }).toEqual({ ...whole, maxHeld: 0 });
      }),
      { numRuns: 200 },
    );
  });
});
