import { runMain } from './run.ts';
import { main } from '../queued/main.ts';
await runMain(main, 81, { fs: { syncMetadata: true }, threadpool: 16 });
