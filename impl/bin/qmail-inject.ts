import { runMain } from './run.ts';
import { main } from '../inject/main.ts';
await runMain(main, 111);
