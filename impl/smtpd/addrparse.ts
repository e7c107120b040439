// qmail-smtpd's addrparse (notqmail qmail-smtpd.c): the address of a MAIL or RCPT argument.
// Strings are one character per byte (latin1); the argument is a C string (cut at its first NUL
// by the caller). Pure.

import { smtpAddressBytesMax } from '../../spec/smtpd.ts';

export interface LocalIp {
  /** control/localiphost (default me), or null when unset. */
  host: string | null;
  /** This host's IPv4 addresses, dotted quads (qmail's ipme). */
  ips: ReadonlySet<string>;
}

/** The address, or null for a syntax error (too long). */
export function addrparse(arg: string, lip: LocalIp): string | null {
  let terminator = '>';
  let s: string;
  const lt = arg.indexOf('<');
  if (lt >= 0) s = arg.slice(lt + 1);
  else {
    // partner should go read rfc 821
    terminator = ' ';
    const colon = arg.indexOf(':');
    s = colon < 0 ? '' : arg.slice(colon + 1).replace(/^ +/, '');
  }
  if (s.startsWith('@')) {
    // strip source route: through the first ':' (or everything)
    const colon = s.indexOf(':');
    s = colon < 0 ? '' : s.slice(colon + 1);
  }
  let addr = '';
  let esc = false;
  let quoted = false;
  for (const ch of s) {
    if (esc) {
      addr += ch;
      esc = false;
      continue;
    }
    if (!quoted && ch === terminator) break;
    if (ch === '\\') esc = true;
    else if (ch === '"') quoted = !quoted;
    else addr += ch;
  }
  addr = localIpHost(addr, lip);
  return addr.length + 1 > smtpAddressBytesMax ? null : addr;
}

/** `x@[d.d.d.d]` naming one of our addresses becomes `x@` + localiphost. */
function localIpHost(addr: string, lip: LocalIp): string {
  if (lip.host === null) return addr;
  const at = addr.lastIndexOf('@');
  if (at < 0) return addr;
  const ip = scanBracket(addr.slice(at + 1));
  if (ip === null || !lip.ips.has(ip)) return addr;
  return addr.slice(0, at + 1) + lip.host;
}

/** ip_scanbracket over the whole rest: `[a.b.c.d]` exactly, each part decimal taken mod 256. */
export function scanBracket(s: string): string | null {
  const m = /^\[([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)\]$/.exec(s);
  if (m === null) return null;
  return m.slice(1, 5).map((d) => Number(BigInt(d) % 256n)).join('.');
}
