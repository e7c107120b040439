import { runMain } from './run.ts';
import { main } from '../send/main.ts';
// Tens of small file calls per message, and the renames of pool/: direct syscalls, fsync on the
// pool (impl/sys/host/fs.ts, syncDirectoryOps).
// A pool of 4: its work is renames (pool/) and a few directory fsyncs, group-committed
// (dir-sync.ts), so more threads add no parallelism that counts, only idle waiters to wake: with
// 16, qmail-send made 26 futex calls per message draining a queue, with 4 from 9 to 14.
await runMain(main, 111, { diagnostics: 'protocol', fs: { syncMetadata: true, syncDirectoryOps: true }, threadpool: 4 });
