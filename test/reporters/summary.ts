/**
 * A vitest reporter that prints, after the run, the figures the reliability campaigns leave
 * behind (tests themselves may not print): the fault matrix, written to a temp dir this reporter
 * creates and passes to the test workers as EDN_RESULTS_DIR (nothing in the working tree), and
 * the fuzz and sequence counts in test-results/.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Reporter } from 'vitest/reporters';

const DIR = 'test-results';
const FILES = /^(fault-matrix|fuzz-counts|sequence-counts)\.(md|json)$/;

export default class SummaryReporter implements Reporter {
  #stale = new Set<string>();
  #results: string | undefined;

  onInit(): void {
    // Set before the workers start, so they inherit it.
    this.#results = mkdtempSync(path.join(tmpdir(), 'edn-results-'));
    process.env['EDN_RESULTS_DIR'] = this.#results;
    // Figures from an earlier run must not be mistaken for this run's.
    if (!existsSync(DIR)) return;
    this.#stale = new Set(readdirSync(DIR).filter((f) => f.endsWith('.md') || f.endsWith('.json')).map((f) => `${f}:${mtime(path.join(DIR, f))}`));
  }

  onTestRunEnd(): void {
    const found: string[] = [];
    if (this.#results !== undefined) found.push(...readdirSync(this.#results).filter((f) => FILES.test(f)).map((f) => path.join(this.#results!, f)));
    if (existsSync(DIR)) found.push(...readdirSync(DIR).filter((f) => FILES.test(f) && !this.#stale.has(`${f}:${mtime(path.join(DIR, f))}`)).map((f) => path.join(DIR, f)));
    for (const full of found.sort((a, b) => path.basename(a).localeCompare(path.basename(b)))) {
      const f = path.basename(full);
      const text = readFileSync(full, 'utf8');
      process.stdout.write(`\n== ${f} ==\n${f.endsWith('.json') ? JSON.stringify(JSON.parse(text), null, 1) : text}\n`);
    }
    if (this.#results !== undefined) rmSync(this.#results, { recursive: true, force: true });
  }
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}
