/**
 * The run-time half of the safety case (test/reporters/hazards.ts): after a run, each hazard with
 * a "verified by" file in the run needs a test naming it that PASSED.
 */
import path from 'node:path';
import type { TestModule } from 'vitest/node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import HazardReporter, { type RanTest, hazardProblems } from '../reporters/hazards.js';
import { ROOT, hazardRows } from '../support/safety-doc.js';

const DOC = [
  '| id | hazard | cause | mitigation | verified by |',
  '| H7 | too much current | a typo | `src/x.ts: f` | `test/a.test.ts`, `test/b.test.ts` |',
  '| H70 | a different one | - | `src/y.ts` | `test/c.test.ts` |',
  '| H8 | firmware | - | `firmware-protocol/c` | `test/firmware/f.slow.ts` |',
].join('\n');
const hazards = hazardRows(DOC);
const t = (file: string, fullName: string, state: RanTest['state']): RanTest => ({ file, fullName, state });

describe('hazardProblems', () => {
  it('reads the ids and their verified-by files, .slow.ts suites included', () => {
    expect(hazards.map((h) => [h.id, h.verifiedBy])).toEqual([
      ['H7', ['test/a.test.ts', 'test/b.test.ts']],
      ['H70', ['test/c.test.ts']],
      ['H8', ['test/firmware/f.slow.ts']],
    ]);
  });

  it('passes a hazard one of whose named tests passed in a listed file', () => {
    expect(hazardProblems(hazards, [t('test/a.test.ts', 'guard > H7 refuses 25 mA', 'failed'), t('test/b.test.ts', 'H7 the ramp', 'passed')])).toEqual([]);
  });

  it('fails a hazard whose named tests were skipped or failed, saying what happened to each', () => {
    expect(hazardProblems(hazards, [t('test/a.test.ts', 'H7 needs qemu', 'skipped'), t('test/b.test.ts', 'suite > H7 the ramp', 'failed')])).toEqual([
      'H7: no test naming it passed in test/a.test.ts, test/b.test.ts: "H7 needs qemu" skipped; "suite > H7 the ramp" failed',
    ]);
  });

  it('does not count a passing test in a file the hazard does not list, nor H70 for H7', () => {
    const ran = [t('test/a.test.ts', 'unrelated', 'passed'), t('test/b.test.ts', 'also unrelated', 'passed'), t('test/c.test.ts', 'H7 elsewhere', 'passed'), t('test/c.test.ts', 'H70 here', 'passed')];
    expect(hazardProblems(hazards, ran)).toEqual(['H7: no test naming it passed in test/a.test.ts, test/b.test.ts: no test in it names the hazard']);
  });

  it('waits for a run with every listed file when the files of this run do not name the hazard', () => {
    expect(hazardProblems(hazards, [t('test/a.test.ts', 'unrelated', 'passed')])).toEqual([]);
    // ...but a naming test of this run must pass even when the other listed file is left out.
    expect(hazardProblems(hazards, [t('test/a.test.ts', 'H7 x', 'failed')])).toEqual(['H7: no test naming it passed in test/a.test.ts: "H7 x" failed']);
  });

  it('judges only hazards with a listed file in the run', () => {
    expect(hazardProblems(hazards, [t('test/other.test.ts', 'H7 H8 H70', 'failed')])).toEqual([]);
    expect(hazardProblems(hazards, [t('test/firmware/f.slow.ts', 'H8 on QEMU', 'skipped')])).toEqual(['H8: no test naming it passed in test/firmware/f.slow.ts: "H8 on QEMU" skipped']);
  });
});

describe('HazardReporter', () => {
  const exitCode = process.exitCode;
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  afterEach(() => {
    process.exitCode = exitCode;
    write.mockClear();
  });
  // A fake of what vitest hands a reporter: a module with its tests.
  const h17 = { id: 'H17', row: '', verifiedBy: ['test/unit/session/runner.test.ts'] };
  const only17 = { hazards: () => [h17] };
  const moduleOf = (file: string, tests: { fullName: string; state: RanTest['state'] }[]) =>
    ({ moduleId: path.join(ROOT, file), children: { allTests: () => tests.map((x) => ({ fullName: x.fullName, result: () => ({ state: x.state }) })) } }) as unknown as TestModule;

  it('sets exit code 1 and names the hazard when its test was skipped; leaves it alone when it passed', () => {
    const file = h17.verifiedBy[0]!;
    const r = new HazardReporter(only17);
    r.onInit({ config: {} });
    r.onTestRunEnd([moduleOf(file, [{ fullName: 'H17 the alarm stays', state: 'skipped' }])], [], 'passed');
    expect(process.exitCode).toBe(1);
    expect(write.mock.calls.map((c) => String(c[0]))).toEqual([
      '\nSAFETY.md: 1 hazard(s) without a passing test in this run:\n  H17: no test naming it passed in test/unit/session/runner.test.ts: "H17 the alarm stays" skipped\n',
    ]);

    process.exitCode = exitCode;
    const ok = new HazardReporter(only17);
    ok.onInit({ config: {} });
    ok.onTestRunEnd([moduleOf(file, [{ fullName: 'H17 the alarm stays', state: 'passed' }])], [], 'passed');
    expect(write.mock.calls.slice(1)).toEqual([]);
    expect(process.exitCode).toBe(exitCode);
  });

  it('reads the real SAFETY.md by default: a run of every verified-by file with nothing passing names every hazard', () => {
    const rows = hazardRows();
    const files = [...new Set(rows.flatMap((h) => h.verifiedBy))];
    const r = new HazardReporter();
    r.onInit({ config: {} });
    r.onTestRunEnd(files.map((f) => moduleOf(f, rows.map((h) => ({ fullName: `${h.id} skipped here`, state: 'skipped' as const })))), [], 'passed');
    expect(process.exitCode).toBe(1);
    const said = String(write.mock.calls[0]?.[0]);
    expect(rows.length).toBeGreaterThanOrEqual(31);
    for (const h of rows) expect(said).toContain(`  ${h.id}: no test naming it passed`);
  });

  it('judges nothing in a run filtered by test name', () => {
    const r = new HazardReporter(only17);
    r.onInit({ config: { testNamePattern: /something/ } });
    r.onTestRunEnd([moduleOf(h17.verifiedBy[0]!, [{ fullName: 'H17 x', state: 'skipped' }])], [], 'passed');
    expect(process.exitCode).toBe(exitCode);
  });
});
