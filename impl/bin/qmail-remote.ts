import { runMain } from './run.ts';
import { main } from '../remote/main.ts';
await runMain(main);
