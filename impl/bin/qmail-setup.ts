import { runMain } from './run.ts';
import { main } from '../setup/main.ts';
await runMain(main, 111);
