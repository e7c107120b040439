// Step 1 of qmail-lspawn's address -> user resolution: users/cdb, in process
// (../shared/spec/local.md 1.2 and 1.3; the algorithm is assignLookup in impl/lib/assign.ts).
//
// Outcomes, as qmail-lspawn's child has them:
//   { record }  a match: the six fields, ext extended by the original-case rest for a wildcard;
//   { none }    no match, or no users/cdb at all (ENOENT): fall back to qmail-getpw;
//   { qlx }     QLX_CDB (117) when users/cdb cannot be opened or read (other than ENOENT), is
//               corrupt, or lacks its wildchars record; QLX_USAGE (112) when the matched value has
//               fewer than six fields (lspawn's parse of nughde).
//
// Cache: qmail's child opens users/cdb for every delivery. A long-lived process may pass a
// UsersCdbCache: each lookup then costs one stat, and the file is read again only when its
// (dev, ino, size, mtime, ctime) changed. qmail-newu always replaces users/cdb by rename, which
// gives a new inode and a new ctime, so a change is seen by the next lookup. What the cache can
// miss: an in-place rewrite (not qmail-newu) that keeps size, mtime and ctime within the file
// system's timestamp granularity. The cached bytes are those read through the fd whose fstat
// gave the key, so a rename between the stat and the read never mixes two versions.

import type { Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { UserRecord } from '../local/types.ts';
import { qlx, usersCdbBytesMax, usersFiles } from '../../spec/users.ts';
import { assignLookup, userRecordOf } from '../lib/assign.ts';
import { CdbError, CdbReader } from '../lib/cdb.ts';
import { statSignature } from './control-snapshot.ts';
import { statOrNull } from './fdio.ts';

export type UsersCdbResult = { record: UserRecord } | { none: true } | { qlx: number };

/** One per long-lived process (never shared between processes or worlds). */
export class UsersCdbCache {
  key: string | null = null;
  reader: CdbReader | null = null;
}

const encoder = new TextEncoder();

/** users/cdb lookup of local (the recipient's local part, original case, no NUL) under home. */
export async function usersCdbLookup(sys: Sys, home: string, local: string, cache: UsersCdbCache | null = null): Promise<UsersCdbResult> {
  const path = `${home}/${usersFiles.cdb}`;
  let reader: CdbReader | 'none' | 'trouble';
  try {
    reader = await openUsersCdb(sys, path, cache);
  } catch (e) {
    if (e instanceof SysError) return trouble(sys, path, e.code);
    if (e instanceof CdbError) return trouble(sys, path, e.message);
    throw e;
  }
  if (reader === 'none') return { none: true };
  if (reader === 'trouble') return trouble(sys, path, `not a regular file of at most ${usersCdbBytesMax} bytes`);
  let found;
  try {
    found = assignLookup(reader, encoder.encode(local));
  } catch (e) {
    if (e instanceof CdbError) return trouble(sys, path, e.message);
    throw e;
  }
  if ('none' in found) return { none: true };
  if ('noWildchars' in found) return trouble(sys, path, 'no wildchars record');
  const record = userRecordOf(found.value, false);
  if (record === null) {
    sys.log.event('warn', 'users.cdb_short_record', { path, local });
    return { qlx: qlx.usage };
  }
  return { record };
}

function trouble(sys: Sys, path: string, why: string): UsersCdbResult {
  sys.log.event('warn', 'users.cdb_trouble', { path, why });
  return { qlx: qlx.cdb };
}

/** The reader for users/cdb: from the cache when the file is unchanged, else read afresh. */
async function openUsersCdb(sys: Sys, path: string, cache: UsersCdbCache | null): Promise<CdbReader | 'none' | 'trouble'> {
  if (cache !== null) {
    const st = await statOrNull(sys, path);
    if (st === null) {
      cache.key = null;
      cache.reader = null;
      return 'none';
    }
    if (cache.reader !== null && cache.key === statSignature(st)) return cache.reader;
  }
  let fd: number;
  try {
    fd = await sys.fs.open(path, O.RDONLY);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ENOENT') return 'none';
    throw e;
  }
  try {
    const st = await sys.fs.fstat(fd);
    if (st.kind !== 'file' || st.size > usersCdbBytesMax) return 'trouble';
    const reader = CdbReader.open(await readExactly(sys, fd, st.size));
    if (cache !== null) {
      cache.key = statSignature(st);
      cache.reader = reader;
    }
    return reader;
  } finally {
    await sys.fs.close(fd);
  }
}

/** The first `size` bytes of fd (fewer if it shrank: the cdb check then finds the file short). */
async function readExactly(sys: Sys, fd: number, size: number): Promise<Uint8Array> {
  const buf = new Uint8Array(size);
  let got = 0;
  while (got < size) {
    const n = await sys.fs.read(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}
