import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // load tests run alone (vitest.load.config.ts, npm run test:load)
    exclude: ['test/load/**', '**/node_modules/**'],
    // builds dist/ once for the suites that run the built server (test/production)
    globalSetup: ['test/production/build.global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real servers (Prism, the sandbox, the connector): two cores, two workers.
    maxWorkers: 2,
    pool: 'forks',
  },
});
