import { defineConfig } from 'vitest/config';

// Two projects: unit specs beside the code, e2e specs in test/ against real
// MariaDB and Redis on 127.0.0.1 (see test/helpers/env.ts). `npm test` runs both.
export default defineConfig({
  test: {
    globals: true,
    // Most e2e files wait on servers, timers and child processes far more than
    // they compute: two files at once on a 2-core machine keep `.ci/run` under
    // its 15 minutes (one worker, vitest's default here, took 13 of them).
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    // A run leaves no key in the shared Redis: see test/helpers/env.ts.
    globalSetup: ['./test/redis-run.global-setup.ts'],
    setupFiles: ['./test/redis-file.setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.spec.ts', 'migrations/**/*.spec.ts', 'sdk/src/**/*.spec.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
