import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

// Most test files wait on child processes, PostgreSQL, Redis or a browser
// rather than on the CPU, and each makes its own databases, queue prefixes,
// ports and directories; so two files run at once even on two cores (Vitest
// would run one there: one fewer than the cores). On two cores that takes
// the suite from about 16 minutes to about 12.
const workers = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    include: [
      'src/**/*.test.ts',
      'test/**/*.test.ts',
      'web/src/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: workers,
    minWorkers: 1,
  },
});
