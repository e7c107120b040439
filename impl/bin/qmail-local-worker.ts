import { runMain } from './run.ts';
import { main, workerV8Flags } from '../local-worker/main.ts';
// Tens of small file calls per delivery, the maildir's create, link and unlink among them: direct
// syscalls, fsync on the pool (impl/sys/host/fs.ts).
await runMain(main, 111, { fs: { syncMetadata: true, syncDirectoryOps: true }, threadpool: 16, v8Flags: workerV8Flags });
