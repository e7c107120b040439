// How long each kind of syscall takes in virtual time: a uniform draw in [min, max] µs from the
// scheduler's PRNG stream. The spread is what makes concurrent processes interleave differently
// for each seed, and identically for the same seed.

export type LatencyClass = 'meta' | 'io' | 'fsync' | 'spawn' | 'signal' | 'net' | 'dns' | 'wake';

export type LatencyConfig = Record<LatencyClass, readonly [minUs: number, maxUs: number]>;

export const latencyDefault: LatencyConfig = {
  meta: [0, 50],
  io: [0, 50],
  fsync: [200, 2000],
  spawn: [200, 1000],
  signal: [10, 100],
  net: [100, 1000],
  dns: [200, 5000],
  wake: [0, 20],
};

export function checkLatency(cfg: LatencyConfig): void {
  for (const [name, [min, max]] of Object.entries(cfg)) {
    if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= min)) {
      throw new Error(`sim: latency ${name}: need integers 0 <= min <= max, got [${min}, ${max}]`);
    }
  }
}
