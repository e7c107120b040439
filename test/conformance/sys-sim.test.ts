// The fs conformance suite against the simulator: the same cases as sys-host.test.ts, so SimFs and
// the simulated kernel cannot drift from the Linux kernel they imitate. Below it, the driver that
// lets a test await sim calls (conformance/sim/driver.ts).

import { describe, expect, it } from 'vitest';
import { O } from '../../impl/sys/types.ts';
import { fsSuite } from '../../conformance/sys/fs-suite.ts';
import { simBackend } from '../../conformance/sys/sim-backend.ts';

fsSuite(simBackend);

describe('sim driver', () => {
  it('a call that can never settle fails loudly instead of hanging the test', async () => {
    const w = await simBackend.setup();
    await w.root.mkfifo(`${w.dir}/fifo`, 0o600);
    // A blocking read-open of a FIFO waits for a writer; none will ever come.
    await expect(w.root.open(`${w.dir}/fifo`, O.RDONLY)).rejects.toThrow(/would block forever/);
    // The world goes on: later calls are driven as before.
    expect(await w.root.readdir(w.dir)).toEqual(['fifo']);
    await w.cleanup();
  });

  it('concurrent calls from a test all settle', async () => {
    const w = await simBackend.setup();
    await Promise.all(['a', 'b', 'c'].map((n) => w.root.mkdir(`${w.dir}/${n}`, 0o755)));
    expect((await w.root.readdir(w.dir)).sort()).toEqual(['a', 'b', 'c']);
    await w.cleanup();
  });
});
