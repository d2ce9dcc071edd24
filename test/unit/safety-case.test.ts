/**
 * SAFETY.md is part of the product: every limit in the code traces to a row and every number in
 * that row is the code's value (imported, not copied); every row names mitigations that exist as
 * declarations (resolved with the TypeScript compiler, so a name in a comment does not count) and
 * tests that exist.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DEVICE_REPLY_MS, MAX_LINE_BYTES, WATCHDOG_MS } from '../../firmware-protocol/index.js';
import { GRACE_MS, UI_LIVENESS_MS, UI_PING_MS } from '../../src/app/ui-timing.js';
import { ACK_GIVE_UP_MS, ACK_RETRIES, ACK_TIMEOUT_MS } from '../../src/device/timing.js';
import { ELECTRODE_IMPEDANCE, FORMAT_LIMITS, HARD_LIMITS, OUTPUT_MONITOR } from '../../src/domain/safety/limits.js';
import { JOURNAL_RETRY_MS, RAMP_STEP_MS, TICK_MS } from '../../src/session/runner.js';
import { MODEL } from '../../src/simulator/limits.js';
import { TITRATION_HOLD_DELAY_MS, TITRATION_REPEAT_MS, titrationRepeatMs } from '../../electron/renderer/session-model.js';
import { TITRATION_STEPS_MA } from '../../src/session/ramp.js';
import { hazardRows as readHazardRows, namesHazard } from '../support/safety-doc.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(ROOT, 'SAFETY.md'), 'utf8');
const hazardRows = readHazardRows(doc).map((h) => h.row);

/** The rows of the "Limits and timing constants" table, as cells (header and rule excluded). */
function limitRows(): { readonly limit: string; readonly value: string; readonly where: string }[] {
  const start = doc.indexOf('## Limits and timing constants');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| limit |') && !l.startsWith('|---'))
    .map((l) => {
      const [limit = '', value = '', where = ''] = l.slice(2, -2).split(' | ');
      return { limit, value, where };
    });
}

/** Every number written in a cell, in order, code spans left out (`rmsDensityWarnMaPerCm2` is a name). */
function numbersIn(cell: string): number[] {
  return [...cell.replace(/`[^`]*`/g, '').matchAll(/\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

const H = HARD_LIMITS;
const O = OUTPUT_MONITOR;
/** A fact about the world, not a number of ours (kept so that every number in the row is accounted for). */
const fact = (n: number, _why: string) => n;

/**
 * For each row (by its "limit" cell), every number its "value" cell must show, in order and in the
 * cell's units, computed from the code's constants. A row added to the table without an entry here,
 * or an entry whose row is gone, fails.
 */
const EXPECTED: Readonly<Record<string, readonly number[]>> = {
  '`frequencyMinHz`, `frequencyMaxHz`': [H.frequencyMinHz.value, H.frequencyMaxHz.value],
  '`pulseWidthMinUs`, `pulseWidthMaxUs`': [H.pulseWidthMinUs.value, H.pulseWidthMaxUs.value],
  '`amplitudeMinMa`, `amplitudeMaxMa`': [H.amplitudeMinMa.value, H.amplitudeMaxMa.value],
  '`shannonKBlock`, `shannonKWarn`': [H.shannonKBlock.value, H.shannonKWarn.value],
  '`rmsDensityWarnMaPerCm2`': [H.rmsDensityWarnMaPerCm2.value],
  // "300 mJ into 500 ohm": the load is kOhm in the code.
  '`energyPerPulseMaxMj`, `energyReferenceLoadKOhm`': [H.energyPerPulseMaxMj.value, H.energyReferenceLoadKOhm.value * 1000],
  '`complianceMaxV`': [H.complianceMaxV.value],
  '`sessionMaxMin`': [H.sessionMaxMin.value],
  '`amplitudeRiseMaxMaPerS`': [H.amplitudeRiseMaxMaPerS.value],
  // "200 ms (one command rises at most 0.2 mA)": the window and the rise it allows.
  '`amplitudeRiseWindowMs`': [H.amplitudeRiseWindowMs.value, (H.amplitudeRiseMaxMaPerS.value * H.amplitudeRiseWindowMs.value) / 1000],
  '`watchdogMaxMs`': [H.watchdogMaxMs.value],
  '`heartbeatIntervalMs`': [H.heartbeatIntervalMs.value],
  '`needleDiameterMinMm`, `needleDiameterMaxMm`, `needleInsertedLengthMinMm`, `needleInsertedLengthMaxMm`': [
    H.needleDiameterMinMm.value,
    H.needleDiameterMaxMm.value,
    H.needleInsertedLengthMinMm.value,
    H.needleInsertedLengthMaxMm.value,
  ],
  // "100 ohm - 10 kohm"
  '`electrodeImpedanceMinOhm`, `electrodeImpedanceMaxOhm`': [ELECTRODE_IMPEDANCE.minOhm.value, ELECTRODE_IMPEDANCE.maxOhm.value / 1000],
  '`measuredToleranceMa`, `measuredTolerancePercent`': [O.measuredToleranceMa.value, O.measuredTolerancePercent.value],
  // "350 ms (3 TEL periods + half a period)": the periods are the device's TEL period.
  '`telemetryMissingMs`': [O.telemetryMissingMs.value, (O.telemetryMissingMs.value - MODEL.telemetryPeriodMs / 2) / MODEL.telemetryPeriodMs],
  '`offGraceMs`': [O.offGraceMs.value],
  '`lowCurrentMinMa`, `lowCurrentPercent`, `lowCurrentMs`': [O.lowCurrentMinMa.value, O.lowCurrentPercent.value, O.lowCurrentMs.value],
  '`JOURNAL_RETRY_MS`': [JOURNAL_RETRY_MS],
  '`WATCHDOG_MS`': [WATCHDOG_MS],
  '`DEVICE_REPLY_MS`': [DEVICE_REPLY_MS],
  '`MAX_LINE_BYTES`': [MAX_LINE_BYTES],
  // "200 ms, 3 re-sends (800 ms in all, inside the watchdog window)"
  '`ACK_TIMEOUT_MS`, `ACK_RETRIES`': [ACK_TIMEOUT_MS, ACK_RETRIES, ACK_GIVE_UP_MS],
  '`TICK_MS`, `RAMP_STEP_MS`': [TICK_MS, RAMP_STEP_MS],
  // "600 ms, then every 400 ms; a held rise of 0.5 mA every 500 ms ... 1 mA/s"
  '`TITRATION_HOLD_DELAY_MS`, `TITRATION_REPEAT_MS`': [TITRATION_HOLD_DELAY_MS, TITRATION_REPEAT_MS, TITRATION_STEPS_MA[1], titrationRepeatMs(TITRATION_STEPS_MA[1]), H.amplitudeRiseMaxMaPerS.value],
  '`GRACE_MS`': [GRACE_MS],
  '`UI_PING_MS`': [UI_PING_MS, fact(1, "browsers clamp a hidden tab's timers to once a second")],
  '`UI_LIVENESS_MS`': [UI_LIVENESS_MS],
  // "256 KiB": bytes in the code.
  '`maxPhases`, `maxFileBytes`': [FORMAT_LIMITS.maxPhases, FORMAT_LIMITS.maxFileBytes / 1024],
  "the simulated device's compiled limits": [],
};

const round = (n: number) => Number(n.toFixed(9));

// ---------------------------------------------------------------------------------------------
// Mitigations: `file: name`, `name2`; `file` alone (a file or a directory).

/** One named mitigation: a file and, optionally, a declaration in it. */
interface MitigationRef {
  readonly hazard: string;
  readonly file: string;
  readonly name?: string;
}

/** Every `file[: name]`, `name2`, ... reference in the mitigations column of the hazard rows. */
function mitigationRefs(rows: readonly string[]): MitigationRef[] {
  const refs: MitigationRef[] = [];
  for (const row of rows) {
    const cells = row.split(' | ');
    const hazard = (cells[0] ?? '').replace('| ', '');
    const mitigations = cells[3] ?? '';
    for (const m of mitigations.matchAll(/`((?:src|electron|firmware-protocol)(?:\/[^`:\s]+)?)(?:: ([^`]+))?`((?:, `[^`/\s]+`)*)/g)) {
      const file = m[1]!;
      const names = [m[2], ...[...(m[3] ?? '').matchAll(/`([^`]+)`/g)].map((x) => x[1])].filter((x): x is string => Boolean(x));
      if (names.length === 0) refs.push({ hazard, file });
      for (const name of names) refs.push({ hazard, file, name });
    }
  }
  return refs;
}

/** The names a TypeScript file declares: exported declarations, and the members of its classes (by `member` and `Class.member`). */
function declaredNames(fileName: string, text: string): Set<string> {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const names = new Set<string>();
  const exported = (n: ts.Node) => ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const memberName = (n: ts.PropertyName | undefined) =>
    n && (ts.isIdentifier(n) || ts.isPrivateIdentifier(n) || ts.isStringLiteral(n)) ? n.text : undefined;
  for (const st of sf.statements) {
    if (ts.isClassDeclaration(st) && st.name) {
      if (exported(st)) names.add(st.name.text);
      for (const member of st.members) {
        const name = memberName(member.name);
        if (name === undefined) continue;
        names.add(name);
        names.add(`${st.name.text}.${name}`);
      }
    } else if ((ts.isFunctionDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEnumDeclaration(st)) && st.name && exported(st)) {
      names.add(st.name.text);
    } else if (ts.isVariableStatement(st) && exported(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    } else if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const e of st.exportClause.elements) names.add(e.name.text);
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Test names: the it/describe/test titles of a test file, read with the TypeScript compiler.

const TEST_FUNCTIONS = new Set(['it', 'test', 'describe', 'suite']);
/** Modifiers that mean the test does not run. */
const NOT_RUN = new Set(['skip', 'todo', 'skipIf', 'fails']);

/**
 * The titles of every it/test/describe call in a file (`it('..')`, `it.each(..)('..')`,
 * `describe.concurrent('..')`), as written: a string literal, or a template's literal parts
 * (`${x}` left out). Skipped and todo tests are left out: a hazard needs a test that runs.
 */
function testTitles(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const titles: string[] = [];
  /** The chain of names of a callee: it.each(..) -> ['it', 'each']; undefined if not a test function. */
  const chain = (e: ts.Expression): string[] | undefined => {
    if (ts.isIdentifier(e)) return TEST_FUNCTIONS.has(e.text) ? [e.text] : undefined;
    if (ts.isPropertyAccessExpression(e)) {
      const head = chain(e.expression);
      return head && [...head, e.name.text];
    }
    if (ts.isCallExpression(e)) return chain(e.expression); // it.each([...]) then called with the title
    return undefined;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const names = chain(node.expression);
      const title = node.arguments[0];
      if (names && !names.some((n) => NOT_RUN.has(n)) && title) {
        if (ts.isStringLiteral(title) || ts.isNoSubstitutionTemplateLiteral(title)) titles.push(title.text);
        else if (ts.isTemplateExpression(title)) titles.push([title.head.text, ...title.templateSpans.map((s) => s.literal.text)].join(' '));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return titles;
}


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
      'TITRATION_HOLD_DELAY_MS',
      'TITRATION_REPEAT_MS',
      'DEFAULT_LIMITS',
      'GRACE_MS',
      'UI_PING_MS',
      'UI_LIVENESS_MS',
    ];
    const listed = limitRows().map((r) => `${r.limit} ${r.where}`).join('\n');
    const missing = keys.filter((k) => !listed.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });

  it("shows the code's value for every number in the limits table", () => {
    const rows = limitRows();
    expect(rows.length).toBeGreaterThanOrEqual(25);
    const wrong: string[] = [];
    for (const row of rows) {
      const expected = EXPECTED[row.limit];
      if (!expected) {
        wrong.push(`${row.limit}: no expected values in safety-case.test.ts for this row`);
        continue;
      }
      const shown = numbersIn(row.value).map(round);
      const code = expected.map(round);
      if (JSON.stringify(shown) !== JSON.stringify(code)) wrong.push(`${row.limit}: SAFETY.md says ${JSON.stringify(shown)} ("${row.value}"), the code ${JSON.stringify(code)}`);
    }
    const gone = Object.keys(EXPECTED).filter((k) => !rows.some((r) => r.limit === k));
    for (const k of gone) wrong.push(`${k}: expected in the test but no longer a row of the table`);
    expect(wrong).toEqual([]);
  });

  it('notices a number that differs from the code (the comparison can fail)', () => {
    // The table's own amplitude row, checked against a ceiling of 25 mA instead of the code's.
    const row = limitRows().find((r) => r.limit === '`amplitudeMinMa`, `amplitudeMaxMa`');
    expect(row).toBeDefined();
    expect(numbersIn(row!.value)).toEqual([H.amplitudeMinMa.value, H.amplitudeMaxMa.value]);
    expect(numbersIn(row!.value)).not.toEqual([H.amplitudeMinMa.value, 25]);
    expect(numbersIn('100 ohm - 10 kohm, `rmsDensityWarnMaPerCm2` 0.2')).toEqual([100, 10, 0.2]);
  });

  it('has hazards, each with at least one test that exists', () => {
    expect(hazardRows.length).toBeGreaterThanOrEqual(29);
    for (const row of hazardRows) {
      const cells = row.split(' | ');
      const tests = [...(cells.at(-1) ?? '').matchAll(/`([^`]+\.test\.ts)`/g)].map((m) => m[1]!);
      expect(tests.length, row.slice(0, 40)).toBeGreaterThan(0);
      for (const t of tests) expect(existsSync(path.join(ROOT, t)), `${t} (named in ${row.slice(0, 8)})`).toBe(true);
    }
  });

  it('names mitigations that exist: every file, and every name declared in its file (not merely mentioned)', () => {
    const refs = mitigationRefs(hazardRows);
    expect(refs.filter((r) => r.name).length).toBeGreaterThan(60);
    const problems: string[] = [];
    const cache = new Map<string, Set<string>>();
    for (const ref of refs) {
      const abs = path.join(ROOT, ref.file);
      if (!existsSync(abs)) {
        problems.push(`${ref.hazard}: missing ${ref.file}`);
        continue;
      }
      if (ref.name === undefined) continue;
      if (!ref.file.endsWith('.ts') || statSync(abs).isDirectory()) {
        problems.push(`${ref.hazard}: ${ref.file}: ${ref.name}: names can be resolved only in .ts files`);
        continue;
      }
      let names = cache.get(abs);
      if (!names) cache.set(abs, (names = declaredNames(abs, readFileSync(abs, 'utf8'))));
      if (!names.has(ref.name)) problems.push(`${ref.hazard}: ${ref.file} declares no ${ref.name} (an export or a class member)`);
    }
    expect(problems).toEqual([]);
  });

  it('resolves names as declarations, not text: a comment or a local does not count', () => {
    const text = [
      '// export function inComment() {}',
      '/** estop is described here */',
      'function localOnly() { return 1; }',
      'export function exported() { return localOnly(); }',
      'export const A = 1, B = 2;',
      'class Hidden { #tick() {} get clients() { return 0; } }',
      'export class Client { estop(): void {} #onMessage(): void {} }',
      'const c = 1; export { c as renamed };',
      'export interface Shape { x: number }',
    ].join('\n');
    const names = declaredNames('x.ts', text);
    for (const n of ['exported', 'A', 'B', 'Client', 'estop', '#onMessage', 'Client.estop', 'Client.#onMessage', '#tick', 'Hidden.clients', 'renamed', 'Shape']) {
      expect(names.has(n), n).toBe(true);
    }
    for (const n of ['inComment', 'localOnly', 'Hidden', 'c', 'x', 'Client.#tick']) expect(names.has(n), n).toBe(false);
  });

  it('reads file-only, directory and multi-name mitigation references', () => {
    const refs = mitigationRefs(['| H9 | h | c | a (`src/x.ts: f`, `#g`; `firmware-protocol/c`; `electron/main`) and `plain` | `t.test.ts` |']);
    expect(refs).toEqual([
      { hazard: 'H9', file: 'src/x.ts', name: 'f' },
      { hazard: 'H9', file: 'src/x.ts', name: '#g' },
      { hazard: 'H9', file: 'firmware-protocol/c' },
      { hazard: 'H9', file: 'electron/main' },
    ]);
  });
  it('every hazard is named (its id in the title) by a test that runs in a file its "verified by" column lists', () => {
    const unnamed: string[] = [];
    const cache = new Map<string, string[]>();
    for (const row of hazardRows) {
      const id = /^\| (H\d+) \|/.exec(row)![1]!;
      const files = [...(row.split(' | ').at(-1) ?? '').matchAll(/`([^`]+\.test\.ts)`/g)].map((m) => m[1]!);
      const named = files.some((file) => {
        const abs = path.join(ROOT, file);
        if (!existsSync(abs)) return false;
        let titles = cache.get(abs);
        if (!titles) cache.set(abs, (titles = testTitles(abs, readFileSync(abs, 'utf8'))));
        return titles.some((title) => namesHazard(title, id));
      });
      if (!named) unnamed.push(`${id}: no test title in ${files.join(', ')} names it`);
    }
    expect(unnamed).toEqual([]);
  });

  it('reads test titles from calls, not from comments, and not from skipped tests', () => {
    const text = [
      "// it('H40 in a comment')",
      "const s = 'H41 in a string';",
      "describe('H42 a suite', () => {",
      "  it('H43 a test', () => {});",
      "  it.each([1, 2])('H44 case %i', () => {});",
      '  test(`H45 at ${s} mA`, () => {});',
      "  it.skip('H46 skipped', () => {});",
      "  it.todo('H47 to do');",
      "  describe.concurrent('H48 concurrent', () => {});",
      '});',
    ].join('\n');
    const titles = testTitles('x.test.ts', text);
    const named = (id: string) => titles.some((t) => namesHazard(t, id));
    expect(['H42', 'H43', 'H44', 'H45', 'H48'].filter(named)).toEqual(['H42', 'H43', 'H44', 'H45', 'H48']);
    expect(['H40', 'H41', 'H46', 'H47'].filter(named)).toEqual([]);
    expect(namesHazard('H10 journal', 'H1')).toBe(false);
    expect(namesHazard('H9 H25 %s is rejected', 'H25')).toBe(true);
  });
});
