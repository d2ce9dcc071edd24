import { describe, expect, it } from 'vitest';
import {
  averagePowerMw,
  chargeDensityUcPerCm2,
  chargePerPhaseUc,
  computeDose,
  energyPerPulseMj,
  needleAreaCm2,
  peakVoltageV,
  pulsesPerSecond,
  rmsCurrentDensityMaPerCm2,
  rmsCurrentMa,
  shannonK,
} from '../../../src/domain/physics.js';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import { cm2, hz, kOhm, ma, mj, mm, uc, us } from '../../../src/domain/units.js';

describe('charge per phase', () => {
  it('is mA x µs / 1000 in µC', () => {
    expect(chargePerPhaseUc(ma(10), us(250))).toBe(2.5);
    expect(chargePerPhaseUc(ma(20), us(600))).toBe(12);
    expect(chargePerPhaseUc(ma(0.1), us(50))).toBeCloseTo(0.005, 12);
    expect(chargePerPhaseUc(ma(0), us(250))).toBe(0);
  });
});

describe('needle conductive area', () => {
  it('is pi x d x L converted from mm² to cm²', () => {
    // 0.30 mm x 20 mm: pi * 0.3 * 20 = 18.85 mm² = 0.1885 cm²
    expect(needleAreaCm2(mm(0.3), mm(20))).toBeCloseTo(0.188496, 6);
    expect(needleAreaCm2(mm(1), mm(100 / Math.PI))).toBeCloseTo(1, 12);
  });
});

describe('charge density', () => {
  it('is charge over area', () => {
    expect(chargeDensityUcPerCm2(uc(2.5), cm2(0.5))).toBe(5);
  });
});

/** The worked table of docs/CLINICAL.md#charge-density-shannon (250 µs phases). */
const WORKED: readonly { d: number; l: number; area: number; k: readonly [number, number, number]; verdict: readonly string[] }[] = [
  { d: 0.25, l: 10, area: 0.079, k: [1.3, 1.9, 2.5], verdict: ['ok', 'blocked', 'blocked'] },
  { d: 0.3, l: 20, area: 0.188, k: [0.92, 1.52, 2.12], verdict: ['ok', 'warn', 'blocked'] },
  { d: 0.3, l: 40, area: 0.377, k: [0.62, 1.22, 1.82], verdict: ['ok', 'ok', 'warn'] },
];
const AMPLITUDES = [5, 10, 20] as const;

function verdict(k: number): string {
  if (k >= HARD_LIMITS.shannonKBlock.value) return 'blocked';
  if (k > HARD_LIMITS.shannonKWarn.value) return 'warn';
  return 'ok';
}

describe('Shannon k: the worked table of docs/CLINICAL.md', () => {
  for (const row of WORKED) {
    const area = needleAreaCm2(mm(row.d), mm(row.l));
    it(`${row.d} x ${row.l} mm has A = ${row.area} cm²`, () => {
      expect(area.toFixed(3)).toBe(row.area.toFixed(3));
    });
    AMPLITUDES.forEach((amp, i) => {
      it(`${row.d} x ${row.l} mm at ${amp} mA gives k ${row.k[i]} (${row.verdict[i]})`, () => {
        const k = shannonK(chargePerPhaseUc(ma(amp), us(250)), area);
        expect(k.toFixed(2)).toBe(row.k[i]!.toFixed(2));
        expect(verdict(k)).toBe(row.verdict[i]);
      });
    });
  }

  it('0.30 x 20 mm reaches k 1.85 at 14.6 mA', () => {
    const area = needleAreaCm2(mm(0.3), mm(20));
    expect(shannonK(chargePerPhaseUc(ma(14.6), us(250)), area).toFixed(2)).toBe('1.85');
    expect(shannonK(chargePerPhaseUc(ma(14.4), us(250)), area)).toBeLessThan(1.85);
  });

  it('is log10(Q) + log10(Q/A), and -Infinity for zero charge', () => {
    expect(shannonK(uc(10), cm2(1))).toBeCloseTo(2, 12);
    expect(shannonK(uc(1), cm2(0.1))).toBeCloseTo(1, 12);
    expect(shannonK(uc(0), cm2(1))).toBe(-Infinity);
  });
});

describe('pulses per second', () => {
  it('continuous: the frequency', () => {
    expect(pulsesPerSecond({ kind: 'continuous', frequencyHz: 2 })).toBe(2);
  });
  it('dense-disperse: the worst case, the higher frequency', () => {
    expect(pulsesPerSecond({ kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 3 })).toBe(100);
  });
  it('burst: bursts per second x pulses per burst', () => {
    expect(pulsesPerSecond({ kind: 'burst', burstRateHz: 2, intraBurstHz: 100, pulsesPerBurst: 7 })).toBe(14);
  });
});

describe('RMS current and density', () => {
  it('is I x sqrt(2 x pw x f)', () => {
    // 10 mA, 250 µs, 2 Hz: duty 2 * 250e-6 * 2 = 0.001; sqrt = 0.031623
    expect(rmsCurrentMa(ma(10), us(250), hz(2))).toBeCloseTo(0.316228, 6);
    // 20 mA, 600 µs, 100 Hz: duty 0.12; sqrt = 0.34641
    expect(rmsCurrentMa(ma(20), us(600), hz(100))).toBeCloseTo(6.928203, 6);
  });
  it('density is RMS current over area', () => {
    expect(rmsCurrentDensityMaPerCm2(ma(1), cm2(0.5))).toBe(2);
  });
});

describe('energy, power and voltage into a load', () => {
  it('energy per pulse is I² R over both phases', () => {
    // (0.020 A)² x 500 Ω x 2 x 600e-6 s = 0.24e-3 J = 0.24 mJ
    expect(energyPerPulseMj(ma(20), us(600), kOhm(0.5))).toBeCloseTo(0.24, 12);
    // (0.010 A)² x 1000 Ω x 2 x 250e-6 s = 0.05 mJ
    expect(energyPerPulseMj(ma(10), us(250), kOhm(1))).toBeCloseTo(0.05, 12);
  });
  it('average power is energy per pulse x pulses per second, equal to I_rms² R', () => {
    const e = energyPerPulseMj(ma(20), us(600), kOhm(0.5));
    expect(averagePowerMw(e, hz(100))).toBeCloseTo(24, 9);
    const irmsA = rmsCurrentMa(ma(20), us(600), hz(100)) / 1000;
    expect(irmsA * irmsA * 500 * 1000).toBeCloseTo(24, 9);
    expect(averagePowerMw(mj(1), hz(2))).toBe(2);
  });
  it('peak voltage is I x R', () => {
    expect(peakVoltageV(ma(20), kOhm(0.5))).toBe(10);
  });
});

describe('computeDose', () => {
  it('puts every figure together consistently', () => {
    const dose = computeDose({
      amplitudeMa: 10,
      pulseWidthUs: 250,
      pattern: { kind: 'continuous', frequencyHz: 2 },
      electrode: { diameterMm: 0.3, insertedLengthMm: 20 },
      loadKOhm: 0.5,
    });
    expect(dose.chargePerPhaseUc).toBe(2.5);
    expect(dose.areaCm2).toBeCloseTo(0.188496, 6);
    expect(dose.chargeDensityUcPerCm2).toBeCloseTo(13.2629, 4);
    expect(dose.shannonK.toFixed(2)).toBe('1.52');
    expect(dose.pulsesPerSecond).toBe(2);
    expect(dose.rmsCurrentMa).toBeCloseTo(0.316228, 6);
    expect(dose.rmsDensityMaPerCm2).toBeCloseTo(1.677640, 5);
    expect(dose.energyPerPulseMj).toBeCloseTo(0.025, 12);
    expect(dose.averagePowerMw).toBeCloseTo(0.05, 12);
    expect(dose.peakVoltageV).toBe(5);
  });
});
