// What the real world lends the simulator's command line beyond argv and stdout: files, a progress
// line, the core count, worker threads. scripts/qsim.ts implements it with node:fs and
// node:worker_threads; tests pass an in-memory one. sim/ only ever sees this interface.

import type { SeedReport, SwarmPlan } from './swarm.ts';
import type { HostTree } from './replay-queue-tree.ts';

/** An output file being written, line by line. */
export interface OutFile {
  write(text: string): void;
  close(): void;
}

export interface HostIo {
  readFile(path: string): string;
  writeFile(path: string, text: string): void;
  openOut(path: string): OutFile;
  /** A transient status line (stderr), replaced by the next one; '' clears it. */
  progress(line: string): void;
  /** CPUs available, the default of --jobs. */
  cores(): number;
  /** Runs seeds on `jobs` worker threads through runSwarmSeed; calls done as each one finishes.
   *  Absent: the command line runs the seeds itself, one after the other. */
  /** A directory or a tarball, listed for replay-queue (scripts/qsim-tree.ts); throws ReplayQueueError. */
  readTree?(path: string): HostTree;
  runSeeds?(seeds: readonly number[], plan: SwarmPlan, jobs: number, done: (r: SeedReport) => void): Promise<void>;
}
