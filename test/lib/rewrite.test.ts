// Address classification (impl/lib/rewrite.ts) against ../shared/spec/queue.md 3.4: vectors, and
// properties against a reference model written from the spec's prose (not from the code).
// Replay a property failure: SEED=<seed> npx vitest run test/lib/rewrite.test.ts

import { describe, expect, it } from 'vitest';
import { checkProperty } from '../support/seed.ts';
import fc from 'fast-check';
import { ConstMap } from '../../impl/lib/constmap.ts';
import { rewrite, stripVdomPrepend, type RewriteControls } from '../../impl/lib/rewrite.ts';
import { bounceTarget, verpSender } from '../../impl/lib/verp.ts';

const seed = process.env['SEED'] === undefined ? undefined : Number(process.env['SEED']);
const params = { seed, numRuns: 500 };

function controls(o: { locals?: string[]; percenthack?: string[]; vdoms?: string[]; envnoathost?: string } = {}): RewriteControls {
  return {
    envnoathost: o.envnoathost ?? 'default.example',
    locals: new ConstMap(o.locals ?? ['me.example'], false),
    percenthack: new ConstMap(o.percenthack ?? [], false),
    virtualdomains: new ConstMap(o.vdoms ?? [], true),
  };
}

describe('rewrite: vectors', () => {
  it('a local domain stays as it is, in any case', () => {
    expect(rewrite('joe@ME.Example', controls())).toEqual({ channel: 'local', address: 'joe@ME.Example' });
  });
  it('no @ gets envnoathost', () => {
    expect(rewrite('joe', controls({ envnoathost: 'me.example' }))).toEqual({ channel: 'local', address: 'joe@me.example' });
    expect(rewrite('joe', controls())).toEqual({ channel: 'remote', address: 'joe@default.example' });
  });
  it('percenthack turns the last % into the @, repeatedly', () => {
    const c = controls({ percenthack: ['relay.example', 'mid.example'] });
    expect(rewrite('a%b%mid.example@relay.example', c)).toEqual({ channel: 'remote', address: 'a@b' });
    expect(rewrite('a%b@other.example', c).address).toBe('a%b@other.example');
    expect(rewrite('nopercent@relay.example', c).address).toBe('nopercent@relay.example');
  });
  it('percenthack comes before locals', () => {
    expect(rewrite('joe%me.example@relay.example', controls({ percenthack: ['relay.example'] }))).toEqual({ channel: 'local', address: 'joe@me.example' });
  });
  it('virtualdomains: user, then domain, then each .suffix, then the catch-all', () => {
    const vdoms = ['joe@v.sub.example:user', 'v.sub.example:exact', '.sub.example:suffix1', '.example:suffix2', ':all'];
    const c = controls({ vdoms });
    expect(rewrite('joe@v.sub.example', c).address).toBe('user-joe@v.sub.example');
    expect(rewrite('ann@v.sub.example', c).address).toBe('exact-ann@v.sub.example');
    expect(rewrite('ann@w.sub.example', c).address).toBe('suffix1-ann@w.sub.example');
    expect(rewrite('ann@w.other.example', c).address).toBe('suffix2-ann@w.other.example');
    expect(rewrite('ann@elsewhere.org', c)).toEqual({ channel: 'local', address: 'all-ann@elsewhere.org' });
  });
  it('an empty value is an exception: remote, even with a catch-all', () => {
    const c = controls({ vdoms: ['v.example:', ':all'] });
    expect(rewrite('ann@v.example', c)).toEqual({ channel: 'remote', address: 'ann@v.example' });
  });
  it('locals win over virtualdomains', () => {
    expect(rewrite('ann@me.example', controls({ vdoms: ['me.example:v'] })).address).toBe('ann@me.example');
  });
  it('keys are case-insensitive and the last duplicate wins', () => {
    const c = controls({ vdoms: ['V.Example:first', 'v.example:second'], locals: ['A.EXAMPLE'] });
    expect(rewrite('x@v.EXAMPLE', c).address).toBe('second-x@v.EXAMPLE');
    expect(rewrite('x@a.example', c).channel).toBe('local');
  });
  it('lines without a colon are not virtualdomains', () => {
    expect(rewrite('x@v.example', controls({ vdoms: ['v.example'] })).channel).toBe('remote');
  });
});

describe('stripVdomPrepend', () => {
  const vd = new ConstMap(['v.example:vv', '.sub.example:ss', 'x.example:'], true);
  it('strips the prepend of the domain or a suffix, and nothing else', () => {
    expect(stripVdomPrepend('vv-joe@v.example', vd)).toBe('joe@v.example');
    expect(stripVdomPrepend('ss-joe@a.sub.example', vd)).toBe('joe@a.sub.example');
    expect(stripVdomPrepend('other-joe@v.example', vd)).toBe('other-joe@v.example');
    expect(stripVdomPrepend('vvjoe@v.example', vd)).toBe('vvjoe@v.example');
    expect(stripVdomPrepend('joe@x.example', vd)).toBe('joe@x.example');
    expect(stripVdomPrepend('nodomain', vd)).toBe('nodomain');
  });
});

describe('VERP', () => {
  it('expands prefix-@host-@[] per recipient', () => {
    expect(verpSender('owner-@lists.example-@[]', 'box@dom.example')).toBe('owner-box=dom.example@lists.example');
    expect(verpSender('owner-@lists.example-@[]', 'nohost')).toBe('owner-@lists.example-@[]');
    expect(verpSender('plain@example.org', 'box@dom.example')).toBe('plain@example.org');
    expect(verpSender('x-@[]', 'box@dom')).toBe('x-@[]');
  });
  it('a bounce goes to the sender without -@[]', () => {
    expect(bounceTarget('owner-@lists.example-@[]')).toBe('owner-@lists.example');
    expect(bounceTarget('-@[]')).toBe('');
    expect(bounceTarget('a@b')).toBe('a@b');
  });
});

/** The reference, from the spec's prose. */
function model(recip: string, c: { locals: string[]; percenthack: string[]; vdoms: [string, string][]; envnoathost: string }): [string, string] {
  const lc = (s: string): string => s.replace(/[A-Z]/g, (x) => x.toLowerCase());
  const inSet = (set: string[], k: string): boolean => set.some((e) => lc(e) === lc(k));
  const vget = (k: string): string | undefined => {
    let v: string | undefined;
    for (const [key, val] of c.vdoms) if (lc(key) === lc(k)) v = val; // the last line wins
    return v;
  };
  let addr = recip.includes('@') ? recip : `${recip}@${c.envnoathost}`;
  // As qmail's loop: the '@' it looks after is the one it just made, even if the local part holds
  // another '@' after it (the prose's "last @" is what the first round sees).
  let at = recip.includes('@') ? addr.lastIndexOf('@') : recip.length;
  while (inSet(c.percenthack, addr.slice(at + 1))) {
    const pct = at === 0 ? -1 : addr.lastIndexOf('%', at - 1);
    if (pct < 0) break;
    addr = `${addr.slice(0, pct)}@${addr.slice(pct + 1, at)}`;
    at = pct;
  }
  const last = addr.lastIndexOf('@');
  const domain = addr.slice(last + 1);
  if (inSet(c.locals, domain)) return ['local', addr];
  const keys = [addr, domain];
  for (let i = 0; i < domain.length; i++) if (domain[i] === '.') keys.push(domain.slice(i));
  keys.push('');
  for (const k of keys) {
    const v = vget(k);
    if (v === undefined) continue;
    return v === '' ? ['remote', addr] : ['local', `${v}-${addr}`];
  }
  return ['remote', addr];
}

describe('rewrite: properties against the reference', () => {
  const word = fc.string({ unit: fc.constantFrom('a', 'B', '.', '%', '@'), maxLength: 8 });
  const name = fc.string({ unit: fc.constantFrom('a', 'B', '.'), maxLength: 5 });
  const vdom = fc.tuple(fc.oneof(name, word), fc.oneof(fc.constant(''), fc.constantFrom('p', 'q')));
  it('agrees with the model on a small alphabet', async () => {
    await checkProperty(
      'test/lib/rewrite.test.ts',
      fc.property(word, fc.array(name, { maxLength: 3 }), fc.array(name, { maxLength: 3 }), fc.array(vdom, { maxLength: 4 }), name, (recip, locals, percenthack, vdoms, envnoathost) => {
        const c = { locals, percenthack, vdoms, envnoathost };
        const got = rewrite(recip, {
          envnoathost,
          locals: new ConstMap(locals, false),
          percenthack: new ConstMap(percenthack, false),
          virtualdomains: new ConstMap(vdoms.map(([k, v]) => `${k}:${v}`), true),
        });
        expect([got.channel, got.address]).toEqual(model(recip, c));
      }),
      params,
    );
  });
  it('a local result keeps the rewritten address as its suffix; a remote one is the address itself', async () => {
    await checkProperty(
      'test/lib/rewrite.test.ts',
      fc.property(word, fc.array(vdom, { maxLength: 4 }), (recip, vdoms) => {
        const c = controls({ vdoms: vdoms.map(([k, v]) => `${k}:${v}`) });
        const r = rewrite(recip, c);
        const plain = rewrite(recip, controls({ vdoms: [] }));
        expect(r.address.endsWith(plain.address)).toBe(true);
        if (r.channel === 'remote') expect(r.address).toBe(plain.address);
      }),
      params,
    );
  });
});
