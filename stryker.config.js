// StrykerJS mutation campaign over the safety core (issue 11 section 4): `npm run test:mutation`.
// Not part of `npm test`: it runs the selected unit tests once per mutant (MUTATION.md gives the
// run time and the scores). The sandbox lives in the OS temp dir, so nothing but reports/ (git-
// ignored) is written into the working tree; the incremental file there makes a re-run after a new
// test retest only the mutants that test or a changed source can affect.
import os from 'node:os';
import path from 'node:path';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  coverageAnalysis: 'perTest',
  // The machine is shared by several engineers (2 cores): at most 2 test-runner processes.
  concurrency: Number(process.env.EDN_MUTATION_CONCURRENCY ?? 2),
  mutate: [
    'src/domain/safety/**/*.ts',
    'src/domain/physics.ts',
    'src/domain/protocols/validate.ts',
    // the choke point: the client's stimulating methods, the frame arguments, the reply echo check
    'src/device/client.ts',
    'src/device/stimulating.ts',
    'src/device/echo.ts',
    'src/session/output-monitor.ts',
    // The runner's ramp and e-stop logic. The runner is being split (issue 10 section 4): the
    // globs take its parts by name once they exist; until then the line ranges of runner.ts below
    // (the loop constants, titrate..clear, the ramp step, the heartbeat loop, the monitor
    // verdict and the abort) are the same code.
    'src/session/ramp*.ts',
    'src/session/*estop*.ts',
    'src/session/runner.ts:40-55',
    'src/session/runner.ts:410-543',
    'src/session/runner.ts:761-825',
    'src/session/runner.ts:856-897',
    'src/session/runner.ts:964-1041',
    // The simulator's own limits and watchdog: limits.ts, and in stimulator.ts the control tick
    // (watchdog trip, open circuit, compliance), the set point, the frame re-arm and the limit
    // checks of SET, START and AMP.
    'src/simulator/limits.ts',
    'src/simulator/stimulator.ts:506-560',
    'src/simulator/stimulator.ts:663-694',
    'src/simulator/stimulator.ts:770-866',
  ],
  tempDirName: path.join(os.tmpdir(), `edn-stryker-${process.pid}`),
  cleanTempDir: true,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 20_000,
};
