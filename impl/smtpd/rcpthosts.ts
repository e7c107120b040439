// rcpthosts and morercpthosts.cdb (notqmail rcpthosts.c), and badmailfrom (bmfcheck). Pure: the
// controls are read once at start (impl/smtpd/config.ts). A cdb that turns out corrupt on lookup
// throws CdbError: qmail-smtpd says "421 unable to read controls" and exits.

import { ConstMap, lowerAscii } from '../lib/constmap.ts';
import { CdbReader } from '../lib/cdb.ts';
import { latin1Bytes } from '../lib/latin1.ts';

export interface RcptHosts {
  /** control/rcpthosts lines (null when the file is missing: every recipient is allowed). */
  map: ConstMap | null;
  /** control/morercpthosts.cdb (consulted only when rcpthosts exists), or null when missing. */
  more: CdbReader | null;
}

/** May this recipient be accepted without RELAYCLIENT? */
export function addrAllowed(addr: string, rh: RcptHosts): boolean {
  if (rh.map === null) return true;
  const at = addr.lastIndexOf('@');
  if (at < 0) return true; // presumably envnoathost is acceptable
  const host = lowerAscii(addr.slice(at + 1));
  const candidates = suffixes(host);
  if (candidates.some((c) => rh.map!.has(c))) return true;
  if (rh.more === null) return false;
  return candidates.some((c) => rh.more!.find(latin1Bytes(c)) !== null);
}

/** The whole host, then every suffix starting at a '.'. */
function suffixes(host: string): string[] {
  const out: string[] = [];
  for (let j = 0; j < host.length; j++) if (j === 0 || host[j] === '.') out.push(host.slice(j));
  return out;
}

/** Is the sender (or its @domain) listed in badmailfrom? */
export function bmfCheck(sender: string, bmf: ConstMap | null): boolean {
  if (bmf === null) return false;
  if (bmf.has(sender)) return true;
  const at = sender.lastIndexOf('@');
  return at >= 0 && bmf.has(sender.slice(at));
}
