import { runMain } from './run.ts';
import { main } from '../clean/main.ts';
// Its work is unlinks and renames: direct syscalls, the directory fsyncs on the pool
// (impl/sys/host/fs.ts). Unlike qmail-send's, its event loop serves one group of commands at a
// time and answers none before all are done, so a call that waits on the file system delays
// nothing that the pool would not; the pool hand-off cost more CPU than the call.
await runMain(main, undefined, { fs: { syncMetadata: true, syncDirectoryOps: true }, threadpool: 16 });
