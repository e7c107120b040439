// maildirmake: create a maildir (notqmail maildirmake.c, maildir(5)).
//
// Usage:   maildirmake name
// Runs as: the user who will own the maildir (it is created 0700, owned by whoever runs this).
// Does:    mkdir name, then name/tmp, name/new, name/cur, all mode 0700 (umask 077), failing if
//          name exists; then, ours, fsync of name and of its parent so the maildir is durable.
// Output:  nothing; errors on fd 2, qmail's text: `maildirmake: fatal: unable to mkdir name/tmp:
//          file already exists` (error_str wording, impl/lib/error-str.ts).
// Exit:    0 made; 100 no name (`maildirmake: usage: maildirmake name`); 111 any system failure.
// Crash safety: a crash before the final fsyncs may lose the maildir or part of it; exit 0 means
//          all four directories are durable. A partial maildir is not repaired: run it again after
//          removing it, as with qmail's.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { maildirMode, maildirmakeExit, maildirmakeUsage } from '../../spec/users.ts';
import { errorStr } from '../lib/error-str.ts';
import { writeAll } from '../shared/fdio.ts';

const ascii = new TextEncoder();
const subdirs = ['tmp', 'new', 'cur'] as const;

export async function main(sys: Sys): Promise<number> {
  sys.proc.umask(0o077);
  const name = sys.proc.self.argv[1];
  if (name === undefined) {
    await writeAll(sys, 2, ascii.encode(maildirmakeUsage));
    return maildirmakeExit.usage;
  }
  const fail = async (what: string, e: unknown): Promise<number> => {
    if (!(e instanceof SysError)) throw e;
    await writeAll(sys, 2, ascii.encode(`maildirmake: fatal: ${what}: ${errorStr(e.code)}\n`));
    return maildirmakeExit.temp;
  };
  try {
    await sys.fs.mkdir(name, maildirMode);
  } catch (e) {
    return fail(`unable to mkdir ${name}`, e);
  }
  try {
    await sys.proc.chdir(name);
  } catch (e) {
    return fail(`unable to chdir to ${name}`, e);
  }
  for (const sub of subdirs) {
    try {
      await sys.fs.mkdir(sub, maildirMode);
    } catch (e) {
      return fail(`unable to mkdir ${name}/${sub}`, e);
    }
  }
  // Durable: the three entries in name, then name's entry in its parent.
  for (const [dir, shown] of [['.', name], ['..', `${name}/..`]] as const) {
    try {
      await sys.fs.syncDir(dir);
    } catch (e) {
      return fail(`unable to sync ${shown}`, e);
    }
  }
  return maildirmakeExit.ok;
}
