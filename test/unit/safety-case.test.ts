/**
 * SAFETY.md is part of the product: every limit in the code traces to a row, every row names
 * mitigations that exist and tests that exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ELECTRODE_IMPEDANCE, HARD_LIMITS, OUTPUT_MONITOR } from '../../src/domain/safety/limits.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(ROOT, 'SAFETY.md'), 'utf8');
const hazardRows = doc.split('\n').filter((l) => /^\| H\d+ \|/.test(l));

describe('SAFETY.md', () => {
  it('lists every hard limit and every timing constant', () => {
    const keys = [
      ...Object.values(HARD_LIMITS).map((l) => l.key),
      ...Object.values(ELECTRODE_IMPEDANCE).map((l) => l.key),
      ...Object.values(OUTPUT_MONITOR).map((l) => l.key),
      'JOURNAL_RETRY_MS',
      'WATCHDOG_MS',
      'DEVICE_REPLY_MS',
      'MAX_LINE_BYTES',
      'ACK_TIMEOUT_MS',
      'ACK_RETRIES',
      'TICK_MS',
      'RAMP_STEP_MS',
      'DEFAULT_LIMITS',
      'GRACE_MS',
      'UI_PING_MS',
      'UI_LIVENESS_MS',
    ];
    const missing = keys.filter((k) => !doc.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });

  it('has hazards, each with at least one test that exists', () => {
    expect(hazardRows.length).toBeGreaterThanOrEqual(15);
    for (const row of hazardRows) {
      const cells = row.split(' | ');
      const tests = [...(cells.at(-1) ?? '').matchAll(/`([^`]+\.test\.ts)`/g)].map((m) => m[1]!);
      expect(tests.length, row.slice(0, 40)).toBeGreaterThan(0);
      for (const t of tests) expect(existsSync(path.join(ROOT, t)), `${t} (named in ${row.slice(0, 8)})`).toBe(true);
    }
  });

  it('names mitigations that exist: every file, and every function in its file', () => {
    const problems: string[] = [];
    for (const row of hazardRows) {
      const mitigations = row.split(' | ')[4] ?? '';
      // `file: fn`, `fn2` ... ; and bare `dir` or `file` references
      for (const m of mitigations.matchAll(/`((?:src|electron|firmware-protocol)\/[^`:]+)(?:: ([^`]+))?`((?:, `[^`/]+`)*)/g)) {
        const file = m[1]!;
        if (!existsSync(path.join(ROOT, file))) {
          problems.push(`missing file ${file}`);
          continue;
        }
        const names = [m[2], ...[...(m[3] ?? '').matchAll(/`([^`]+)`/g)].map((x) => x[1])].filter((x): x is string => Boolean(x));
        if (names.length === 0) continue;
        const text = readFileSync(path.join(ROOT, file), 'utf8');
        for (const name of names) if (!text.includes(name)) problems.push(`${file} has no ${name}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
