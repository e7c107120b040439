import { runMain } from './run.ts';
import { main } from '../getpw/main.ts';
// A crash is QLX_SYS (118) to qmail-lspawn, as a qmail-getpw killed by a signal is.
await runMain(main, 118);
