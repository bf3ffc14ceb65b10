import { defineConfig } from 'vitest/config';

/**
 * Load tests (test/load/): they measure how the connector behaves when the machine is busy
 * with nothing else, so they run alone, one file at a time, after the suite (`npm run
 * test:load`, called by .ci/run): beside the other suites' servers on two cores their
 * timings would say more about the neighbours than about the connector.
 */
export default defineConfig({
  test: {
    include: ['test/load/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    pool: 'forks',
  },
});
