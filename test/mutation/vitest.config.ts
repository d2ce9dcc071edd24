/**
 * The vitest config of the mutation campaign (stryker.config.js): only the unit tests that exercise
 * the safety core, so one campaign takes minutes instead of the hours the whole suite would cost per
 * mutant. The e2e, pty, fault-matrix and reliability suites are left out: they are slow, timed
 * against the wall clock under load, and reach the same code through the same unit-tested seams.
 * MUTATION.md lists what this selection scores.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export const MUTATION_TESTS = [
  // the guard, its limits and the charge physics
  'test/unit/domain/guard.test.ts',
  'test/unit/domain/guard.property.test.ts',
  'test/unit/domain/limits.test.ts',
  'test/unit/domain/physics.test.ts',
  'test/unit/domain/device-limits.test.ts',
  'test/unit/domain/format-caps.test.ts',
  'test/unit/domain/invalid-corpus.test.ts',
  'test/unit/domain/protocol.test.ts',
  'test/unit/domain/mutation-*.test.ts',
  // the device choke point (choke-point.test.ts is left out: it reads the source text, which the
  // campaign has instrumented; the choke-point ESLint rule covers that property)
  'test/unit/device/client.test.ts',
  'test/unit/device/echo.test.ts',
  'test/unit/device/mutation-*.test.ts',
  // the session's ramp, e-stop and output monitor
  'test/unit/session/runner.test.ts',
  'test/unit/session/lying-device.test.ts',
  'test/unit/session/output-monitor.test.ts',
  'test/unit/session/slew-frames.property.test.ts',
  'test/unit/session/transitions.test.ts',
  'test/unit/session/ramp*.test.ts',
  'test/unit/session/estop*.test.ts',
  // the simulator's own limits and watchdog
  'test/unit/simulator/**/*.test.ts',
  // the documents' numbers against the code's
  'test/unit/safety-case.test.ts',
  'test/unit/docs/clinical-reference.test.ts',
];

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: MUTATION_TESTS,
    exclude: ['node_modules/**'],
    environment: 'node',
    setupFiles: ['test/setup/no-console.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
