// The pure parts of qmail-remote and qmail-rspawn: the rspawn report rule (../shared/spec/queue.md
// 4.2), blast()'s byte conversion, smtproutes matching and dns.c's MX order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rspawnReport } from '../../spec/remote.ts';
import { Blaster } from '../../impl/remote/blast.ts';
import { ipLiteral, orderMx } from '../../impl/remote/mx.ts';
import { parseRoutes, routeFor } from '../../impl/remote/smtproutes.ts';
import { checkProperty } from '../support/seed.ts';

const b = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const s = (u: Uint8Array): string => String.fromCharCode(...u);
const ok = { code: 0 };

describe('rspawnReport (qmail-rspawn.c report)', () => {
  it.each([
    ['r\0K1.2.3.4 accepted message.\nRemote host said: 250 ok\n\0', 'K1.2.3.4 accepted message.\nRemote host said: 250 ok\n'],
    ['s\0DGiving up on 1.2.3.4.\n\0'.replace('s\0', 's1.2.3.4 does not like recipient.\nRemote host said: 451 try later\n\0'),
      'Z1.2.3.4 does not like recipient.\nRemote host said: 451 try later\nGiving up on 1.2.3.4.\n'],
    ['h1.2.3.4 does not like recipient.\n\0K1.2.3.4 accepted message.\n\0', 'D1.2.3.4 does not like recipient.\n'],
    ['s1.2.3.4 does not like recipient.\n\0K1.2.3.4 accepted message.\n\0', 'Z1.2.3.4 does not like recipient.\n'],
    ['ZSorry, I couldn\'t find any host by that name. (#4.1.2)\n\0', 'ZSorry, I couldn\'t find any host by that name. (#4.1.2)\n'],
    ['r\0ZConnected to 1.2.3.4 but connection died. Possible duplicate! (#4.4.2)\n\0', 'ZConnected to 1.2.3.4 but connection died. Possible duplicate! (#4.4.2)\n'],
    ['Kno terminator', 'D'],
    ['r\0', 'D'],
  ])('%j', (out, want) => {
    expect(s(rspawnReport(ok, b(out)))).toBe(want);
  });

  it('crash, exit 111, other exits, no output', () => {
    expect(s(rspawnReport({ crashed: true }, b('K\0')))).toBe('Zqmail-remote crashed.\n');
    expect(s(rspawnReport({ code: 111 }, b('K\0')))).toBe('ZUnable to run qmail-remote.\n');
    expect(s(rspawnReport({ code: 100 }, b('K\0')))).toBe('DUnable to run qmail-remote.\n');
    expect(s(rspawnReport(ok, new Uint8Array(0)))).toBe('Zqmail-remote produced no output.\n');
  });
});

describe('Blaster (blast)', () => {
  const blast = (msg: string, splits: number[] = []): string | 'partial' => {
    const bl = new Blaster();
    let out = '';
    let at = 0;
    for (const cut of [...splits.filter((c) => c > 0 && c < msg.length).sort((x, y) => x - y), msg.length]) {
      out += s(bl.push(b(msg.slice(at, cut))));
      at = cut;
    }
    const end = bl.end();
    return end === 'partial' ? 'partial' : out + s(end);
  };

  it('vectors', () => {
    expect(blast('a\n.b\n..\n\n')).toBe('a\r\n..b\r\n...\r\n\r\n');
    expect(blast('a\r\nb\rc\n')).toBe('a\r\nb\r\nc\r\n');
    expect(blast('x\r.y\n')).toBe('x\r\n.y\r\n'); // not stuffed after a bare CR, as in C
    expect(blast('x\r')).toBe('x\r\n');
    expect(blast('x')).toBe('partial');
    expect(blast('')).toBe('');
  });

  it('property: chunking never matters; an LF-only message comes back after un-stuffing', async () => {
    const line = fc.string({ unit: fc.constantFrom('a', '.', ' ', 'z'), maxLength: 6 });
    await checkProperty(
      'test/remote/remote-pure.test.ts',
      fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.nat(60), { maxLength: 5 }), (lines, splits) => {
        const msg = lines.map((l) => `${l}\n`).join('');
        const whole = blast(msg);
        expect(blast(msg, splits)).toBe(whole);
        if (whole === 'partial') throw new Error('a message of whole lines is never partial');
        const back = whole.split('\r\n').slice(0, -1).map((l) => (l.startsWith('.') ? l.slice(1) : l));
        expect(back).toEqual(lines);
      }),
    );
  });
});

describe('smtproutes', () => {
  const routes = parseRoutes(['example.org:first', '.af.mil:', 'AF.mil:mil-relay', ':catch', 'no-colon', 'example.org:relay.test:2525']);

  it('exact, then .suffix longest first, then the catch-all; empty relay is MX; case-insensitive; the last line for a key wins', () => {
    expect(routeFor(routes, 'Example.ORG')).toEqual({ relay: 'relay.test', port: 2525 });
    expect(routeFor(routes, 'af.mil')).toEqual({ relay: 'mil-relay', port: 25 });
    expect(routeFor(routes, 'x.af.mil')).toBeNull();
    expect(routeFor(routes, 'other.test')).toEqual({ relay: 'catch', port: 25 });
    expect(routeFor(parseRoutes([]), 'other.test')).toBeNull();
  });
});

describe('MX order and IP literals', () => {
  it('ascending preference; equal preferences permuted by the seed, every one kept', () => {
    const mx = [3, 1, 2, 1, 1, 2].map((pref, i) => ({ pref, i }));
    const orders = new Set<string>();
    for (let seed = 0; seed < 50; seed++) {
      const o = orderMx(mx, seed);
      expect(o.map((m) => m.pref)).toEqual([1, 1, 1, 2, 2, 3]);
      expect(new Set(o.map((m) => m.i)).size).toBe(6);
      orders.add(o.map((m) => m.i).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('ip literals', () => {
    expect(ipLiteral('[10.0.0.1]')).toBe('10.0.0.1');
    expect(ipLiteral('10.0.0.1')).toBe('10.0.0.1');
    expect(ipLiteral('[10.0.0.1')).toBeNull();
    expect(ipLiteral('300.0.0.1')).toBeNull();
    expect(ipLiteral('example.org')).toBeNull();
  });
});
