import { it } from 'vitest';
import { runSendCrash } from '../../sim/scenarios/send-crash.ts';
it('x', async () => {
  const out: string[] = [];
  for (const kind of (process.env.K ?? 'power,kill-send,kill-todo').split(',')) {
    for (let seed = Number(process.env.S0 ?? 1); seed <= Number(process.env.S1 ?? 8); seed++) {
      const r = await runSendCrash({ seed, messages: Number(process.env.M ?? 40), faults: Number(process.env.F ?? 6), profile: (process.env.P ?? 'posix') as 'posix', kinds: [kind as 'power'], repair: process.env.R !== '0', bigtodo: process.env.B === '1' });
      out.push(`${kind} ${seed}: acc ${r.accepted} unc ${r.uncertain} del ${r.counts.delivered} bnc ${r.counts.bounced} dup ${r.counts.duplicateDeliveries}/${r.counts.duplicateBounces} viol ${r.violations.length} ${r.violations.slice(0, 3).join(' | ').slice(0, 600)}`);
    }
  }
  console.log(out.join('\n'));
}, 600_000);
