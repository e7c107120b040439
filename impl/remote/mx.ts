// Where to connect (notqmail dns.c dns_mxip / dns_ip, qmail-remote.c main): an IP literal is itself
// (preference 0); a relay is its A records; otherwise the MX records in ascending preference, equal
// preferences in dns.c's random order, each resolved to its A records, and no MX (or a name without
// any) falls back to the host's own A records.
//
// Sys.net cannot tell NXDOMAIN from "no records" (both are []), so a host whose A lookup answers []
// is reported as hard-failed (perm_dns), as NXDOMAIN is; an MX name with no address adds nothing,
// as in dns.c. Temporary failures (EAGAIN) are soft.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';

export interface Target {
  ip: string;
  pref: number;
}

export type Resolved = { targets: Target[]; soft: boolean } | { fail: 'soft' | 'hard' };

/** ip_scan / ip_scanbracket over the whole string: a dotted quad, bracketed or not. */
export function ipLiteral(host: string): string | null {
  const m = /^\[?(\d{1,3}(?:\.\d{1,3}){3})\]?$/.exec(host);
  if (m === null) return null;
  if (host.startsWith('[') !== host.endsWith(']')) return null;
  const ip = m[1] as string;
  return ip.split('.').every((p) => Number(p) <= 255) ? ip.split('.').map(Number).join('.') : null;
}

/** dns_ip: the A records of one name (an IP literal is itself). */
export async function resolveIp(sys: Sys, name: string, pref: number): Promise<Resolved> {
  const lit = ipLiteral(name);
  if (lit !== null) return { targets: [{ ip: lit, pref }], soft: false };
  let addrs: string[];
  try {
    addrs = await sys.net.resolveA(name);
  } catch (e) {
    if (e instanceof SysError) return { fail: 'soft' };
    throw e;
  }
  if (addrs.length === 0) return { fail: 'hard' };
  return { targets: addrs.map((ip) => ({ ip, pref })), soft: false };
}

/** dns_mxip: seed is dns.c's `random` (qmail: now + pid<<16; ours: sys.random). */
export async function resolveMxIp(sys: Sys, host: string, seed: number): Promise<Resolved> {
  if (ipLiteral(host) !== null) return resolveIp(sys, host, 0);
  let mx;
  try {
    mx = await sys.net.resolveMx(host);
  } catch (e) {
    if (e instanceof SysError) return { fail: 'soft' };
    throw e;
  }
  if (mx.length === 0) return resolveIp(sys, host, 0);
  const targets: Target[] = [];
  let soft = false;
  for (const m of orderMx(mx.map((r) => ({ name: r.exchange, pref: r.priority })), seed)) {
    const r = await resolveIp(sys, m.name, m.pref);
    if ('fail' in r) soft ||= r.fail === 'soft';
    else targets.push(...r.targets);
  }
  return { targets, soft };
}

/** dns.c's selection loop: repeatedly take the lowest preference; among equals, a reservoir pick
 *  driven by the linear congruential `random = random * 69069 + 1` (32-bit unsigned). Pure. */
export function orderMx<T extends { pref: number }>(records: readonly T[], seed: number): T[] {
  const mx = [...records];
  const out: T[] = [];
  let random = seed >>> 0;
  while (mx.length > 0) {
    let i = 0;
    let numsame = 1;
    for (let j = 1; j < mx.length; j++) {
      const pj = (mx[j] as T).pref;
      const pi = (mx[i] as T).pref;
      if (pj < pi) {
        i = j;
        numsame = 1;
      } else if (pj === pi) {
        numsame++;
        random = (Math.imul(random, 69069) + 1) >>> 0;
        if (Math.floor(random / 2) < Math.floor(2147483648 / numsame)) i = j;
      }
    }
    out.push(mx[i] as T);
    mx[i] = mx[mx.length - 1] as T;
    mx.pop();
  }
  return out;
}
