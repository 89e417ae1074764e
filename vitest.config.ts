import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Most tests wait on PostgreSQL (the server does the work): three files at once keep two cores busy.
    // Vitest's default on two cores is one file at a time (about twice as long).
    maxWorkers: 3,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
