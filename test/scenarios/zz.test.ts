import { it } from 'vitest';
import { runSendCrash } from '../../sim/scenarios/send-crash.ts';
it('sweep', async () => {
  const bad: string[] = [];
  let dup = 0, n = 0;
  for (let seed = Number(process.env.S0); seed < Number(process.env.S1); seed++) {
    const r = await runSendCrash({ seed, profile: (process.env.P ?? 'posix') as 'posix', bigtodo: seed % 2 === 0, messages: Number(process.env.M ?? 60), faults: 8 });
    n++; dup += r.counts.duplicateDeliveries;
    if (r.violations.length > 0) bad.push(`${seed}: ${r.violations.slice(0, 2).join(' | ')}`);
  }
  console.log(`runs ${n} dups ${dup}\n${bad.join('\n')}`);
}, 3_600_000);
