import { runMain } from './run.ts';
import { main } from '../local/main.ts';
await runMain(main, 111, { diagnostics: 'protocol' });
