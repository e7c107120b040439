// control/smtproutes (qmail-remote.c, constmap over the file's lines): `domain:relay`, relay may be
// `host:port`; an empty relay means the normal MX lookup; `:relay` is the catch-all. Lookup for host
// H: H itself, then every suffix of H that starts at a `.` (longest first), then the empty key; the
// first match wins. Keys compare case-insensitively (constmap). Pure.

import { smtpPort } from '../../spec/remote.ts';

export interface Route {
  relay: string;
  port: number;
}

/** Lines as control.c's readfile gives them (no blank or # lines); lines without a colon are ignored.
 *  The last line for a key wins: constmap_init puts each entry at the head of its hash chain. */
export function parseRoutes(lines: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).toLowerCase();
    map.set(key, line.slice(colon + 1));
  }
  return map;
}

/** The relay for host, or null for the normal MX lookup (no match, or an empty relay). */
export function routeFor(routes: ReadonlyMap<string, string>, host: string): Route | null {
  const h = host.toLowerCase();
  let relay: string | undefined;
  for (let i = 0; i <= h.length; i++) {
    if (!(i === 0 || i === h.length || h[i] === '.')) continue;
    relay = routes.get(h.slice(i));
    if (relay !== undefined) break;
  }
  if (relay === undefined || relay === '') return null;
  const colon = relay.indexOf(':');
  if (colon < 0) return { relay, port: smtpPort };
  return { relay: relay.slice(0, colon), port: scanUlong(relay.slice(colon + 1)) };
}

/** scan_ulong: the leading decimal digits (none: 0). */
function scanUlong(s: string): number {
  const m = /^[0-9]+/.exec(s);
  return m === null ? 0 : Number(m[0]) % 2 ** 32;
}
