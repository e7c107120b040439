// tcpserver's access rules for qmail-smtpd --listen -x RULES.cdb: the cdb that tcprules(1) builds
// from lines like `127.:allow,RELAYCLIENT=""` and `:deny` (ucspi-tcp 0.88, rules.c). A listener
// run by supervise without tcpserver keeps the one thing tcpserver gave qmail-smtpd besides the
// socket: per-client environment (RELAYCLIENT above all) and refusal.
//
// The cdb: key = a rule's address as written ("1.2.3.4", "1.2.3.", "" for the default, "=host"),
// data = zero-terminated entries: "D" for deny, "+VAR=value" for each variable set; an allow
// without variables is empty. Lookup, as rules.c without host names (tcpserver -H, and this
// listener resolves none): the exact address, then each prefix ending in "." (":" for IPv6),
// longest first, then "". The first key found decides. A new cdb from tcprules takes effect at
// the next connection, as tcpserver opens the cdb per connection: the listener keeps the bytes it
// read while a stat per connection shows the same file (RulesCache, the control files' rule:
// impl/shared/control-snapshot.ts), and reads it again on any change.

import type { Sys } from '../sys/types.ts';
import { CdbError, cdbFind } from '../lib/cdb.ts';
import { isSysError } from '../sys/errors.ts';
import { latin1, latin1Bytes } from '../lib/latin1.ts';
import { readFileOrNull } from '../shared/fdio.ts';
import { controlsSettleMs, statSignature } from '../shared/control-snapshot.ts';

export type RuleVerdict = { deny: true } | { deny: false; env: Record<string, string> };

/** No rule matched (or no rules file in use): allowed, nothing set. */
export const allowAll: RuleVerdict = { deny: false, env: {} };

/** The keys tried for a client address, in order (rules.c without TCPREMOTEINFO and host names). */
export function ruleKeys(ip: string): string[] {
  // An IPv4 client on an IPv6 socket arrives as ::ffff:a.b.c.d; its rules are IPv4 rules.
  const addr = /^::ffff:[0-9.]+$/i.test(ip) ? ip.slice(7) : ip;
  const sep = addr.includes(':') ? ':' : '.';
  const keys = [addr];
  for (let n = addr.length - 1; n > 0; n--) if (addr[n - 1] === sep) keys.push(addr.slice(0, n));
  keys.push('');
  return keys;
}

/** What one rule's data says (tcpserver's found()): entries other than D and +VAR=value are
 *  ignored, as there. */
export function parseRuleData(data: Uint8Array): RuleVerdict {
  const env: Record<string, string> = {};
  let deny = false;
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0) continue;
    const entry = latin1(data.subarray(start, i));
    start = i + 1;
    if (entry.startsWith('D')) deny = true;
    else if (entry.startsWith('+')) {
      const eq = entry.indexOf('=');
      if (eq > 1) env[entry.slice(1, eq)] = entry.slice(eq + 1);
    }
  }
  return deny ? { deny: true } : { deny: false, env };
}

/** The verdict of a rules cdb for a client address. */
export function lookupRules(cdb: Uint8Array, ip: string): RuleVerdict {
  for (const key of ruleKeys(ip)) {
    const data = cdbFind(cdb, latin1Bytes(key));
    if (data !== null) return parseRuleData(data);
  }
  return allowAll;
}

/** The verdict for one connection, reading the cdb now; null when it cannot be read (tcpserver
 *  then drops the connection: "unable to read rules"). A missing file is unreadable too, as
 *  tcpserver without -X treats it. */
export async function connectionRules(sys: Sys, path: string, ip: string): Promise<RuleVerdict | null> {
  return verdictOf(await readRules(sys, path), ip);
}

async function readRules(sys: Sys, path: string): Promise<Uint8Array | null> {
  try {
    return await readFileOrNull(sys, path);
  } catch (e) {
    if (isSysError(e)) return null;
    throw e;
  }
}

function verdictOf(bytes: Uint8Array | null, ip: string): RuleVerdict | null {
  if (bytes === null) return null;
  try {
    return lookupRules(bytes, ip);
  } catch (e) {
    if (e instanceof CdbError) return null; // not a cdb
    throw e;
  }
}

/** The listener's rules file, kept across connections while a stat of it shows no change: as
 *  connectionRules, with a stat per connection instead of an open and a read. Bytes whose file
 *  changed within controlsSettleMs of the reading are not kept (a later change in the same tick of
 *  the file system's clock would not show), nor is a failed reading: each is tried again. */
export class RulesCache {
  private kept: { sig: string; bytes: Uint8Array } | null = null;
  /** Connections served from the kept bytes / that read the file (tests, diagnostics). */
  hits = 0;
  reads = 0;

  constructor(
    private readonly sys: Sys,
    readonly path: string,
  ) {}

  async verdict(ip: string): Promise<RuleVerdict | null> {
    const startMs = this.sys.clock.nowMs();
    let sig: string | null = null;
    try {
      const st = await this.sys.fs.stat(this.path);
      if (Math.max(st.mtimeMs, st.ctimeMs) < startMs - controlsSettleMs) sig = statSignature(st);
    } catch (e) {
      if (!isSysError(e)) throw e; // the reading below fails or not, as tcpserver's would
    }
    const kept = this.kept;
    if (sig !== null && kept !== null && kept.sig === sig) {
      this.hits++;
      return verdictOf(kept.bytes, ip);
    }
    this.reads++;
    const bytes = await readRules(this.sys, this.path);
    const verdict = verdictOf(bytes, ip);
    this.kept = sig !== null && bytes !== null && verdict !== null ? { sig, bytes } : null;
    return verdict;
  }
}
