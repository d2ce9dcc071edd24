/**
 * A vitest reporter that prints, after the run, the figures the reliability campaigns leave in
 * test-results/: the fault matrix and the fuzz counts (tests themselves may not print).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from 'vitest/reporters';

const DIR = 'test-results';

export default class SummaryReporter implements Reporter {
  onInit(): void {
    // Figures from an earlier run must not be mistaken for this run's.
    if (!existsSync(DIR)) return;
    this.#stale = new Set(readdirSync(DIR).filter((f) => f.endsWith('.md') || f.endsWith('.json')).map((f) => `${f}:${mtime(path.join(DIR, f))}`));
  }

  #stale = new Set<string>();

  onTestRunEnd(): void {
    if (!existsSync(DIR)) return;
    const files = readdirSync(DIR).filter((f) => /^(fault-matrix|fuzz-counts|sequence-counts)\.(md|json)$/.test(f));
    for (const f of files.sort()) {
      const full = path.join(DIR, f);
      if (this.#stale.has(`${f}:${mtime(full)}`)) continue;
      const text = readFileSync(full, 'utf8');
      process.stdout.write(`\n== ${f} ==\n${f.endsWith('.json') ? JSON.stringify(JSON.parse(text), null, 1) : text}\n`);
    }
  }
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}
