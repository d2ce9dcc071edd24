import { describe, expect, it } from 'vitest';
import { checkStimulation } from '../../../src/domain/safety/guard.js';
import { ELECTRODE_IMPEDANCE, FORMAT_LIMITS, HARD_LIMITS, HARD_LIMIT_LIST, deepFreeze } from '../../../src/domain/safety/limits.js';
import type { DeviceLimits, StimulationParams } from '../../../src/domain/stimulation.js';
import { validateProtocol } from '../../../src/domain/protocols/validate.js';
import { BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';

/** The values the brief and docs/CLINICAL.md#limits ask for. */
const EXPECTED: Record<string, [number, string]> = {
  frequencyMinHz: [1, 'Hz'],
  frequencyMaxHz: [150, 'Hz'],
  pulseWidthMinUs: [50, 'us'],
  pulseWidthMaxUs: [600, 'us'],
  amplitudeMinMa: [0, 'mA'],
  amplitudeMaxMa: [20, 'mA'],
  shannonKBlock: [1.85, 'k'],
  shannonKWarn: [1.5, 'k'],
  rmsDensityWarnMaPerCm2: [2, 'mA/cm2'],
  energyPerPulseMaxMj: [300, 'mJ'],
  energyReferenceLoadKOhm: [0.5, 'kOhm'],
  complianceMaxV: [500, 'V'],
  sessionMaxMin: [60, 'min'],
  amplitudeRiseMaxMaPerS: [1, 'mA/s'],
  watchdogMaxMs: [1000, 'ms'],
  heartbeatIntervalMs: [250, 'ms'],
};

/** Sections of docs/CLINICAL.md#limits (test/unit/docs/clinical-reference.test.ts checks each states its values). */
const CLINICAL_KEYS = [
  'docs/CLINICAL.md#frequency',
  'docs/CLINICAL.md#pulse-width-per-phase',
  'docs/CLINICAL.md#amplitude',
  'docs/CLINICAL.md#charge-density-shannon',
  'docs/CLINICAL.md#needle-dimensions',
  'docs/CLINICAL.md#rms-current-density',
  'docs/CLINICAL.md#energy-per-pulse',
  'docs/CLINICAL.md#peak-voltage',
  'docs/CLINICAL.md#session-length',
  'docs/CLINICAL.md#amplitude-rise',
  'docs/CLINICAL.md#loss-of-host',
];

describe('the hard limits table', () => {
  it('holds the values of docs/CLINICAL.md with their units', () => {
    for (const [key, [value, unit]] of Object.entries(EXPECTED)) {
      const entry = HARD_LIMITS[key as keyof typeof HARD_LIMITS];
      expect(entry, key).toBeDefined();
      expect([entry.value, entry.unit], key).toEqual([value, unit]);
    }
  });

  it('gives every entry its own key, a finite value, a docs/CLINICAL.md source and a reasoning', () => {
    for (const [name, entry] of Object.entries(HARD_LIMITS)) {
      expect(entry.key).toBe(name);
      expect(Number.isFinite(entry.value)).toBe(true);
      expect(CLINICAL_KEYS).toContain(entry.source);
      expect(entry.reasoning.length).toBeGreaterThan(20);
    }
    expect(HARD_LIMIT_LIST.map((l) => l.key)).toEqual(Object.keys(HARD_LIMITS));
  });

  it('sends 4 heartbeats per watchdog window', () => {
    expect(HARD_LIMITS.watchdogMaxMs.value / HARD_LIMITS.heartbeatIntervalMs.value).toBe(4);
  });

  it('warns below where it blocks', () => {
    expect(HARD_LIMITS.shannonKWarn.value).toBeLessThan(HARD_LIMITS.shannonKBlock.value);
    expect(ELECTRODE_IMPEDANCE.minOhm.value).toBeLessThan(ELECTRODE_IMPEDANCE.maxOhm.value);
  });
});

describe('nothing can raise the hard limits at run time', () => {
  it('refuses assignment, new keys and redefinition (deep-frozen)', () => {
    const limits = HARD_LIMITS as unknown as Record<string, { value: number; refs: string[] }>;
    expect(() => {
      limits.amplitudeMaxMa!.value = 30;
    }).toThrow(TypeError);
    expect(() => {
      limits.extra = { value: 1, refs: [] };
    }).toThrow(TypeError);
    expect(() => Object.defineProperty(limits.amplitudeMaxMa, 'value', { value: 30 })).toThrow(TypeError);
    expect(() => {
      limits.amplitudeMaxMa!.refs.push('X');
    }).toThrow(TypeError);
    expect(() => {
      delete limits.amplitudeMaxMa;
    }).toThrow(TypeError);
    expect(() => {
      (HARD_LIMIT_LIST as unknown as unknown[]).pop();
    }).toThrow(TypeError);
    expect(() => {
      (FORMAT_LIMITS as unknown as Record<string, number>).maxChannel = 99;
    }).toThrow(TypeError);
    expect(HARD_LIMITS.amplitudeMaxMa.value).toBe(20);
  });

  it('deepFreeze freezes nested objects and arrays', () => {
    const o = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(o.a.b[1])).toBe(true);
    expect(Object.isFrozen(o.a.b)).toBe(true);
  });

  const generousDevice: DeviceLimits = {
    channels: 8,
    frequencyHz: { min: 0.1, max: 10_000 },
    pulseWidthUs: { min: 1, max: 10_000 },
    amplitudeMa: { min: 0, max: 100 },
    maxChargePerPhaseUc: 1000,
    maxDurationS: 86_400,
    complianceV: 400,
    watchdogMs: 500,
  };
  const params: StimulationParams = {
    channel: 1,
    pattern: { kind: 'continuous', frequencyHz: 2 },
    pulseWidthUs: 250,
    waveform: 'biphasic-symmetric',
    amplitudeMa: 25,
    durationS: 60,
    rampMaPerS: 0.5,
  };
  const bigNeedle = { kind: 'needle', diameterMm: 0.5, insertedLengthMm: 100 } as const;

  it('a device reporting wider ranges does not widen them', () => {
    const result = checkStimulation(params, { device: generousDevice, protocol: undefined, electrode: bigNeedle });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.violations.map((v) => v.limit)).toContain('amplitudeMaxMa');
    const fast = checkStimulation({ ...params, amplitudeMa: 5, pattern: { kind: 'continuous', frequencyHz: 500 } }, { device: generousDevice, protocol: undefined, electrode: bigNeedle });
    expect(fast.ok).toBe(false);
  });

  it('protocol limits above the hard limits do not widen them', () => {
    const protocol = {
      protocolId: 'lax',
      phaseIndex: 0,
      channels: [1],
      pattern: params.pattern,
      pulseWidthUs: 250,
      waveform: 'biphasic-symmetric' as const,
      maxMa: 50,
      rampMaPerS: 5,
      durationS: 100_000,
    };
    const result = checkStimulation({ ...params, rampMaPerS: 3, durationS: 4000 }, { device: generousDevice, protocol, electrode: bigNeedle });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.violations.map((v) => v.limit).sort()).toEqual(['amplitudeMaxMa', 'amplitudeRiseMaxMaPerS', 'sessionMaxMin']);
  });

  it('a protocol file cannot ask for more than the ceiling', () => {
    const file = structuredClone(BUILT_IN_FILES['knee-oa-periosteal.json']) as { phases: { amplitude: { maxMa: number } }[] };
    file.phases[0]!.amplitude.maxMa = 25;
    const result = validateProtocol(file);
    expect(result.ok).toBe(false);
  });
});
