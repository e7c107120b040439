import { runMain } from './run.ts';
import { main } from '../rspawn-defer/main.ts';
await runMain(main);
