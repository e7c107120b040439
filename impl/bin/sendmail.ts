import { runMain } from './run.ts';
import { main } from '../sendmail/main.ts';
await runMain(main, 111);
