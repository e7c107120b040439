import { runMain } from './run.ts';
import { main } from '../clean/main.ts';
// Two unlinks per command: direct syscalls, the directory fsyncs on the pool (impl/sys/host/fs.ts).
await runMain(main, undefined, { fs: { syncMetadata: true }, threadpool: 16 });
