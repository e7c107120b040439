import { runMain } from './run.ts';
import { main } from '../todo/main.ts';
// Tens of small file calls per message: direct syscalls, fsync on the pool (impl/sys/host/fs.ts).
await runMain(main, 111, { diagnostics: 'protocol', fs: { syncMetadata: true }, threadpool: 16 });
