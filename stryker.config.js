// StrykerJS mutation campaign over the safety core (issue 11 section 4): `npm run test:mutation`
// runs the groups of test/mutation/groups.json in turn (EDN_MUTATION_GROUP=<group> npx stryker run
// runs one). Not part of `npm test`: it runs the group's unit tests once per mutant (MUTATION.md
// gives the run time and the scores). The sandbox lives in the OS temp dir, so nothing but reports/
// (git-ignored) is written into the working tree; the incremental file there makes a re-run after a
// new test retest only the mutants that the test or a changed source can affect.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const groups = JSON.parse(readFileSync(new URL('./test/mutation/groups.json', import.meta.url), 'utf8'));
const name = process.env.EDN_MUTATION_GROUP ?? '';
if (!(name in groups)) throw new Error(`EDN_MUTATION_GROUP must be one of ${Object.keys(groups).join(', ')} (got '${name}')`);
const out = `reports/mutation/${name}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: groups[name].mutate,
  // The machine is shared by several engineers (2 cores): at most 2 test-runner processes.
  concurrency: Number(process.env.EDN_MUTATION_CONCURRENCY ?? 2),
  tempDirName: path.join(os.tmpdir(), `edn-stryker-${name}-${process.pid}`),
  cleanTempDir: true,
  incremental: true,
  incrementalFile: `${out}/stryker-incremental.json`,
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: `${out}/mutation.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  thresholds: { high: 90, low: 80, break: null },
  // A mutant that loops (a loop bound turned around) is a timeout, i.e. detected; 5 s on top of
  // the measured test time is enough under load and keeps each one from costing 20 s.
  timeoutMS: Number(process.env.EDN_MUTATION_TIMEOUT_MS ?? 5_000),
};
