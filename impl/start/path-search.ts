// execvp's search, done before spawn so that both worlds find the logger the same way: a name with a
// slash is used as it is; otherwise each PATH directory in turn (an empty entry is the cwd, as
// execvp reads it), the first regular file with an x bit wins. No PATH: execvp's default.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';

const defaultPath = '/bin:/usr/bin';

export async function findProgram(sys: Sys, name: string, path: string | undefined): Promise<string> {
  if (name.includes('/')) return name;
  if (name === '') throw new SysError('ENOENT', 'execvp', name);
  let denied = false;
  for (const dir of (path ?? defaultPath).split(':')) {
    const candidate = dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
    try {
      const st = await sys.fs.stat(candidate);
      if (st.kind === 'file' && (st.mode & 0o111) !== 0) return candidate;
      denied = true;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.code === 'EACCES') denied = true;
    }
  }
  // As execvp: EACCES if something was found but could not be run, else ENOENT.
  throw new SysError(denied ? 'EACCES' : 'ENOENT', 'execvp', name);
}
