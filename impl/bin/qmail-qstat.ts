import { runMain } from './run.ts';
import { main } from '../qstat/main.ts';
await runMain(main, 111);
