import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Host conformance tests create users and installations: run files one at a time per worker
    // pool slot, and keep the pool at the machine's two cores.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
