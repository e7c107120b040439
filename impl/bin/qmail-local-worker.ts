import { runMain } from './run.ts';
import { main, workerV8Flags } from '../local-worker/main.ts';
// Tens of small file calls per delivery: direct syscalls, fsync on the pool (impl/sys/host/fs.ts).
await runMain(main, 111, { fs: { syncMetadata: true }, threadpool: 16, v8Flags: workerV8Flags });
