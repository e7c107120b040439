import { runMain } from './run.ts';
import { main } from '../queue-fix/main.ts';
await runMain(main, 111);
