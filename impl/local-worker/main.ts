// qmail-local-worker: qmail-local for many deliveries of one user, in one long-lived process.
//
// Usage:   qmail-local-worker       (started by qmail-lspawn only; spec/spawn.md)
// Runs as: one recipient user (uid, gid, groups set by qmail-lspawn at spawn); refuses root (exit
//          113, QLX_ROOT) before reading anything.
// Input:   fd 3, one end of a socket pair with qmail-lspawn: frames (impl/lib/worker-protocol.ts),
//          each a delivery (qmail-local's arguments, the environment with MESSID, the message bytes,
//          which lspawn read from the queue as root) or "quit".
// Output:  on fd 3, per delivery, one reply frame: qmail-local's exit code and its output (fds 1 and
//          2 joined), cut to what qmail-lspawn's report can use. fd 0 and 1 are /dev/null; diagnostics
//          on fd 2.
// Deliveries run concurrently (qmail-lspawn bounds how many); each is qmailLocal() in process, with
//          no chdir and no process-wide state but the umask.
// Exit:    0 after "quit" or EOF on fd 3, once the deliveries in flight are done; 113 as root; a bug
//          crashes the process, and qmail-lspawn reports every delivery in flight on it as
//          `Zqmail-local crashed.` (qmail-send retries them).
// Crash safety: a reply is written only after qmailLocal returned, that is after the maildir link
//          and its fsyncs (qmail-local's own guarantee); a death before the reply is a retry.

import type { Sys } from '../sys/types.ts';
import { SysError } from '../sys/errors.ts';
import type { LocalArgs, LocalResult, MessageSource } from '../local/types.ts';
import { qmailLocal } from '../local/qmail-local.ts';
import { FrameDecoder } from '../lib/frame.ts';
import { decodeToWorker, encodeReplyFrame, type DeliveryRequest } from '../lib/worker-protocol.ts';
import { truncReportBytes, workerChannelFd, workerFrameBytesMax } from '../../spec/spawn.ts';
import { qlx } from '../../spec/users.ts';
import { BatchWriter } from '../shared/batch-writer.ts';
import { withDirGroupCommit } from '../shared/dir-sync.ts';
import { Tasks } from '../lib/tasks.ts';
import { Interruptible } from '../lib/interruptible.ts';

export type LocalFn = (sys: Sys, args: LocalArgs, message: MessageSource, env: Record<string, string>) => Promise<LocalResult>;

/** The worker's V8 flags (impl/bin/qmail-local-worker.ts): optimize later than V8's default
 *  (67584, 8 times less). A worker lives for one user's burst of mail (it retires after
 *  workerIdleMs idle), so every start pays again for compiling the delivery path with TurboFan:
 *  with the default budget that cost, over a worker's first few hundred deliveries, about a quarter
 *  of its CPU (10 users, 500 deliveries each: 1.07 against 0.75-0.92 ms user per delivery). Code
 *  that stays hot is still optimized; a long-lived worker measured the same within noise. */
export const workerV8Flags: readonly string[] = ['--interrupt-budget=540672'];

const channel = workerChannelFd;
const readChunkBytes = 65_536;

/** The worker around any qmail-local function (tests pass a stand-in). */
export function workerMain(local: LocalFn): (sys: Sys) => Promise<number> {
  return async (sys) => {
    const self = sys.proc.self;
    if (self.uid === 0 || self.euid === 0) return qlx.root;
    // Replies to a dead lspawn are dropped; the deliveries in flight still finish.
    // Deliveries into one maildir share their new/ fsyncs (each still waits for one of its own).
    const delivering = withDirGroupCommit(sys);
    const replies = new BatchWriter(sys, channel, () => undefined);
    const inflight = new Tasks();
    const decoder = new FrameDecoder(workerFrameBytesMax);
    // One read buffer; the decoder gets a copy of what arrived, since it keeps pieces (a request's
    // message is one of them).
    const buf = new Uint8Array(readChunkBytes);
    // A bug in a delivery ends the reading with its throw.
    const reads = new Interruptible().interruptWith(inflight.failed, 0);
    reading: for (;;) {
      const n = await reads.wait(readOrEof(sys, buf));
      if (n === 0) break;
      for (const payload of decoder.push(buf.slice(0, n))) {
        const msg = decodeToWorker(payload);
        if ('quit' in msg) break reading;
        inflight.add(run(delivering, local, msg.deliver).then((reply) => replies.send(reply)));
      }
    }
    await inflight.settled();
    await replies.flushed();
    return 0;
  };
}

export const main = workerMain(qmailLocal);

async function run(sys: Sys, local: LocalFn, req: DeliveryRequest): Promise<Uint8Array> {
  const r = await local(sys, { ...req.args, dryRun: false }, bytesSource(req.message), req.env);
  // The report keeps at most truncReportBytes (spec/spawn.ts truncateReport): one more byte tells
  // lspawn that the output was longer.
  const output = r.output.length > truncReportBytes + 1 ? r.output.subarray(0, truncReportBytes + 1) : r.output;
  return encodeReplyFrame({ id: req.id, code: r.code, output });
}

function bytesSource(bytes: Uint8Array): MessageSource {
  return {
    size: bytes.length,
    bytes,
    read: async (pos, buf) => {
      if (pos >= bytes.length) return 0;
      const n = Math.min(buf.length, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n));
      return n;
    },
  };
}

/** A broken channel is EOF: lspawn is gone; the deliveries in flight still finish. */
async function readOrEof(sys: Sys, buf: Uint8Array): Promise<number> {
  try {
    return await sys.fs.read(channel, buf, 0, buf.length, null);
  } catch (e) {
    if (e instanceof SysError) return 0;
    throw e;
  }
}
