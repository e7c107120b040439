import { it } from 'vitest';
import { runSendCrash } from '../../sim/scenarios/send-crash.ts';
import { latin1 } from '../../impl/lib/latin1.ts';
it('y', async () => {
  const r = await runSendCrash({ seed: 3, messages: 150, faults: 15, profile: 'posix', kinds: ['power'] }, (run) => {
    const recs = run.w.spawners.records.filter((x) => x.message !== null && latin1(x.message).startsWith('Received: (qmail 148 invoked by uid 1000); 31 Jan'));
    for (const x of recs) console.log(x.channel, x.messid, x.recipient, x.report.trim(), x.epoch, x.atMs, x.doneMs, x.reported);
    const idx = /X-Sim-Index: (\d+)/.exec(latin1(recs[0]!.message!))![1];
    const m = run.w.submitted[Number(idx)]!;
    console.log(idx, m.sender, m.recipients, m.code);
    run.boots.forEach((b, i) => { const id = recs[0]!.messid.split('/')[1]; const lines = b.boot.log().split('\n').filter((l) => new RegExp(`msg ${id}\\b|${id}$|${id}:`).test(l)); console.log(`boot ${i}:\n${lines.join('\n')}`); });
  });
  console.log(r.violations);
}, 600000);
