// queue/lock/tcpto (notqmail tcpto.c): qmail-remote's shared memory of hosts that time out on
// connect. 64 records of 16 bytes: IPv4 address (0-3), consecutive timeouts (4, at most 10), the
// time of the last one in seconds, little-endian (8-11). An address with 2 or more timeouts, the
// last less than (60 + (pid & 31)) * 64 s ago, is skipped. Every access holds flock on the file;
// any error leaves the table alone (it is a cache: losing it costs a timeout, nothing else).

import type { Fd, Sys } from '../sys/types.ts';
import { O } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { tcptoBytes } from '../../spec/queue.ts';

const recordBytes = 16;
const errorsMax = 10;
/** A second timeout within this many seconds of the first counts once. */
const repeatSec = 120;

interface Table {
  buf: Uint8Array;
  n: number;
  lockFd: Fd;
}

function ipBytes(ip: string): Uint8Array | null {
  const p = ip.split('.').map(Number);
  return p.length === 4 && p.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? Uint8Array.from(p) : null;
}

const whenOf = (r: Uint8Array): number => (((r[11] as number) << 24) >>> 0) + ((r[10] as number) << 16) + ((r[9] as number) << 8) + (r[8] as number);
const nowSec = (sys: Sys): number => Math.floor(sys.clock.nowMs() / 1000);

function setWhen(r: Uint8Array, when: number): void {
  for (let i = 0; i < 4; i++) r[8 + i] = (when >>> (8 * i)) & 0xff;
}

async function closeQuietly(sys: Sys, fd: Fd): Promise<void> {
  await sys.fs.close(fd).catch(() => undefined);
}

/** getbuf(): the table read under the lock (held on lockFd when n > 0). */
async function getbuf(sys: Sys, path: string): Promise<Table | null> {
  let lockFd: Fd;
  try {
    lockFd = await sys.fs.open(path, O.WRONLY);
  } catch (e) {
    if (e instanceof SysError) return null;
    throw e;
  }
  try {
    await sys.fs.lock(lockFd, true);
    const buf = new Uint8Array(tcptoBytes);
    const fd = await sys.fs.open(path, O.RDONLY);
    const r = await sys.fs.read(fd, buf, 0, buf.length, 0).finally(() => closeQuietly(sys, fd));
    const n = r >> 4;
    if (n === 0) await closeQuietly(sys, lockFd);
    return n === 0 ? null : { buf, n, lockFd };
  } catch (e) {
    await closeQuietly(sys, lockFd);
    if (e instanceof SysError) return null;
    throw e;
  }
}

const recordAt = (t: Table, i: number): Uint8Array => t.buf.subarray(i * recordBytes, (i + 1) * recordBytes);
const sameIp = (r: Uint8Array, ip: Uint8Array): boolean => r[0] === ip[0] && r[1] === ip[1] && r[2] === ip[2] && r[3] === ip[3];

/** tcpto(): whether to skip ip now, and whether it was in the table (for tcptoErr). */
export async function tcpto(sys: Sys, path: string, ip: string): Promise<{ skip: boolean; wasThere: boolean }> {
  const b = ipBytes(ip);
  const t = b === null ? null : await getbuf(sys, path);
  if (t === null || b === null) return { skip: false, wasThere: false };
  await closeQuietly(sys, t.lockFd);
  for (let i = 0; i < t.n; i++) {
    const r = recordAt(t, i);
    if (!sameIp(r, b)) continue;
    const fresh = nowSec(sys) - whenOf(r) < (60 + (sys.proc.self.pid & 31)) << 6;
    return { skip: (r[4] as number) >= 2 && fresh, wasThere: true };
  }
  return { skip: false, wasThere: false };
}

/** tcpto_err(): a connect to ip timed out (timedOut) or did not (a success or another error). */
export async function tcptoErr(sys: Sys, path: string, ip: string, timedOut: boolean, wasThere: boolean): Promise<void> {
  const b = ipBytes(ip);
  if (b === null || (!timedOut && !wasThere)) return;
  const t = await getbuf(sys, path);
  if (t === null) return;
  try {
    const i = slotFor(sys, t, b, timedOut);
    if (i !== null) await sys.fs.write(t.lockFd, recordAt(t, i), 0, recordBytes, i * recordBytes);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
  } finally {
    await closeQuietly(sys, t.lockFd);
  }
}

/** Updates the record to write in t.buf and returns its index, or null for no write. */
function slotFor(sys: Sys, t: Table, ip: Uint8Array, timedOut: boolean): number | null {
  const now = nowSec(sys);
  for (let i = 0; i < t.n; i++) {
    const r = recordAt(t, i);
    if (!sameIp(r, ip)) continue;
    if (!timedOut) r[4] = 0;
    else {
      if ((r[4] as number) !== 0 && now < repeatSec + whenOf(r)) return null;
      r[4] = Math.min((r[4] as number) + 1, errorsMax);
      setWhen(r, now);
    }
    return i;
  }
  if (!timedOut) return null;
  let i = 0;
  while (i < t.n && recordAt(t, i)[4] !== 0) i++;
  if (i >= t.n) i = oldest(t);
  const r = recordAt(t, i);
  r.set(ip, 0);
  setWhen(r, now);
  r[4] = 1;
  return i;
}

/** The record to reuse when all are taken: the smallest when + errors * 1024. */
function oldest(t: Table): number {
  let first = 0;
  let firstWhen = Infinity;
  for (let i = 0; i < t.n; i++) {
    const r = recordAt(t, i);
    const w = whenOf(r) + ((r[4] as number) << 10);
    if (w < firstWhen) {
      first = i;
      firstWhen = w;
    }
  }
  return first;
}
