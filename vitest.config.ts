import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources in tests (see each package.json's exports).
    conditions: ['@helios/source'],
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // CI also writes a JSON report; .ci/run prints the plain "N passed, N failed" line from it.
    reporters: process.env['CI'] === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.cache/vitest-report.json' },
  },
});
