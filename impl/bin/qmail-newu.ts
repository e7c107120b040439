import { runMain } from './run.ts';
import { main } from '../newu/main.ts';
await runMain(main, 111);
