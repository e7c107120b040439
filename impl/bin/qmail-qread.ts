import { runMain } from './run.ts';
import { main } from '../qread/main.ts';
await runMain(main, 111);
