// The environment qmail-local gives delivery programs (../shared/spec/local.md 2.3): what it
// inherited, then HOST HOME USER LOCAL RECIPIENT DTLINE SENDER RPLINE UFLINE EXT EXT2-4 HOST2-4
// [DEFAULT] NEWSENDER, each set variable moved to the end in that order (qmail's env_put replaces
// and appends). An inherited DEFAULT stays where it was when no -default file matched, as in qmail.

import { envNames, type EnvName } from '../../spec/local.ts';
import { textOf } from './bytes.ts';

/** Everything qmail-local puts, as byte strings. */
export interface LocalVars {
  host: string;
  home: string;
  user: string;
  local: string;
  dtLine: string;
  sender: string;
  rpLine: string;
  ufLine: string;
  ext: string;
  /** null: no -default file matched. */
  defaultPart: string | null;
  newSender: string;
}

/** Pure: EXT2, EXT3, EXT4: what follows the 1st, 2nd, 3rd `-` (empty when there are fewer). */
export function extParts(ext: string): [string, string, string] {
  const after = (s: string): string => {
    const i = s.indexOf('-');
    return i < 0 ? '' : s.slice(i + 1);
  };
  const e2 = after(ext);
  const e3 = after(e2);
  return [e2, e3, after(e3)];
}

/** Pure: HOST2, HOST3, HOST4: the host cut before its last, second-to-last, third-to-last dot;
 *  with too few dots the value stops shrinking (byte_rchr returns the length when there is none). */
export function hostParts(host: string): [string, string, string] {
  const cut = (end: number): number => {
    const i = host.lastIndexOf('.', end - 1);
    return i < 0 || end === 0 ? end : i;
  };
  const i2 = cut(host.length);
  const i3 = cut(i2);
  const i4 = cut(i3);
  return [host.slice(0, i2), host.slice(0, i3), host.slice(0, i4)];
}

/** Pure: the variables in qmail's order (DEFAULT left out when null). */
export function localVarList(v: LocalVars): [EnvName, string][] {
  const [ext2, ext3, ext4] = extParts(v.ext);
  const [host2, host3, host4] = hostParts(v.host);
  const all: Record<EnvName, string | null> = {
    HOST: v.host, HOME: v.home, USER: v.user, LOCAL: v.local, RECIPIENT: `${v.local}@${v.host}`,
    DTLINE: v.dtLine, SENDER: v.sender, RPLINE: v.rpLine, UFLINE: v.ufLine,
    EXT: v.ext, EXT2: ext2, EXT3: ext3, EXT4: ext4, HOST2: host2, HOST3: host3, HOST4: host4,
    DEFAULT: v.defaultPart, NEWSENDER: v.newSender,
  };
  return envNames.flatMap((name) => {
    const value = all[name];
    return value === null ? [] : [[name, value] as [EnvName, string]];
  });
}

/** Pure: the programs' environment: the inherited one, then qmail-local's variables. */
export function programEnv(inherited: Record<string, string>, v: LocalVars): Record<string, string> {
  const set = localVarList(v);
  const names = new Set<string>(set.map(([name]) => name));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) if (!names.has(name)) out[name] = value;
  for (const [name, value] of set) out[name] = textOf(value);
  return out;
}
