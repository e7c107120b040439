import { runMain } from './run.ts';
import { main } from '../queue/main.ts';
await runMain(main, 81);
