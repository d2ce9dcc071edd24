import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'firmware-protocol/**/*.test.ts', 'electron/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    environment: 'node',
    setupFiles: ['test/setup/no-console.ts'],
    reporters: ['default', './test/reporters/summary.ts', './test/reporters/hazards.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
