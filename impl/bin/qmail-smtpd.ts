import { runMain } from './run.ts';
import { main } from '../smtpd/main.ts';
await runMain(main, 1, { fs: { syncMetadata: true } });
