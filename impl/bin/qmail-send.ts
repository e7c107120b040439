import { runMain } from './run.ts';
import { main } from '../send/main.ts';
await runMain(main, 111, { diagnostics: 'protocol' });
