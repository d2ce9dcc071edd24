import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Checked,
  type GuardContext,
  type GuardResult,
  type Violation,
  checkAmplitudeChange,
  checkPlan,
  checkStimulation,
  formatViolation,
  isChecked,
  slewCeilingMa,
} from '../../../src/domain/safety/guard.js';
import type { StimulationParams, Waveform } from '../../../src/domain/stimulation.js';
import { CTX, DEVICE, NEEDLE, NO_PROTOCOL, PARAMS, PROTOCOL, activeAt0 } from './guard-fixtures.js';

function violations<T>(r: GuardResult<T>): readonly Violation[] {
  return r.ok ? [] : r.violations;
}
function limits<T>(r: GuardResult<T>): string[] {
  return violations(r).map((v) => v.limit);
}
const check = (p: Partial<StimulationParams>, ctx = CTX) => checkStimulation({ ...PARAMS, ...p }, ctx);

describe('checkStimulation: accepted values', () => {
  it('accepts a protocol-conforming stimulation and returns a frozen Checked copy', () => {
    const input = { ...PARAMS };
    const r = checkStimulation(input, CTX);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.checked.value).toEqual(PARAMS);
    expect(r.checked.value).not.toBe(input);
    expect(r.checked.warnings).toEqual([]);
    expect(Object.isFrozen(r.checked)).toBe(true);
    expect(Object.isFrozen(r.checked.value.pattern)).toBe(true);
    expect(isChecked(r.checked)).toBe(true);
  });

  it('recognises only Checked values it issued', () => {
    const r = checkStimulation(PARAMS, CTX);
    if (!r.ok) throw new Error('rejected');
    expect(isChecked({ ...r.checked })).toBe(false);
    expect(isChecked({ value: PARAMS, warnings: [] })).toBe(false);
    expect(isChecked(null)).toBe(false);
  });

  it('accepts exact boundaries, with a tolerance for float steps of 0.1 mA', () => {
    expect(check({ amplitudeMa: 0.1 + 0.2 }, { ...CTX, protocol: { ...PROTOCOL, maxMa: 0.3 } }).ok).toBe(true);
    expect(check({ amplitudeMa: 10 }).ok).toBe(true);
    expect(check({ amplitudeMa: 10.001 }).ok).toBe(false);
    const free = { device: { ...DEVICE, pulseWidthUs: { min: 1, max: 1000 }, frequencyHz: { min: 0.1, max: 1000 } }, protocol: undefined, electrode: { ...NEEDLE, insertedLengthMm: 100, diameterMm: 0.5 } };
    expect(checkStimulation({ ...PARAMS, pattern: { kind: 'continuous', frequencyHz: 150 }, pulseWidthUs: 600, amplitudeMa: 0 }, free).ok).toBe(true);
    expect(checkStimulation({ ...PARAMS, pattern: { kind: 'continuous', frequencyHz: 1 }, pulseWidthUs: 50 }, free).ok).toBe(true);
    expect(checkStimulation({ ...PARAMS, durationS: 3600, rampMaPerS: 1 }, free).ok).toBe(true);
  });
});

describe('checkStimulation: input', () => {
  it.each([
    ['amplitudeMa', { amplitudeMa: NaN }],
    ['amplitudeMa', { amplitudeMa: -1 }],
    ['amplitudeMa', { amplitudeMa: Infinity }],
    ['pulseWidthUs', { pulseWidthUs: NaN }],
    ['pulseWidthUs', { pulseWidthUs: -250 }],
    ['durationS', { durationS: 0 }],
    ['durationS', { durationS: Infinity }],
    ['rampMaPerS', { rampMaPerS: 0 }],
    ['rampMaPerS', { rampMaPerS: NaN }],
    ['channel', { channel: 0 }],
    ['channel', { channel: 1.5 }],
    ['pattern.frequencyHz', { pattern: { kind: 'continuous', frequencyHz: NaN } }],
    ['pattern.frequencyHz', { pattern: { kind: 'continuous', frequencyHz: -2 } }],
  ] as [string, Partial<StimulationParams>][])('refuses a bad %s before any other check', (field, p) => {
    const r = check(p);
    expect(violations(r).map((v) => [v.scope, v.field])).toEqual([['input', field]]);
  });

  it('refuses anything but a charge-balanced biphasic waveform at run time', () => {
    const r = check({ waveform: 'monophasic' as never });
    expect(violations(r)[0]).toMatchObject({ scope: 'input', field: 'waveform' });
    expect(violations(r)[0]!.message).toContain('charge-balanced biphasic');
  });

  it('refuses an unknown pattern kind and malformed patterns', () => {
    expect(limits(check({ pattern: { kind: 'sweep' } as never }))).toEqual(['input.pattern.kind']);
    expect(limits(check({ pattern: { kind: 'dense-disperse', lowHz: 100, highHz: 2, dwellS: 3 } }))).toEqual(['input.pattern.lowHz']);
    expect(limits(check({ pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 0.05 } }))).toEqual(['input.pattern.dwellS']);
    expect(limits(check({ pattern: { kind: 'burst', burstRateHz: 2, intraBurstHz: 10, pulsesPerBurst: 7 } }))).toEqual(['input.pattern.pulsesPerBurst']);
    expect(limits(check({ pattern: { kind: 'burst', burstRateHz: 2, intraBurstHz: 100, pulsesPerBurst: 2.5 } }))).toEqual(['input.pattern.pulsesPerBurst']);
  });

  it('refuses a malformed electrode', () => {
    expect(limits(check({}, { ...CTX, electrode: { ...NEEDLE, diameterMm: NaN } }))).toEqual(['input.electrode.diameterMm']);
    expect(limits(check({}, { ...CTX, electrode: { kind: 'pad' } as never }))).toEqual(['input.electrode.kind']);
  });

  it('refuses a live check without device limits even if the types were bypassed', () => {
    const r = checkStimulation(PARAMS, { device: undefined as never, protocol: undefined, electrode: NEEDLE });
    expect(limits(r)).toEqual(['device.missing']);
  });
});

describe('checkStimulation: hard limits', () => {
  const free = { device: { ...DEVICE, amplitudeMa: { min: 0, max: 100 }, frequencyHz: { min: 0.01, max: 1000 }, pulseWidthUs: { min: 1, max: 5000 }, maxChargePerPhaseUc: 1e6, maxDurationS: 1e6 }, protocol: undefined, electrode: NEEDLE };

  it('H1 reports the example message for 25 mA', () => {
    const r = check({ amplitudeMa: 25 }, free);
    const v = violations(r).find((x) => x.limit === 'amplitudeMaxMa');
    expect(v).toMatchObject({ scope: 'hard', field: 'amplitudeMa', value: 25, allowed: '<= 20', unit: 'mA', source: 'docs/CLINICAL.md#amplitude' });
    expect(v!.message).toBe('25 mA is above the 20 mA ceiling for needle electrodes [docs/CLINICAL.md#amplitude]');
    expect(formatViolation(v!)).toBe(`amplitudeMa: ${v!.message}`);
  });

  it.each([
    [{ pattern: { kind: 'continuous', frequencyHz: 0.5 } }, 'frequencyMinHz', 'pattern.frequencyHz'],
    [{ pattern: { kind: 'continuous', frequencyHz: 151 } }, 'frequencyMaxHz', 'pattern.frequencyHz'],
    [{ pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 200, dwellS: 3 } }, 'frequencyMaxHz', 'pattern.highHz'],
    [{ pattern: { kind: 'burst', burstRateHz: 0.5, intraBurstHz: 100, pulsesPerBurst: 5 } }, 'frequencyMinHz', 'pattern.burstRateHz'],
    [{ pulseWidthUs: 40 }, 'pulseWidthMinUs', 'pulseWidthUs'],
    [{ pulseWidthUs: 601 }, 'pulseWidthMaxUs', 'pulseWidthUs'],
    [{ rampMaPerS: 1.01 }, 'amplitudeRiseMaxMaPerS', 'rampMaPerS'],
    [{ durationS: 3601 }, 'sessionMaxMin', 'durationS'],
  ] as [Partial<StimulationParams>, string, string][])('%j breaks %s', (p, limit, field) => {
    const v = violations(check(p, free));
    expect(v.map((x) => [x.limit, x.field])).toEqual([[limit, field]]);
    expect(v[0]!.message).toMatch(/\[docs\/CLINICAL\.md#[a-z-]+\]$/);
  });

  it('H2 blocks Shannon k >= 1.85 for the declared needle (0.25 x 10 mm at 10 mA: k 1.90)', () => {
    const r = check({ amplitudeMa: 10 }, { ...free, electrode: { kind: 'needle', diameterMm: 0.25, insertedLengthMm: 10 } });
    const v = violations(r);
    expect(v.map((x) => x.limit)).toEqual(['shannonKBlock']);
    expect(v[0]).toMatchObject({ field: 'amplitudeMa', value: 1.9, allowed: '< 1.85' });
    expect(v[0]!.message).toContain('Shannon k 1.90');
  });

  it('H2 warns above k 1.5 and carries the warning in the Checked value (0.30 x 20 mm at 10 mA: k 1.52)', () => {
    const r = check({ amplitudeMa: 10 }, { ...free, electrode: { kind: 'needle', diameterMm: 0.3, insertedLengthMm: 20 } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.checked.warnings.map((w) => [w.limit, w.value])).toEqual([['shannonKWarn', 1.52]]);
  });

  it('warns above 2 mA/cm² RMS density, not at or below it', () => {
    // 0.30 x 40 mm, 250 µs, 100 Hz: I_rms = I x sqrt(0.05); density 2 mA/cm² at I = 2 x 0.37699 / 0.22361 = 3.3719 mA
    const at = (amplitudeMa: number) => check({ amplitudeMa, pattern: { kind: 'continuous', frequencyHz: 100 } }, free);
    const warned = (amplitudeMa: number) => {
      const r = at(amplitudeMa);
      return r.ok && r.checked.warnings.some((w) => w.limit === 'rmsDensityWarnMaPerCm2');
    };
    expect(warned(3.37)).toBe(false);
    expect(warned(3.38)).toBe(true);
  });

  it('H14 blocks energy above 300 mJ per pulse into 500 Ω (never near it within the other limits)', () => {
    // Reaching 300 mJ at 600 µs needs I = sqrt(300 / (0.5 x 1200e-6)) mA = 707 mA: only reachable past the amplitude ceiling.
    const v = violations(check({ amplitudeMa: 800, pulseWidthUs: 600 }, { ...free, electrode: { kind: 'needle', diameterMm: 0.5, insertedLengthMm: 100 } }));
    expect(v.map((x) => x.limit)).toContain('energyPerPulseMaxMj');
    expect(v.map((x) => x.limit)).toContain('amplitudeMaxMa');
  });

  it('blocks implausible needles that would hide a high charge density', () => {
    expect(limits(check({}, { ...CTX, electrode: { kind: 'needle', diameterMm: 2, insertedLengthMm: 40 } }))).toEqual(['needleDiameterMaxMm']);
    expect(limits(check({}, { ...CTX, electrode: { kind: 'needle', diameterMm: 0.3, insertedLengthMm: 400 } }))).toEqual(['needleInsertedLengthMaxMm']);
  });
});

describe('checkStimulation: device limits from HELLO', () => {
  it.each([
    [{ channels: 1 }, { channel: 2 }, 'device.channels'],
    [{ frequencyHz: { min: 5, max: 100 } }, {}, 'device.pattern.frequencyHz.min'],
    [{ pulseWidthUs: { min: 100, max: 200 } }, {}, 'device.pulseWidthUs.max'],
    [{ amplitudeMa: { min: 0, max: 4 } }, {}, 'device.amplitudeMa.max'],
    [{ maxChargePerPhaseUc: 1 }, {}, 'device.maxChargePerPhaseUc'],
    [{ maxDurationS: 600 }, {}, 'device.maxDurationS'],
    [{ complianceV: 600 }, {}, 'complianceMaxV'],
    [{ watchdogMs: 2000 }, {}, 'watchdogMaxMs'],
  ] as [Partial<typeof DEVICE>, Partial<StimulationParams>, string][])('device %j refuses it (%j): %s', (device, p, limit) => {
    const r = check(p, { ...NO_PROTOCOL, device: { ...DEVICE, ...device } });
    expect(violations(r).map((v) => [v.scope, v.limit])).toEqual([['device', limit]]);
  });

  it('always allows 0 mA, even on a device whose smallest setting is above 0', () => {
    const device = { ...DEVICE, amplitudeMa: { min: 0.5, max: 20 } };
    expect(check({ amplitudeMa: 0 }, { ...NO_PROTOCOL, device }).ok).toBe(true);
    expect(limits(check({ amplitudeMa: 0.2 }, { ...NO_PROTOCOL, device }))).toEqual(['device.amplitudeMa.min']);
  });

  it('refuses a malformed device report', () => {
    expect(limits(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, maxChargePerPhaseUc: NaN } }))).toEqual(['device.report']);
    expect(limits(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, channels: 2.5 } }))).toEqual(['device.report']);
  });
});

describe('checkStimulation: protocol limits', () => {
  it.each([
    [{ channel: 3 }, 'protocol.channel'],
    [{ pattern: { kind: 'continuous', frequencyHz: 4 } }, 'protocol.pattern'],
    [{ pulseWidthUs: 300 }, 'protocol.pulseWidthUs'],
    [{ waveform: 'biphasic-asymmetric' }, 'protocol.waveform'],
    [{ amplitudeMa: 12 }, 'protocol.maxMa'],
    [{ rampMaPerS: 0.8 }, 'protocol.rampMaPerS'],
    [{ durationS: 1300 }, 'protocol.durationS'],
  ] as [Partial<StimulationParams>, string][])('%j breaks %s', (p, limit) => {
    const v = violations(check(p));
    expect(v.map((x) => [x.scope, x.limit])).toEqual([['protocol', limit]]);
    expect(v[0]!.source).toBe('protocol knee-oa-periosteal, phase 1');
  });

  it('reports every broken limit, in order: hard, device, protocol', () => {
    const bigNeedle = { kind: 'needle' as const, diameterMm: 0.5, insertedLengthMm: 100 };
    const r = check({ amplitudeMa: 21 }, { ...CTX, electrode: bigNeedle, device: { ...DEVICE, amplitudeMa: { min: 0, max: 15 } } });
    expect(violations(r).map((v) => v.scope)).toEqual(['hard', 'device', 'protocol']);
  });
});

describe('checkAmplitudeChange', () => {
  const ctx = (previous: { amplitudeMa: number; atMs: number } | undefined, base = CTX) => ({ ...base, previous, active: activeAt0(base) });

  it('counts the first command from 0 mA at 0 ms, with at most one rise window of allowance', () => {
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 0.1, atMs: 1000 }, ctx(undefined)).ok).toBe(true);
    // the protocol ramp (0.5 mA/s) is stricter than the hard 1 mA/s: 0.1 mA per 200 ms window
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 0.11, atMs: 1000 }, ctx(undefined)))).toEqual(['protocol.rampMaPerS']);
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 0.21, atMs: 1000 }, ctx(undefined, NO_PROTOCOL)))).toEqual(['amplitudeRiseMaxMaPerS']);
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 0.2, atMs: 1000 }, ctx(undefined, NO_PROTOCOL)).ok).toBe(true);
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 0.1, atMs: 100 }, ctx(undefined, NO_PROTOCOL)).ok).toBe(true);
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 0.11, atMs: 100 }, ctx(undefined, NO_PROTOCOL)))).toEqual(['amplitudeRiseMaxMaPerS']);
  });

  it('limits the rise relative to the previous command and says what is allowed now', () => {
    // 4 mA at 9 s -> 4.15 mA 150 ms later is exactly 1 mA/s
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 4.15, atMs: 9_150 }, ctx({ amplitudeMa: 4, atMs: 9_000 }, NO_PROTOCOL)).ok).toBe(true);
    const r2 = checkAmplitudeChange({ channel: 1, amplitudeMa: 4.5, atMs: 9_150 }, ctx({ amplitudeMa: 4, atMs: 9_000 }, NO_PROTOCOL));
    expect(violations(r2)).toEqual([expect.objectContaining({ scope: 'slew', limit: 'amplitudeRiseMaxMaPerS', value: 4.5, allowed: '<= 4.15' })]);
    expect(violations(r2)[0]!.message).toContain('at most 4.15 mA now');
  });

  it('H19 saves nothing up while the amplitude is held: after a 17 s hold one command still rises at most 0.2 mA', () => {
    // The bypass found by adversarial testing: 2 mA held for 17 s, then one command to 10 mA.
    const held = ctx({ amplitudeMa: 2, atMs: 3_000 }, NO_PROTOCOL);
    const jump = checkAmplitudeChange({ channel: 1, amplitudeMa: 10, atMs: 20_000 }, held);
    expect(violations(jump)).toEqual([expect.objectContaining({ scope: 'slew', limit: 'amplitudeRiseMaxMaPerS', value: 10, allowed: '<= 2.2' })]);
    expect(violations(jump)[0]!.message).toContain('a hold saves nothing up');
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 2.2, atMs: 20_000 }, held).ok).toBe(true);
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 2.201, atMs: 20_000 }, held).ok).toBe(false);
    // 4 mA at 9 s -> 6 mA at 11 s averages 1 mA/s, but is one jump of 2 mA: refused
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 6, atMs: 11_000 }, ctx({ amplitudeMa: 4, atMs: 9_000 }, NO_PROTOCOL)))).toEqual(['amplitudeRiseMaxMaPerS']);
  });

  it('accepts 0.1 mA steps every 100 ms at exactly 1 mA/s despite float error', () => {
    let previous: { amplitudeMa: number; atMs: number } | undefined;
    let amplitude = 0;
    for (let i = 1; i <= 50; i++) {
      amplitude += 0.1;
      const r = checkAmplitudeChange({ channel: 1, amplitudeMa: amplitude, atMs: i * 100 }, ctx(previous, NO_PROTOCOL));
      expect(r.ok, `step ${i}`).toBe(true);
      previous = { amplitudeMa: amplitude, atMs: i * 100 };
    }
  });

  it('always allows a decrease, immediately', () => {
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 0, atMs: 5000 }, ctx({ amplitudeMa: 9, atMs: 5000 })).ok).toBe(true);
    expect(checkAmplitudeChange({ channel: 1, amplitudeMa: 2, atMs: 5000 }, ctx({ amplitudeMa: 9, atMs: 5000 })).ok).toBe(true);
  });

  it('still applies the other limits at the new amplitude, and carries warnings', () => {
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 10.1, atMs: 60_000 }, ctx({ amplitudeMa: 10, atMs: 59_800 })))).toEqual(['protocol.maxMa']);
    const thin = { ...NO_PROTOCOL, electrode: { kind: 'needle' as const, diameterMm: 0.3, insertedLengthMm: 20 } };
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 10, atMs: 60_000 }, ctx({ amplitudeMa: 9.8, atMs: 59_800 }, thin));
    expect(r.ok && r.checked.warnings.map((w) => w.limit)).toEqual(['shannonKWarn']);
  });

  it('refuses time going backwards, another channel, bad numbers and unchecked active parameters', () => {
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 1, atMs: 500 }, ctx({ amplitudeMa: 1, atMs: 1000 })))).toEqual(['input.atMs']);
    expect(limits(checkAmplitudeChange({ channel: 2, amplitudeMa: 0, atMs: 5000 }, ctx(undefined)))).toEqual(['input.channel']);
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: NaN, atMs: 5000 }, ctx(undefined)))).toEqual(['input.amplitudeMa']);
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 1, atMs: 5000 }, ctx({ amplitudeMa: -1, atMs: 0 })))).toEqual(['input.previous.amplitudeMa']);
    const forged = { value: PARAMS, warnings: [] } as unknown as ReturnType<typeof activeAt0>;
    expect(limits(checkAmplitudeChange({ channel: 1, amplitudeMa: 1, atMs: 5000 }, { ...CTX, previous: undefined, active: forged }))).toEqual(['input.active']);
  });

  it('returns a frozen Checked amplitude change', () => {
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 0.1, atMs: 1000 }, ctx(undefined));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.checked.value).toEqual({ channel: 1, amplitudeMa: 0.1, atMs: 1000 });
      expect(Object.isFrozen(r.checked.value)).toBe(true);
      expect(isChecked(r.checked)).toBe(true);
    }
  });

  it('slewCeilingMa tells a titration control how far it may go', () => {
    expect(slewCeilingMa(undefined, 3000)).toBeCloseTo(0.2, 12);
    expect(slewCeilingMa({ amplitudeMa: 4, atMs: 1000 }, 3000, PROTOCOL)).toBeCloseTo(4.1, 12);
    expect(slewCeilingMa({ amplitudeMa: 4, atMs: 1000 }, 1100)).toBeCloseTo(4.1, 12);
    expect(slewCeilingMa({ amplitudeMa: 4, atMs: 1000 }, 500)).toBe(4);
  });
});

describe('checkPlan (protocol files)', () => {
  it('runs the same checks without a device and never yields a Checked value', () => {
    const ok = checkPlan(PARAMS, { electrode: NEEDLE, protocol: PROTOCOL });
    expect(ok).toEqual({ ok: true, violations: [], warnings: [] });
    expect('checked' in ok).toBe(false);
    const bad = checkPlan({ ...PARAMS, amplitudeMa: 25 }, { electrode: NEEDLE, protocol: undefined });
    expect(bad.ok).toBe(false);
    // 25 mA at 250 µs through 0.30 x 40 mm is also k 2.02
    expect(bad.violations.map((v) => v.limit)).toEqual(['amplitudeMaxMa', 'shannonKBlock']);
  });
});

describe('types', () => {
  it('make a Checked value impossible to build outside the guard, and a live check impossible without a device', () => {
    // @ts-expect-error a plain object is not a Checked value: the brand is private to guard.ts
    const forged: Checked<StimulationParams> = { value: PARAMS, warnings: [] };
    expect(isChecked(forged)).toBe(false);
    // @ts-expect-error live checks require the device limits from HELLO
    const noDevice: GuardContext = { protocol: undefined, electrode: NEEDLE };
    expect(noDevice.electrode).toBe(NEEDLE);
    expectTypeOf<Waveform>().toEqualTypeOf<'biphasic-symmetric' | 'biphasic-asymmetric'>();
  });
});
