// qmail-inject's rwgeneric (spec local.md 3.3): an address qualified with defaulthost, plusdomain
// and defaultdomain, in that order. Pure.

export interface QualifyConfig {
  defaulthost: string;
  defaultdomain: string;
  plusdomain: string;
}

export function qualify(addr: string, cfg: QualifyConfig): string {
  if (addr === '' || addr.endsWith('@[]')) return addr;
  let a = addr;
  if (a.startsWith('@')) {
    const colon = a.indexOf(':');
    if (colon >= 0) a = a.slice(colon + 1); // a source route
  }
  if (a.endsWith('.')) a = a.slice(0, -1);
  if (a.endsWith('@')) a = a.slice(0, -1);
  if (!a.includes('@')) a = `${a}@${cfg.defaulthost}`;
  const at = a.lastIndexOf('@');
  let host = a.slice(at + 1);
  if (host.endsWith('+')) host = `${host.slice(0, -1)}.${cfg.plusdomain}`;
  if (!host.includes('.') && !host.startsWith('[')) host = `${host}.${cfg.defaultdomain}`;
  return `${a.slice(0, at)}@${host}`;
}
