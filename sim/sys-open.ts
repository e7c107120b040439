// open(2) in the sim: SimFs resolves the path and checks permissions; a FIFO then gets the kernel's
// treatment, as on Linux: O_RDONLY|O_NONBLOCK always succeeds, O_WRONLY|O_NONBLOCK fails with ENXIO
// when nobody reads, O_RDWR succeeds and counts as both ends, and a blocking open waits until some
// peer has opened the other end since it started (it is counted while it waits, so two blocking
// opens meet).

import type { Fd } from '../impl/sys/types.ts';
import { O } from '../impl/sys/types.ts';
import type { OpenFile } from './fs-api.ts';
import type { ChanDesc, Desc, FifoState } from './files.ts';
import type { Kernel } from './kernel.ts';
import type { SimProcess } from './proc.ts';
import { Blocked, sysError } from './syscall.ts';

export function openPath(k: Kernel, p: SimProcess, path: string, flags: number, mode: number): Promise<Fd> {
  const ctx = p.ctx();
  let waiting: FifoWait | null = null;
  return k.syscall(p, 'open', 'meta', () => {
    if (waiting !== null) return waiting.retry();
    const of = k.fs.open(ctx, path, flags, mode);
    if (of.kind !== 'fifo') return installOrDiscard(k, p, k.files.file(of));
    const r = openFifo(k, p, of);
    if (r instanceof FifoWait) {
      waiting = r;
      return new Blocked(r.fifo.opens);
    }
    return r;
  }, { path, flags });
}

function openFifo(k: Kernel, p: SimProcess, of: OpenFile): Fd | FifoWait {
  const acc = of.flags & O.ACCMODE;
  const nonblock = (of.flags & O.NONBLOCK) !== 0;
  if (acc === O.WRONLY && nonblock && (k.files.findFifo(of.ino)?.chan.readers ?? 0) === 0) {
    k.fs.close(of);
    throw sysError('ENXIO', 'open');
  }
  const f = k.files.fifoState(of.ino);
  // Peer opens seen before ours: a blocking open waits for a newer one (or a peer already there).
  const peerOpensBefore = acc === O.RDONLY ? f.writerOpens : f.readerOpens;
  const d = k.files.fifo(of, f, acc !== O.WRONLY, acc !== O.RDONLY);
  if (nonblock || acc === O.RDWR || peerPresent(d)) return installOrDiscard(k, p, d);
  return new FifoWait(k, p, d, f, peerOpensBefore);
}

/** A blocking FIFO open waiting for its peer. The description is counted (and held) while it waits;
 *  if the process dies first, its cleanup releases it. */
class FifoWait {
  private readonly cleanup: () => void;

  constructor(
    private readonly k: Kernel,
    private readonly p: SimProcess,
    private readonly d: ChanDesc,
    readonly fifo: FifoState,
    private readonly peerOpensBefore: number,
  ) {
    d.refs++;
    this.cleanup = () => k.files.release(d);
    p.cleanups.add(this.cleanup);
  }

  retry(): Fd | Blocked {
    const opens = this.d.rx !== null ? this.fifo.writerOpens : this.fifo.readerOpens;
    if (!peerPresent(this.d) && opens === this.peerOpensBefore) return new Blocked(this.fifo.opens);
    this.p.cleanups.delete(this.cleanup);
    try {
      return this.p.install(this.d, 'open');
    } finally {
      this.k.files.release(this.d); // the waiter's own reference
    }
  }
}

function peerPresent(d: ChanDesc): boolean {
  return d.rx !== null ? d.rx.writers > 0 : (d.tx?.readers ?? 0) > 0;
}

function installOrDiscard(k: Kernel, p: SimProcess, d: Desc): Fd {
  try {
    return p.install(d, 'open');
  } catch (e) {
    k.files.discard(d);
    throw e;
  }
}
