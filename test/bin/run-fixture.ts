// A program for run.test.ts: its behaviour is argv[1].

import { runMain } from '../../impl/bin/run.ts';
import { ProgramExit } from '../../impl/sys/errors.ts';
import type { Sys } from '../../impl/sys/types.ts';

async function main(sys: Sys): Promise<number> {
  const how = sys.proc.self.argv[1];
  sys.log.event('info', 'fixture.start', { how });
  switch (how) {
    case 'return':
      return 7;
    case 'throw':
      throw new Error('boom');
    case 'program-exit':
      throw new ProgramExit(5);
    case 'exit-from-timer':
      sys.clock.timer(10, () => sys.proc.exit(9));
      return new Promise(() => undefined);
    case 'throw-from-timer':
      sys.clock.timer(10, () => {
        throw new Error('late boom');
      });
      return new Promise(() => undefined);
    default:
      return 0;
  }
}

await runMain(main, Number(process.env['BUGCODE'] ?? 111));
