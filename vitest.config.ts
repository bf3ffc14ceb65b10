import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real servers (Prism, the sandbox, the connector): two cores, two workers.
    maxWorkers: 2,
    pool: 'forks',
  },
});
