import { runMain } from './run.ts';
import { main } from '../clean/main.ts';
await runMain(main);
