/**
 * SAFETY.md's hazard table as data, for the two checks that read it: the static safety case
 * (test/unit/safety-case.test.ts: the named tests exist and carry the id in their titles) and the
 * run-time one (test/reporters/hazards.ts: after a run, every hazard has a test that ran and
 * PASSED, named by its id, in a file its "verified by" column lists).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface HazardRow {
  /** H1, H2, ... */
  readonly id: string;
  /** The row as written. */
  readonly row: string;
  /** The test files (repository-relative, forward slashes) of its "verified by" column. */
  readonly verifiedBy: readonly string[];
}

/** The hazard rows of a SAFETY.md text (default: the repository's). */
export function hazardRows(text: string = readFileSync(path.join(ROOT, 'SAFETY.md'), 'utf8')): HazardRow[] {
  return text
    .split('\n')
    .filter((l) => /^\| H\d+ \|/.test(l))
    .map((row) => ({
      id: /^\| (H\d+) \|/.exec(row)![1]!,
      row,
      verifiedBy: [...(row.split(' | ').at(-1) ?? '').matchAll(/`([^`]+\.(?:test|slow)\.ts)`/g)].map((m) => m[1]!),
    }));
}

/** The id written as a word in a title: H1 is not H10. */
export const namesHazard = (title: string, id: string): boolean => new RegExp(`(^|[^A-Za-z0-9])${id}(?![0-9])`).test(title);
