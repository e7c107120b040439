// The simulator's own speed (issue 5): how fast the whole MTA runs in one process over SimFs.
//
//   simulated day      mta-crash: 10,000 messages arriving evenly over 24 virtual hours, 20 faults
//                      (power losses and kill -9 of each daemon) at random instants, remote mail
//                      sent out to scripted SMTP peers (mta-world.ts remote 'peers'), then the
//                      scenario's healed phase (4 virtual days of retries), a clean restart and every
//                      check. Wall and CPU seconds; simulated deliveries (maildir files, mbox entries,
//                      program runs) per wall second; time acceleration (virtual s per wall s);
//                      events per wall second. The run must hold every invariant. The day itself
//                      (the faulty phase up to 24 virtual h), the healed phase with the restart and
//                      the checks are also timed apart, each labelled.
//   queue-crash        the default `npm start` run (5000 messages, 32 clients, 20 power losses).
//   explore            `qsim explore` on its default 10-message run: wall s, crash states checked.
//
// CPU seconds (process.cpuUsage) are given beside wall seconds: the machine may be shared.
// Usage: npx tsx bench/sim.ts [--quick]   (quick: 1000 messages in the day, 1000 in queue-crash)

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { explore } from '../sim/explore.ts';
import { exploreClientsDefault, exploreMessagesDefault } from '../sim/cli-explore.ts';
import { runMtaCrash } from '../sim/scenarios/mta-crash.ts';
import { runQueueCrash } from '../sim/scenarios/queue-crash.ts';

const dayMs = 24 * 3_600_000;

interface Timed<T> {
  r: T;
  wallS: number;
  cpuS: number;
}

async function timed<T>(f: () => Promise<T>): Promise<Timed<T>> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  const c = process.cpuUsage(c0);
  return { r, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 };
}

/** A point in the run: wall ms, CPU µs and kernel events so far. */
interface Mark {
  name: string;
  wall: number;
  cpu: number;
  events: number;
}

function mark(name: string, events: number): Mark {
  const c = process.cpuUsage();
  return { name, wall: performance.now(), cpu: c.user + c.system, events };
}

const secs = (t: Timed<unknown>): string => `${t.wallS.toFixed(1)} s wall, ${t.cpuS.toFixed(1)} s CPU`;
const rate = (n: number, s: number): string => (n / s).toFixed(0);

export async function simBench(quick: boolean): Promise<[string, string][]> {
  const rows: [string, string][] = [];
  const messages = quick ? 1000 : 10_000;
  const marks: Mark[] = [mark('start', 0)];
  const onPhase = (phase: string, events: number): void => void marks.push(mark(phase, events));
  const day = await timed(() => runMtaCrash({ seed: 1, messages, faults: 20, profile: 'posix', durationMs: dayMs, onPhase }));
  marks.push(mark('checks', day.r.events));
  const d = day.r;
  const delivered = d.found.maildir + d.found.mbox + d.found.program + d.found.peer;
  const label = `sim day: mta-crash, ${messages} msgs over 24 h, 20 faults`;
  rows.push([label, `${secs(day)}, ${d.violations.length === 0 ? 'every invariant held' : `${d.violations.length} VIOLATIONS`}`]);
  rows.push(['  simulated deliveries per wall s', `${rate(delivered, day.wallS)} (${delivered} deliveries, ${d.found.peer} of them to SMTP peers; ${rate(delivered, day.cpuS)} per CPU s)`]);
  rows.push(['  time acceleration (virtual s / wall s)', `${rate(d.simMs / 1000, day.wallS)}x (${(d.simMs / 3_600_000).toFixed(0)} virtual h, healed phase included)`]);
  rows.push(['  events per wall s', `${rate(d.events, day.wallS)} (${d.events} events; ${rate(d.events, day.cpuS)} per CPU s)`]);
  const parts: Record<string, string> = {
    faulty: '  of which the day (24 virtual h, faults, arrivals)',
    healed: '  of which the healed phase (4 virtual days) and restart',
    checks: '  of which the checks',
  };
  for (let i = 1; i < marks.length; i++) {
    const [a, b] = [marks[i - 1] as Mark, marks[i] as Mark];
    const events = b.name === 'checks' ? '' : `, ${b.events - a.events} events`;
    rows.push([parts[b.name] ?? `  ${b.name}`, `${((b.wall - a.wall) / 1000).toFixed(1)} s wall, ${((b.cpu - a.cpu) / 1e6).toFixed(1)} s CPU${events}`]);
  }

  const qMessages = quick ? 1000 : 5000;
  const q = await timed(() => runQueueCrash({ seed: 1, messages: qMessages, clients: 32, crashes: 20, profile: 'posix', split: 23 }));
  rows.push([`sim queue-crash: ${qMessages} msgs, 32 clients, 20 power losses`, `${secs(q)}, ${q.r.violations.length === 0 ? 'every invariant held' : `${q.r.violations.length} VIOLATIONS`}`]);
  rows.push(['  messages per wall s, events per wall s', `${rate(qMessages, q.wallS)}, ${rate(q.r.events, q.wallS)}`]);

  const x = await timed(() => explore({ crash: { seed: 1, messages: exploreMessagesDefault, clients: exploreClientsDefault, profile: 'posix', split: 7 } }));
  rows.push([`sim explore: ${exploreMessagesDefault} msgs, every crash point`, `${secs(x)}, ${x.r.violations.length === 0 ? 'no violation' : `${x.r.violations.length} VIOLATIONS`}`]);
  rows.push(['  crash points, states checked', `${x.r.points} points, ${x.r.statesTotal - x.r.duplicates} distinct states (${x.r.events} events uncrashed)`]);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const rows = await simBench(process.argv.includes('--quick'));
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}
