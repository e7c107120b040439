// Properties of qmail-inject's pure core: qualification is idempotent; rewriting a list of
// addresses keeps every address (qualified) and reparses to the same list; no header field is lost;
// the body comes out byte for byte. SEED=<n> replays.

import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { compose } from '../../impl/inject/compose.ts';
import { qualify } from '../../impl/inject/qualify.ts';
import { formatAddrList, listAddresses, parseAddrList, tokenize } from '../../impl/lib/token822.ts';
import { latin1, latin1Bytes } from '../../impl/lib/latin1.ts';
import { checkProperty } from '../support/seed.ts';

const file = 'test/inject/properties.test.ts';
const config = { defaulthost: 'mail.example.com', defaultdomain: 'example.com', plusdomain: 'example.com', idhost: 'id.example.com' };
const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const local = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,10}[a-z0-9]$/).filter((s) => !s.includes('..')), fc.stringMatching(/^[a-z]{1,3} [a-z]{1,3}$/));
const host = fc.oneof(fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')), label.map((l) => `${l}+`));
const addr = fc.oneof(local, fc.tuple(local, host).map(([l, h]) => `${l}@${h}`));
const quoteLocal = (a: string): string => {
  const at = a.lastIndexOf('@');
  const l = at < 0 ? a : a.slice(0, at);
  return (l.includes(' ') ? `"${l}"` : l) + (at < 0 ? '' : a.slice(at));
};

describe('qmail-inject properties', () => {
  it('qualification is idempotent', async () => {
    await checkProperty(file, fc.property(addr, (a) => qualify(qualify(a, config), config) === qualify(a, config)));
  });

  it('a rewritten address list keeps every address, qualified, and reparses to itself', async () => {
    await checkProperty(
      file,
      fc.property(fc.array(addr, { minLength: 1, maxLength: 12 }), (addrs) => {
        const items = parseAddrList(tokenize(addrs.map(quoteLocal).join(', '))!)!;
        expect(listAddresses(items)).toEqual(addrs);
        const text = formatAddrList(items, 4);
        text.split('\n').forEach((line, i) => {
          const chars = (i === 0 ? 4 : 0) + line.length;
          if (line.includes(', ')) expect(chars).toBeLessThanOrEqual(80);
        });
        const again = parseAddrList(tokenize(text)!)!;
        expect(listAddresses(again)).toEqual(addrs);
      }),
    );
  });

  it('no header field is lost and the body is byte-identical', async () => {
    const name = fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/);
    const value = fc.stringMatching(/^[ -~]{0,30}$/);
    const body = fc.uint8Array({ maxLength: 200 });
    await checkProperty(
      file,
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), body, (fields, b) => {
        const head = fields.map(([n, v]) => `${n}: ${v}\n`).join('');
        const msg = new Uint8Array([...latin1Bytes(`${head}To: a@b.c\n\n`), ...b]);
        const r = compose({ message: msg, args: [], strategy: 'A', sender: null, env: {}, config, nowMs: 0, pid: 1 });
        if (!r.ok) throw new Error(r.text);
        const out = latin1(r.message);
        const split = out.indexOf('\n\n');
        expect(out.slice(0, split + 1)).toContain(head);
        expect(r.message.subarray(split + 2)).toEqual(b);
      }),
    );
  });

  it('injecting an injected message changes nothing (rewriting is idempotent)', async () => {
    await checkProperty(
      file,
      fc.property(fc.array(addr, { minLength: 1, maxLength: 10 }), fc.array(addr, { maxLength: 4 }), (to, cc) => {
        const head = `To: ${to.map(quoteLocal).join(', ')}\n${cc.length > 0 ? `Cc: ${cc.map(quoteLocal).join(' ')}\n` : ''}`;
        const once = compose({ message: latin1Bytes(`${head}\nbody\n`), args: [], strategy: 'A', sender: null, env: { USER: 'u' }, config, nowMs: 0, pid: 1 });
        if (!once.ok) throw new Error(once.text);
        const twice = compose({ message: once.message, args: [], strategy: 'A', sender: null, env: { USER: 'u' }, config, nowMs: 5_000, pid: 2 });
        if (!twice.ok) throw new Error(twice.text);
        expect(latin1(twice.message)).toBe(latin1(once.message));
        expect(twice.recipients).toEqual(once.recipients);
      }),
    );
  });

  it('any input bytes: a result or a named fatal, never a throw', async () => {
    const line = fc.oneof(fc.stringMatching(/^[A-Za-z-]{1,8}:[ -~]{0,20}$/), fc.stringMatching(/^(To|From|Cc|Return-Path): [ -~]{0,30}$/), fc.stringMatching(/^[ \t][ -~]{0,10}$/), fc.constant(''));
    await checkProperty(
      file,
      fc.property(fc.array(line, { maxLength: 10 }), fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }), (lines, args) => {
        const r = compose({ message: latin1Bytes(lines.join('\n')), args, strategy: 'A', sender: null, env: {}, config, nowMs: 0, pid: 1 });
        if (!r.ok) expect([100, 111]).toContain(r.code);
      }),
      { numRuns: 500 },
    );
  });
});
