import { runMain } from './run.ts';
import { main } from '../todo/main.ts';
await runMain(main, 111, { diagnostics: 'protocol' });
