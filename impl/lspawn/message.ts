// The queued message of one delivery: opened by lspawn as root (the user it is delivered to cannot
// read queue/mess), checked as spawn.c checks it, then either read into memory for a worker or
// handed as fd 0 to a per-delivery qmail-local.

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { spawnReports, type SpawnReport } from '../../spec/spawn.ts';
import type { MessageWithRoom } from '../lib/worker-protocol.ts';

export interface OpenMessage {
  fd: Fd;
  size: number;
}

/** Opens mess/<messid> (relative to lspawn's cwd, queue/mess) read-only; a regular file owned by
 *  qmailq, or spawn.c's report. */
export async function openMessage(sys: Sys, messid: string, qmailqUid: number): Promise<OpenMessage | { report: SpawnReport }> {
  let fd: Fd;
  try {
    fd = await sys.fs.open(messid, O.RDONLY);
  } catch (e) {
    if (e instanceof SysError) return { report: spawnReports.openMessage };
    throw e;
  }
  const fail = async (report: SpawnReport): Promise<{ report: SpawnReport }> => {
    await sys.fs.close(fd);
    return { report };
  };
  let st;
  try {
    st = await sys.fs.fstat(fd);
  } catch (e) {
    if (e instanceof SysError) return fail(spawnReports.fstatMessage);
    throw e;
  }
  if (st.kind !== 'file') return fail(spawnReports.wrongType);
  // "aaack! qmailq has to be trusted!" (spawn.c): anything else in mess/ is damage to contain.
  if (st.uid !== qmailqUid) return fail(spawnReports.wrongOwner);
  return { fd, size: st.size };
}

/** The whole file into memory, after `room` free bytes (where the worker request's frame is built
 *  around it: impl/lib/worker-protocol.ts MessageWithRoom); the caller bounds size. Null on a read
 *  error (then: retry later). */
export async function readMessage(sys: Sys, m: OpenMessage, room = 0): Promise<MessageWithRoom | null> {
  const buf = new Uint8Array(room + m.size);
  let off = room;
  try {
    while (off < buf.length) {
      const n = await sys.fs.read(m.fd, buf, off, buf.length - off, off - room);
      if (n === 0) break;
      off += n;
    }
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
  return { buf: off === buf.length ? buf : buf.subarray(0, off), at: room };
}
