/**
 * A vitest reporter that fails the run when a hazard of SAFETY.md has no test that PASSED in it
 * (issue 11 §2): the static safety case checks that a test naming the hazard exists; this checks,
 * after the tests ran, that one of them ran and passed. A hazard whose named tests were all
 * skipped (an `it.skipIf` on a missing tool, say), failed or never reached is reported by id with
 * what happened to each, and the run exits 1.
 *
 * Only hazards with a "verified by" file in this run are judged, and by the tests of the run: in
 * `vitest run <file>`, a hazard with a test in that file naming it needs one of those to pass (a
 * hazard named only in a listed file the run left out waits for a run with all of them); in
 * `npm test` every hazard of the default suite is judged, in `npm run test:firmware` those named
 * in its `.slow.ts` suites. A run filtered by test name (`-t`) skips tests on purpose, so it
 * judges nothing.
 */
import path from 'node:path';
import type { TestModule } from 'vitest/node';
import type { Reporter } from 'vitest/reporters';
import { type HazardRow, ROOT, hazardRows, namesHazard } from '../support/safety-doc.js';

/** One test as the judgement needs it. */
export interface RanTest {
  /** Repository-relative path of its file, forward slashes. */
  readonly file: string;
  /** Its describe chain and title, joined by " > ". */
  readonly fullName: string;
  readonly state: 'passed' | 'failed' | 'skipped' | 'pending';
}

/**
 * What is wrong with each hazard that was in the run: nothing for a hazard one of whose named
 * tests passed. `files`: the test files of the run (a file whose tests failed to load has none).
 */
export function hazardProblems(hazards: readonly HazardRow[], ran: readonly RanTest[], files: ReadonlySet<string> = new Set(ran.map((t) => t.file))): string[] {
  const problems: string[] = [];
  for (const h of hazards) {
    const inRun = h.verifiedBy.filter((f) => files.has(f));
    if (inRun.length === 0) continue;
    const named = ran.filter((t) => inRun.includes(t.file) && namesHazard(t.fullName, h.id));
    if (named.some((t) => t.state === 'passed')) continue;
    // Its naming tests may be in a listed file this (partial) run left out: judged when all ran.
    if (named.length === 0 && inRun.length < h.verifiedBy.length) continue;
    const what = named.length === 0 ? 'no test in it names the hazard' : named.map((t) => `"${t.fullName}" ${t.state}`).join('; ');
    problems.push(`${h.id}: no test naming it passed in ${inRun.join(', ')}: ${what}`);
  }
  return problems;
}

export default class HazardReporter implements Reporter {
  #filtered = false;
  readonly #hazards: () => readonly HazardRow[];

  /** `hazards`: the rows to judge (tests); default SAFETY.md's, read at the end of the run. */
  constructor(options: { readonly hazards?: () => readonly HazardRow[] } = {}) {
    this.#hazards = options.hazards ?? (() => hazardRows());
  }

  onInit(vitest: { readonly config: { readonly testNamePattern?: RegExp | undefined } }): void {
    this.#filtered = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(modules: readonly TestModule[], _errors: unknown, reason: string): void {
    if (this.#filtered || reason === 'interrupted') return;
    const ran: RanTest[] = [];
    const files = new Set<string>();
    for (const m of modules) {
      const file = path.relative(ROOT, m.moduleId).split(path.sep).join('/');
      files.add(file);
      for (const t of m.children.allTests()) ran.push({ file, fullName: t.fullName, state: t.result().state });
    }
    const problems = hazardProblems(this.#hazards(), ran, files);
    if (problems.length === 0) return;
    process.stderr.write(`\nSAFETY.md: ${problems.length} hazard(s) without a passing test in this run:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}
