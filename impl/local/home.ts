// The home directory checks (../shared/spec/local.md 2.1, qmail-local.c chdir + checkhome): it must
// be a directory we may enter ("Unable to switch to"), not world-writable, and not sticky (the user
// is editing .qmail: defer; with -n only a warning). We stat it instead of chdir'ing into it.

import type { Stat, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { errorStr } from '../lib/error-str.ts';
import { autoPatrn, localText, stickyBit } from '../../spec/local.ts';
import { binOf } from './bytes.ts';
import { errText, temp, type LocalFailure } from './failure.ts';
import { maySearchBy } from './access.ts';

export type HomeVerdict = 'ok' | 'stickyWarning' | LocalFailure;

/** Pure: checkhome() on the home's mode. */
export function homeVerdict(mode: number, dryRun: boolean): HomeVerdict {
  if ((mode & autoPatrn) !== 0) return temp(localText.homeWritable);
  if ((mode & stickyBit) !== 0) return dryRun ? 'stickyWarning' : temp(localText.homeSticky);
  return 'ok';
}

/** Throws the failure; returns whether to print the sticky warning. */
export async function checkHome(sys: Sys, homedir: string, dryRun: boolean): Promise<'ok' | 'stickyWarning'> {
  const switchFailed = (e: string): LocalFailure => temp(localText.switchHome(binOf(homedir), e));
  let st: Stat;
  try {
    st = await sys.fs.stat(homedir);
  } catch (e) {
    if (e instanceof SysError) throw switchFailed(errText(e));
    throw e;
  }
  if (st.kind !== 'dir') throw switchFailed(errorStr('ENOTDIR'));
  if (!maySearchBy(sys.proc.self, st)) throw switchFailed(errorStr('EACCES'));
  const v = homeVerdict(st.mode, dryRun);
  if (typeof v !== 'string') throw v;
  return v;
}
