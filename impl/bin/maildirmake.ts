import { runMain } from './run.ts';
import { main } from '../maildirmake/main.ts';
await runMain(main, 111);
