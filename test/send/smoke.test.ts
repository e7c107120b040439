import { it, expect } from 'vitest';
import { sendWorld } from '../../sim/scenarios/send-world.ts';

it('smoke', async () => {
  const w = await sendWorld({ seed: 1, local: () => ({ report: 'Kdid 0+0+1/\n', delayMs: 10 }), remote: () => ({ report: 'Kok', delayMs: 10 }) });
  const b = w.boot();
  w.submit({ sender: 'a@remote.example', recipients: ['u1@sim.example', 'r1@remote.example'] });
  await w.k.run({ untilMs: 60_000 });
  console.log(b.log());
  console.log(w.spawners.records.map((r) => `${r.channel} ${r.messid} ${r.sender} ${r.recipient} ${r.report}`));
  const pids = b.pids();
  w.k.kill(pids!.send, 'SIGTERM');
  await w.k.run({ untilMs: 120_000 });
  console.log(b.log());
  console.log(b.handle.status(), w.k.bugs);
  expect(w.k.bugs).toEqual([]);
});
