import { defineConfig } from 'vitest/config';

// `npm test` (test/setup/test.mjs) runs the suite in two phases: `unit` (test/unit, no peers) while the
// peers build, then `integration` (everything else) once they are ready. Unset, vitest runs everything.
const phase = process.env.LAMBDA_OTEL_RELAY_TEST_PHASE;
const unit = 'test/unit/**/*.test.ts';

export default defineConfig({
  test: {
    include: phase === 'unit' ? [unit] : ['test/**/*.test.ts'],
    exclude: phase === 'integration' ? ['**/node_modules/**', unit] : ['**/node_modules/**'],
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    // Integration tests start real processes (emulator, collector, S3); two cores, so two files at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
