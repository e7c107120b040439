// Which .qmail file controls the delivery (../shared/spec/local.md 2.2): the candidate names in
// qmail's order (pure), what one opened candidate means (pure, from its open and fstat results), and
// the search over them. Names are byte strings relative to the home directory.

import { autoPatrn, dotQmail, forwardOnlyBit, localText } from '../../spec/local.ts';
import type { SysError } from '../sys/errors.ts';
import { S } from '../sys/types.ts';
import { errText, isTempError, temp, type LocalFailure } from './failure.ts';

export interface Candidate {
  /** `.qmail` + dash + ... */
  name: string;
  /** DEFAULT = ext.slice(defaultAt) when this file is used; null: DEFAULT is not set. */
  defaultAt: number | null;
}

/** Pure: ext lowercased (ASCII only, as case_lowerb) with every `.` turned into `:`. */
export function safeExt(ext: string): string {
  return ext.replace(/[A-Z.]/g, (c) => (c === '.' ? ':' : String.fromCharCode(c.charCodeAt(0) + 32)));
}

/** Pure: the names tried, in order: the exact one, then `-default` at every `-` from the end, then
 *  dash + `default` (qmesearch). */
export function candidates(dash: string, ext: string): Candidate[] {
  const safe = safeExt(ext);
  const base = dotQmail.prefix + dash;
  const d = dotQmail.default;
  const exactDefault = safe.length >= d.length && safe.endsWith(d) ? safe.length - d.length : null;
  const out: Candidate[] = [{ name: base + safe, defaultAt: exactDefault }];
  for (let i = safe.length; i >= 0; i--) {
    if (i === 0 || safe[i - 1] === '-') out.push({ name: base + safe.slice(0, i) + d, defaultAt: i });
  }
  return out;
}

/** What opening one candidate gave: an error of open, an error of fstat, or its mode. */
export type Probe = { openError: SysError } | { fstatError: SysError } | { mode: number };

export type Verdict = { use: true; forwardOnly: boolean } | { use: false };

/** Pure: qmeexists(). A temporary error, EPERM or EACCES defers; any other open error, or a file
 *  that is not regular, means "no such file"; a world-writable one defers. */
export function verdict(name: string, p: Probe): Verdict | LocalFailure {
  if ('openError' in p) {
    const e = p.openError;
    if (isTempError(e) || e.code === 'EPERM' || e.code === 'EACCES') return temp(localText.openQmail(name, errText(e)));
    return { use: false };
  }
  if ('fstatError' in p) return temp(localText.openQmail(name, errText(p.fstatError)));
  if ((p.mode & S.IFMT) !== S.IFREG) return { use: false };
  if ((p.mode & autoPatrn) !== 0) return temp(localText.qmailWritable);
  return { use: true, forwardOnly: (p.mode & forwardOnlyBit) !== 0 };
}

export interface Found<H> {
  candidate: Candidate;
  forwardOnly: boolean;
  handle: H;
}

/** Opens candidates in order until one qualifies. `open` returns the probe and, for a file kept
 *  open, a handle; `discard` releases a handle that did not qualify. Throws the LocalFailure. */
export async function search<H>(
  cands: readonly Candidate[],
  open: (name: string) => Promise<{ probe: Probe; handle: H | null }>,
  discard: (h: H) => Promise<void>,
): Promise<Found<H> | null> {
  for (const candidate of cands) {
    const { probe, handle } = await open(candidate.name);
    const v = verdict(candidate.name, probe);
    if (!('use' in v) || !v.use) {
      if (handle !== null) await discard(handle);
      if (!('use' in v)) throw v;
      continue;
    }
    if (handle === null) throw new Error('dot-qmail search: a qualifying file without a handle');
    return { candidate, forwardOnly: v.forwardOnly, handle };
  }
  return null;
}
