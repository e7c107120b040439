// The real world's side of sim/host-io.ts: files, a progress line on stderr, the core count, and the
// worker threads that run a swarm's seeds (each one through the same sim code: scripts/qsim-worker.ts).

import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HostIo, OutFile } from '../sim/host-io.ts';
import { lostSeed, type SeedReport, type SwarmPlan } from '../sim/swarm.ts';
import { readTree } from './qsim-tree.ts';

const flushBytes = 1 << 16;

function openOut(path: string): OutFile {
  const fd = openSync(path, 'w');
  let buf: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (size > 0) writeSync(fd, buf.join(''));
    buf = [];
    size = 0;
  };
  return {
    write(text) {
      buf.push(text);
      size += text.length;
      if (size >= flushBytes) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

/** A status line: rewritten in place on a terminal, at most every 5 s otherwise. */
function progressLine(): (line: string) => void {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return (line) => {
    if (tty) process.stderr.write(`\r${line}\x1b[K${line === '' ? '\r' : ''}`);
    else if (line !== '' && performance.now() - last > 5000) {
      last = performance.now();
      process.stderr.write(`${line}\n`);
    }
  };
}

// Worker threads do not inherit tsx's loader: each one registers it, then loads the TypeScript worker.
const workerBoot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./qsim-worker.ts', import.meta.url).href)}); });`;

/** A work queue over `jobs` workers: each takes the next seed as soon as it reports the last. A
 *  worker that dies fails the seed it held (the swarm goes on) and a fresh one takes its place. */
function runSeeds(seeds: readonly number[], plan: SwarmPlan, jobs: number, done: (r: SeedReport) => void): Promise<void> {
  let next = 0;
  let live = 0;
  return new Promise((resolve) => {
    const start = (): void => {
      const w = new Worker(workerBoot, { eval: true, workerData: { plan } });
      let held: number | undefined;
      let died: string | undefined;
      live++;
      const feed = (): void => {
        held = next < seeds.length ? seeds[next++] : undefined;
        if (held !== undefined) w.postMessage(held);
        else void w.terminate();
      };
      w.on('message', (r: SeedReport) => {
        done(r);
        feed();
      });
      w.on('error', (e) => {
        died = e.message;
      });
      w.on('exit', (code) => {
        live--;
        if (held !== undefined) {
          done(lostSeed(held, plan.bounds, died ?? `exit ${code}`));
          held = undefined;
        }
        if (next < seeds.length) start();
        else if (live === 0) resolve();
      });
      feed();
    };
    const n = Math.max(1, Math.min(jobs, seeds.length));
    if (seeds.length === 0) resolve();
    else for (let i = 0; i < n; i++) start();
  });
}

export function hostIo(): HostIo {
  return {
    readFile: (path) => readFileSync(path, 'utf8'),
    writeFile: (path, text) => writeFileSync(path, text),
    openOut,
    progress: progressLine(),
    cores: () => availableParallelism(),
    runSeeds,
    readTree,
  };
}
