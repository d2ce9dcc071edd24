/**
 * The vitest config of the mutation campaign (stryker.config.js): only the unit tests of one group
 * of test/mutation/groups.json (EDN_MUTATION_GROUP), so one campaign takes minutes instead of the
 * hours the whole suite would cost per mutant. A group's static mutants (module-level code such as
 * the limit tables, which every test imports) run against all of the group's tests, which is why
 * each group selects only the tests that exercise its files. The e2e, pty, fault-matrix and
 * reliability suites are left out: slow, timed against the wall clock under load, and they reach
 * the same code through the same unit-tested seams. MUTATION.md lists what each group scores.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const groups = JSON.parse(readFileSync(new URL('./groups.json', import.meta.url), 'utf8')) as Record<string, { tests: string[] }>;
const name = process.env.EDN_MUTATION_GROUP ?? '';
const group = groups[name];
if (group === undefined) throw new Error(`EDN_MUTATION_GROUP must be one of ${Object.keys(groups).join(', ')} (got '${name}')`);

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: group.tests,
    exclude: ['node_modules/**'],
    environment: 'node',
    setupFiles: ['test/setup/no-console.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
