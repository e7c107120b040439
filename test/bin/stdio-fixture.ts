// A filter for run.test.ts: copies fd 0 to fd 1 through sys.fs, then reports byte counts on fd 2.

import { runMain } from '../../impl/bin/run.ts';
import type { Sys } from '../../impl/sys/types.ts';

async function main(sys: Sys): Promise<number> {
  const buf = new Uint8Array(4096);
  let total = 0;
  for (;;) {
    const n = await sys.fs.read(0, buf);
    if (n === 0) break;
    let off = 0;
    while (off < n) off += await sys.fs.write(1, buf, off, n - off);
    total += n;
  }
  await sys.fs.close(0);
  await sys.fs.close(1);
  sys.log.event('info', 'copied', { total, kind0: (await sys.fs.fstat(2)).kind });
  return 0;
}

await runMain(main);
