// The words "X is above Y" on a warning must be true of the numbers shown, in the guard's message,
// in the Warning's recorded value and in the alarm on the screen. The guard warns at
// threshold + 1e-9 (limits.ts TOLERANCE), so a dose a hair above its threshold once read
// "RMS current density 2 mA/cm² is above 2 mA/cm²" (the alarm stopped at 6 decimals, the guard's
// message at 2) and "Shannon k 1.50 is above 1.5" (the value was rounded to 2 decimals).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkStimulation } from '../../../src/domain/safety/guard.js';
import type { Warning } from '../../../src/domain/safety/violation.js';
import { comparedNumbers } from '../../../src/domain/units.js';
import { warningAlarm } from '../../../src/session/alarms.js';
import { DEVICE, PARAMS } from '../domain/guard-fixtures.js';

/** Every "<a>[ unit][ at ...] is above <b>" in a sentence, as the pair of numbers shown. */
function comparisons(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const re = /(-?\d+(?:\.\d+)?)(?: mA\/cm²)?(?: at [\d.]+ mA)? is above (-?\d+(?:\.\d+)?)/g;
  for (const m of text.matchAll(re)) out.push([Number(m[1]), Number(m[2])]);
  return out;
}

function warningsFor(amplitudeMa: number, pulseWidthUs: number, frequencyHz: number, diameterMm: number, insertedLengthMm: number): readonly Warning[] {
  const r = checkStimulation(
    { ...PARAMS, amplitudeMa, pulseWidthUs, pattern: { kind: 'continuous', frequencyHz } },
    { device: { ...DEVICE, frequencyHz: { min: 1, max: 150 } }, protocol: undefined, electrode: { kind: 'needle', diameterMm, insertedLengthMm } },
  );
  return r.ok ? r.checked.warnings : [];
}

function expectTrueWords(w: Warning): void {
  const said = comparisons(w.message);
  expect(said, w.message).toHaveLength(1);
  for (const [a, b] of said) expect(a, w.message).toBeGreaterThan(b);
  expect(w.value, 'the recorded value is above the threshold').toBeGreaterThan(w.threshold);
  const alarm = warningAlarm(w, new Map([[1, w.value]])).cause;
  const shown = comparisons(alarm);
  expect(shown, alarm).toHaveLength(1);
  for (const [a, b] of shown) expect(a, alarm).toBeGreaterThan(b);
}

describe('warning words are true of the numbers shown', () => {
  it('RMS density 2.00000017 mA/cm² (3.55 mA, 200 µs, 100 Hz, 0.25 x 45.2 mm) is said as above 2 with the digits that make it so', () => {
    const ws = warningsFor(3.55, 200, 100, 0.25, 45.2);
    expect(ws.map((w) => w.limit)).toEqual(['rmsDensityWarnMaPerCm2']);
    const w = ws[0]!;
    expect(w.value).toBeGreaterThan(2);
    expect(w.value).toBeLessThan(2.000001);
    expect(w.message).toContain('RMS current density 2.0000002 mA/cm² at 3.55 mA is above 2 mA/cm²');
    expect(warningAlarm(w, new Map([[1, w.value]])).cause).toContain('RMS current density 2.0000002 mA/cm² is above 2 mA/cm² on channel 1');
    expectTrueWords(w);
  });

  it('Shannon k 1.50000064 (7.2 mA, 400 µs, 0.23 x 36.3 mm) is recorded and said as 1.500001, not 1.5 or 1.50', () => {
    const ws = warningsFor(7.2, 400, 2, 0.23, 36.3);
    expect(ws.map((w) => w.limit)).toEqual(['shannonKWarn']);
    const w = ws[0]!;
    expect(w.value).toBe(1.500001);
    expect(w.message).toContain('Shannon k 1.500001 at 7.2 mA is above 1.5:');
    expect(warningAlarm(w, new Map([[1, w.value]])).cause).toContain('Shannon k 1.500001 is above 1.5 on channel 1');
    expectTrueWords(w);
  });

  it('a warning well above its threshold keeps two decimals (k 1.52, density 2.04)', () => {
    const k = warningsFor(10, 250, 2, 0.3, 20).find((w) => w.limit === 'shannonKWarn');
    expect(k?.value).toBe(1.52);
    expect(k?.message).toContain('Shannon k 1.52 at 10 mA is above 1.5:');
    const rms = warningsFor(3.44, 250, 100, 0.3, 40).find((w) => w.limit === 'rmsDensityWarnMaPerCm2');
    expect(rms?.message).toMatch(/RMS current density 2\.04 mA\/cm² at 3\.44 mA is above 2 mA\/cm²/);
  });

  it('property: every warning the guard gives on the clinical grid (0.05 mA steps, real needles) says a true comparison', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 400 }),
        fc.constantFrom(100, 150, 200, 250, 300, 400, 500),
        fc.constantFrom(2, 10, 50, 80, 100, 120),
        fc.integer({ min: 16, max: 35 }),
        fc.integer({ min: 50, max: 600 }),
        (a, pw, hz, d, l) => {
          for (const w of warningsFor(a / 20, pw, hz, d / 100, l / 10)) expectTrueWords(w);
        },
      ),
      { numRuns: 3000, seed: 20261207 },
    );
  });

  it('property: comparedNumbers shows a true comparison for any finite pair that compares so', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), (x, y) => {
        if (x === y) return;
        const [hi, lo] = x > y ? [x, y] : [y, x];
        const above = comparedNumbers(hi, lo, 'above');
        expect(Number(above.value)).toBeGreaterThan(Number(above.threshold));
        const below = comparedNumbers(lo, hi, 'below');
        expect(Number(below.value)).toBeLessThan(Number(below.threshold));
      }),
      { numRuns: 2000, seed: 7 },
    );
    // a hair above: as many decimals as it takes, no more
    expect(comparedNumbers(2 + 1.7e-7, 2, 'above')).toEqual({ value: '2.0000002', threshold: '2' });
    expect(comparedNumbers(1.5 + 2e-9, 1.5, 'above')).toEqual({ value: '1.500000002', threshold: '1.5' });
    // a false comparison is not dressed up by rounding: both in full
    expect(comparedNumbers(2, 2.0000001, 'above')).toEqual({ value: '2', threshold: '2.0000001' });
  });
});
