import { runMain } from './run.ts';
import { main } from '../nullqueue/main.ts';
await runMain(main, 81);
