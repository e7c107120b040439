import { runMain } from './run.ts';
import { main } from '../pw2u/main.ts';
await runMain(main, 111);
