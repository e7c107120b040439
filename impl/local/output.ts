// Where qmail-local's output goes. The standalone program writes stdout lines (-n lines, did, qp)
// on fd 1 and diagnostics on fd 2, and delivery programs inherit both fds, as in qmail. The
// in-process entry point collects everything into one buffer, as qmail-lspawn's pipe (fd 2 = fd 1)
// would, with programs writing into one pipe for their fds 1 and 2 that we drain into it.

import type { Child, Fd, FdSpec, Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import { capturedOutputBytesMax } from '../../spec/local.ts';
import { ioChunkBytes } from '../../spec/limits.ts';
import { writeAll } from '../shared/fdio.ts';
import { bytesOf } from './bytes.ts';

export interface LocalOutput {
  /** stdout: a byte string. */
  out(bin: string): Promise<void>;
  /** stderr: one diagnostic line (byte string, \n added). */
  err(line: string): Promise<void>;
  /** What a delivery program gets as its fds 1 and 2. */
  readonly programFds: [FdSpec, FdSpec];
  /** Takes the parent's ends of a started program; resolves when its output has ended. */
  collect(child: Child): Promise<void>;
}

/** The standalone program's output: fd 1 and fd 2. Write errors are ignored, as qmail's are. */
export function fdOutput(sys: Sys): LocalOutput {
  const put = async (fd: Fd, bin: string): Promise<void> => {
    try {
      await writeAll(sys, fd, bytesOf(bin));
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  };
  return {
    out: (bin) => put(1, bin),
    err: (line) => put(2, `${line}\n`),
    programFds: [1, 2],
    collect: async () => undefined,
  };
}

/** Everything in one buffer, at most capturedOutputBytesMax bytes kept (the rest is read and
 *  dropped: qmail-lspawn keeps 3000). */
export class CapturedOutput implements LocalOutput {
  readonly programFds: [FdSpec, FdSpec] = ['pipe', { sameAs: 1 }];
  private readonly parts: Uint8Array[] = [];
  private used = 0;

  constructor(private readonly sys: Sys) {}

  async out(bin: string): Promise<void> {
    this.keep(bytesOf(bin));
  }

  async err(line: string): Promise<void> {
    this.keep(bytesOf(`${line}\n`));
  }

  async collect(child: Child): Promise<void> {
    const fd = child.fds[1];
    if (fd === undefined) return;
    const buf = new Uint8Array(ioChunkBytes);
    try {
      for (;;) {
        const n = await this.sys.fs.read(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        this.keep(buf.slice(0, n));
      }
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    } finally {
      await this.sys.fs.close(fd).catch(() => undefined);
    }
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.used);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  private keep(bytes: Uint8Array): void {
    const n = Math.min(bytes.length, capturedOutputBytesMax - this.used);
    if (n <= 0) return;
    this.parts.push(bytes.subarray(0, n));
    this.used += n;
  }
}
