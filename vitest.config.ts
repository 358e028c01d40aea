import { defineConfig } from 'vitest/config';

// Tests start real brokers and real third-party clients over loopback; on a 2-core machine
// a few files at a time keeps timing-sensitive tests (keepalive, wills) honest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles src/ to dist/ once; spawned CLI processes run the built JavaScript.
    globalSetup: ['test/global-setup.ts'],
    // Guards against hangs, not deadlines: on a loaded 2-core machine (other suites, stress-ng) a test
    // that spawns a dozen CLI processes in turn takes several times its idle duration.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    fileParallelism: true,
  },
});
