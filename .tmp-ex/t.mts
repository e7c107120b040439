import { explore, trafficEvents } from '../sim/explore.ts';
const crash = { seed: 1, messages: Number(process.argv[2] ?? 3), clients: Number(process.argv[5] ?? 1), profile: (process.argv[3] ?? 'posix') as 'posix', split: 7 };
let t = performance.now();
console.log('events', await trafficEvents(crash), (performance.now() - t).toFixed(0), 'ms');
t = performance.now();
const r = await explore({ crash, statesPerPointMax: Number(process.argv[4] ?? 64), statesMax: 100000 });
console.log({ ...r, violations: r.violations.length }, (performance.now() - t).toFixed(0), 'ms');
