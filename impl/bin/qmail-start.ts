import { runMain } from './run.ts';
import { main } from '../start/main.ts';
await runMain(main, 111);
