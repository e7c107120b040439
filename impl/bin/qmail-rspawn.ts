import { runMain } from './run.ts';
import { main } from '../rspawn/main.ts';
await runMain(main);
