// Address classification (nq:qmail-send.c rewrite, stripvdomprepend; ../shared/spec/queue.md 3.4):
// which channel a recipient goes to and how its address is written into local/ or remote/, and how
// a bounce names a virtual-domain recipient. Pure; addresses are one character per byte.
//
//   1. no '@': append '@' + envnoathost;
//   2. percenthack: while the domain is listed, the last '%' before the '@' becomes the '@';
//   3. the domain in locals: local, unchanged;
//   4. virtualdomains, first hit of: the whole address, the domain, each '.'-suffix of the domain
//      from the left, the empty key; an empty value is an exception (remote), else local as
//      `<value>-<address>`;
//   5. otherwise remote, unchanged.

import { ConstMap } from './constmap.ts';
import { rchr } from './latin1.ts';

export interface RewriteControls {
  envnoathost: string;
  locals: ConstMap;
  percenthack: ConstMap;
  virtualdomains: ConstMap;
}

export interface Rewritten {
  channel: 'local' | 'remote';
  /** What goes after the T in local/ or remote/. */
  address: string;
}

export function rewrite(recip: string, c: RewriteControls): Rewritten {
  let addr = recip;
  let i = rchr(addr, addr.length, '@');
  if (i === addr.length) addr = `${addr}@${c.envnoathost}`;
  while (c.percenthack.has(addr.slice(i + 1))) {
    const j = rchr(addr, i, '%');
    if (j === i) break;
    addr = `${addr.slice(0, j)}@${addr.slice(j + 1, i)}`;
    i = j;
  }
  const at = rchr(addr, addr.length, '@');
  if (c.locals.has(addr.slice(at + 1))) return { channel: 'local', address: addr };
  for (const key of virtualKeys(addr, at)) {
    const value = c.virtualdomains.get(key);
    if (value === undefined) continue;
    if (value === '') break;
    return { channel: 'local', address: `${value}-${addr}` };
  }
  return { channel: 'remote', address: addr };
}

/** The keys rewrite tries, in order: the address, the domain, each '.'-suffix, ''. */
export function virtualKeys(addr: string, at: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i <= addr.length; i++) {
    if (i === 0 || i === at + 1 || i === addr.length || (i > at && addr[i] === '.')) keys.push(addr.slice(i));
  }
  return keys;
}

/** stripvdomprepend: the recipient a bounce names, without the `<prepend>-` a virtual domain added
 *  (looked up by the domain, its '.'-suffixes and '', never by the whole address). */
export function stripVdomPrepend(recip: string, virtualdomains: ConstMap): string {
  const at = recip.lastIndexOf('@');
  if (at < 0) return recip;
  const domain = recip.slice(at + 1);
  for (let i = 0; i <= domain.length; i++) {
    if (!(i === 0 || i === domain.length || domain[i] === '.')) continue;
    const prepend = virtualdomains.get(domain.slice(i));
    if (prepend === undefined) continue;
    if (prepend === '' || !recip.startsWith(prepend) || recip[prepend.length] !== '-') break;
    return recip.slice(prepend.length + 1);
  }
  return recip;
}
