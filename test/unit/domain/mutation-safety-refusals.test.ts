// The guard's refusals and warnings, whole, for the stages mutation-safety-messages.test.ts does not
// reach: bad input (channel, waveform, pattern kind, numbers, electrode, pulses per burst), a
// missing or malformed device report, the charge physics (Shannon k, energy, charge per phase,
// RMS density), the needle range, the device's compliance and watchdog, and the amplitude slew.
// The safety-guard mutation run (MUTATION.md) showed the texts, allowed ranges and sources of these
// could be emptied or swapped with every other test passing: each refusal must still say what was
// wrong, what would have been allowed and where that limit comes from.
import { describe, expect, it } from 'vitest';
import { type GuardResult, checkAmplitudeChange, checkPlan, checkStimulation } from '../../../src/domain/safety/guard.js';
import { rangeWhat } from '../../../src/domain/safety/messages.js';
import type { Electrode, StimulationParams } from '../../../src/domain/stimulation.js';
import { CTX, DEVICE, NEEDLE, NO_PROTOCOL, PARAMS, activeAt0 } from './guard-fixtures.js';

const refusal = <T>(r: GuardResult<T>) => (r.ok ? 'accepted' : r.violations);
const check = (p: Partial<StimulationParams>, ctx = NO_PROTOCOL) => refusal(checkStimulation({ ...PARAMS, ...p }, ctx));
const input = (field: string, value: number | string, allowed: string, unit: string, message: string) => ({ scope: 'input', limit: `input.${field}`, field, value, allowed, unit, source: 'input', message });
const needle = (diameterMm: number, insertedLengthMm: number): Electrode => ({ kind: 'needle', diameterMm, insertedLengthMm });

describe('H1 H3 bad input is refused with what was wrong', () => {
  it('H1 a channel below 1', () => {
    expect(check({ channel: 0 })).toEqual([input('channel', 0, '>= 1', '', 'channel 0 is not valid: channels are numbered from 1')]);
  });
  it('H3 a waveform that is not charge-balanced biphasic', () => {
    expect(check({ waveform: 'monophasic' as never })).toEqual([
      input('waveform', 'monophasic', 'biphasic-symmetric | biphasic-asymmetric', '', "'monophasic' is not a charge-balanced biphasic waveform (biphasic-symmetric, biphasic-asymmetric) [docs/CLINICAL.md#waveform]"),
    ]);
  });
  it('H1 a pattern kind that does not exist, and a pattern that is not an object', () => {
    expect(check({ pattern: { kind: 'sweep' } as never })).toEqual([input('pattern.kind', 'sweep', 'continuous | dense-disperse | burst', '', "'sweep' is not a pattern (continuous, dense-disperse, burst)")]);
    expect(check({ pattern: undefined as never })).toEqual([input('pattern.kind', 'undefined', 'continuous | dense-disperse | burst', '', "'undefined' is not a pattern (continuous, dense-disperse, burst)")]);
  });
  it('H1 a number that must be above 0, and one that may be 0', () => {
    expect(check({ pulseWidthUs: 0 })).toEqual([input('pulseWidthUs', 0, '> 0', 'µs', '0 µs is not valid: must be a finite number above 0')]);
    expect(check({ durationS: Number.POSITIVE_INFINITY })).toEqual([input('durationS', Number.POSITIVE_INFINITY, '> 0', 's', 'Infinity is not valid: must be a finite number above 0')]);
    expect(check({ amplitudeMa: -1 })).toEqual([input('amplitudeMa', -1, '>= 0', 'mA', '-1 mA is not valid: must be a finite number, 0 or more')]);
    // the boundary of each: 0 is refused where the number must be above 0, accepted where 0 is allowed
    expect(check({ rampMaPerS: 0 })).toEqual([input('rampMaPerS', 0, '> 0', 'mA/s', '0 mA/s is not valid: must be a finite number above 0')]);
    expect(check({ amplitudeMa: 0 })).toBe('accepted');
  });
  it('H1 a pulse count per burst that is not whole', () => {
    expect(check({ pattern: { kind: 'burst', burstRateHz: 2, intraBurstHz: 100, pulsesPerBurst: 2.5 } })).toEqual([
      input('pattern.pulsesPerBurst', 2.5, '1-100', 'pulses', '2.5 is not a valid number of pulses per burst: a whole number 1-100'),
    ]);
  });
  it('H7 a burst whose frequencies are bad is refused for them, not for the pulse count', () => {
    expect(check({ pattern: { kind: 'burst', burstRateHz: Number.NaN, intraBurstHz: 100, pulsesPerBurst: 500 } })).toEqual([
      input('pattern.burstRateHz', Number.NaN, '> 0', 'Hz', 'NaN is not valid: must be a finite number above 0'),
    ]);
  });
  it('H2 an electrode that is not a needle, or not there', () => {
    expect(check({}, { ...NO_PROTOCOL, electrode: { kind: 'pad' } as never })).toEqual([input('electrode.kind', 'pad', 'needle', '', 'only needle electrodes are supported')]);
    expect(check({}, { ...NO_PROTOCOL, electrode: undefined as never })).toEqual([input('electrode.kind', 'undefined', 'needle', '', 'only needle electrodes are supported')]);
  });
  it('H2 a needle of zero size is refused as input in mm, both dimensions', () => {
    expect(check({}, { ...NO_PROTOCOL, electrode: needle(0, 0) })).toEqual([
      input('electrode.diameterMm', 0, '> 0', 'mm', '0 mm is not valid: must be a finite number above 0'),
      input('electrode.insertedLengthMm', 0, '> 0', 'mm', '0 mm is not valid: must be a finite number above 0'),
    ]);
  });
  it('H2 every bad input is reported, not only the first, and no physics (no warning) is computed from it', () => {
    const r = checkStimulation({ ...PARAMS, channel: 0, amplitudeMa: -1 }, { ...NO_PROTOCOL, electrode: needle(Number.NaN, 0) });
    expect(r.ok ? [] : r.violations.map((v) => v.field)).toEqual(['channel', 'amplitudeMa', 'electrode.diameterMm', 'electrode.insertedLengthMm']);
    expect(r.ok ? 'accepted' : r.warnings).toEqual([]);
    const plan = checkPlan({ ...PARAMS, channel: 0 }, { protocol: undefined, electrode: NEEDLE });
    expect(plan).toMatchObject({ ok: false, warnings: [] });
  });
});

describe('H1 H6 the device report', () => {
  const missing = { scope: 'device', limit: 'device.missing', field: 'device', value: 'none', allowed: 'HELLO reply', unit: '', source: 'device HELLO', message: 'no device limits: a live check needs the limits the device reported at HELLO' };

  it('H6 a live check without device limits says a HELLO is needed; a plan needs none', () => {
    expect(refusal(checkStimulation(PARAMS, { device: undefined as never, protocol: undefined, electrode: NEEDLE }))).toEqual([missing]);
    expect(checkPlan(PARAMS, { protocol: undefined, electrode: NEEDLE })).toEqual({ ok: true, violations: [], warnings: [] });
  });
  it('H6 a malformed report is refused as a whole', () => {
    const malformed = { ...missing, limit: 'device.report', value: 'malformed', message: 'the device limits contain a value that is not a finite number >= 0 (or a fractional channel count)' };
    expect(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, channels: 2.5 } })).toEqual([malformed]);
    expect(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, watchdogMs: -1 } })).toEqual([malformed]);
    expect(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, frequencyHz: { min: 1, max: Number.NaN } } })).toEqual([malformed]);
    // every field 0 is a (useless) well-formed report: refused by its limits, not as malformed
    const zeros = { channels: 0, frequencyHz: { min: 0, max: 0 }, pulseWidthUs: { min: 0, max: 0 }, amplitudeMa: { min: 0, max: 0 }, maxChargePerPhaseUc: 0, maxDurationS: 0, complianceV: 0, watchdogMs: 0 };
    const r = check({}, { ...NO_PROTOCOL, device: zeros });
    expect(r === 'accepted' ? [] : r.map((v) => v.limit)).not.toContain('device.report');
  });
  it('H14 H4 a device whose compliance voltage or watchdog is beyond the hard ceiling', () => {
    expect(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, complianceV: 600, watchdogMs: 2000 } })).toEqual([
      { scope: 'device', limit: 'complianceMaxV', field: 'device.complianceV', value: 600, allowed: '<= 500', unit: 'V', source: 'docs/CLINICAL.md#peak-voltage', message: '600 V is above the 500 V hard ceiling for the open-circuit compliance voltage [docs/CLINICAL.md#peak-voltage]' },
      { scope: 'device', limit: 'watchdogMaxMs', field: 'device.watchdogMs', value: 2000, allowed: '<= 1000', unit: 'ms', source: 'docs/CLINICAL.md#loss-of-host', message: '2000 ms is above the 1000 ms longest allowed watchdog window (output off on loss of host) [docs/CLINICAL.md#loss-of-host]' },
    ]);
  });
  it('H2 a charge per phase above the device maximum', () => {
    expect(check({}, { ...NO_PROTOCOL, device: { ...DEVICE, maxChargePerPhaseUc: 1 } })).toEqual([
      { scope: 'device', limit: 'device.maxChargePerPhaseUc', field: 'amplitudeMa', value: 1.25, allowed: '<= 1', unit: 'µC', source: 'device HELLO', message: 'charge per phase 1.25 µC is above the 1 µC maximum charge per phase of this device [device HELLO]' },
    ]);
  });
  it('H1 an amplitude below the device minimum (and above 0)', () => {
    expect(check({ amplitudeMa: 0.2 }, { ...NO_PROTOCOL, device: { ...DEVICE, amplitudeMa: { min: 0.5, max: 20 } } })).toEqual([
      { scope: 'device', limit: 'device.amplitudeMa.min', field: 'amplitudeMa', value: 0.2, allowed: '0.5-20', unit: 'mA', source: 'device HELLO', message: '0.2 mA is below the 0.5 mA minimum amplitude (allowed 0.5-20 mA) of this device [device HELLO]' },
    ]);
  });
  it('H1 an amplitude above the device maximum', () => {
    expect(check({ amplitudeMa: 5 }, { ...NO_PROTOCOL, device: { ...DEVICE, amplitudeMa: { min: 0, max: 4 } } })).toEqual([
      { scope: 'device', limit: 'device.amplitudeMa.max', field: 'amplitudeMa', value: 5, allowed: '0-4', unit: 'mA', source: 'device HELLO', message: '5 mA is above the 4 mA maximum amplitude (allowed 0-4 mA) of this device [device HELLO]' },
    ]);
  });
});

describe('H2 H14 the charge physics of the declared needle', () => {
  it('H2 Shannon k at or above the block threshold names the amplitude, pulse width, needle and k', () => {
    expect(check({ amplitudeMa: 10 }, { ...NO_PROTOCOL, electrode: needle(0.25, 10) })).toEqual([
      {
        scope: 'hard',
        limit: 'shannonKBlock',
        field: 'amplitudeMa',
        value: 1.9,
        allowed: '< 1.85',
        unit: '',
        source: 'docs/CLINICAL.md#charge-density-shannon',
        message: '10 mA at 250 µs per phase through the 0.25 x 10 mm needle (0.079 cm²) gives Shannon k 1.90, at or above the 1.85 tissue-damage threshold (allowed k < 1.85) [docs/CLINICAL.md#charge-density-shannon]',
      },
    ]);
  });
  it('H2 the Shannon k warning travels with the accepted value', () => {
    const r = checkStimulation({ ...PARAMS, amplitudeMa: 10 }, { ...NO_PROTOCOL, electrode: needle(0.3, 20) });
    expect(r.ok ? r.checked.warnings : r.violations).toEqual([
      { limit: 'shannonKWarn', field: 'amplitudeMa', value: 1.52, threshold: 1.5, unit: '', source: 'docs/CLINICAL.md#charge-density-shannon', message: 'Shannon k 1.52 at 10 mA is above 1.5: the charge density is getting close to the 1.85 threshold [docs/CLINICAL.md#charge-density-shannon]' },
    ]);
  });
  it('H2 no Shannon k warning for a value the block refuses', () => {
    const r = checkStimulation({ ...PARAMS, amplitudeMa: 10 }, { ...NO_PROTOCOL, electrode: needle(0.25, 10) });
    // (the RMS density warning still travels: 10 mA through 0.079 cm² is 4.03 mA/cm²)
    expect(r.ok ? 'accepted' : r.warnings.map((w) => w.limit)).toEqual(['rmsDensityWarnMaPerCm2']);
  });
  it('H2 the RMS density warning', () => {
    // 0.30 x 40 mm (0.377 cm²), 250 µs at 100 Hz, 5 mA: 5 x sqrt(0.05) / 0.377 = 2.97 mA/cm²
    const r = checkStimulation({ ...PARAMS, amplitudeMa: 5, pattern: { kind: 'continuous', frequencyHz: 100 } }, NO_PROTOCOL);
    const warnings = r.ok ? r.checked.warnings : [];
    expect(warnings[0]?.value).toBeCloseTo(2.966, 3);
    expect(warnings.map((w) => ({ ...w, value: Math.round(w.value * 1000) / 1000 }))).toEqual([
      {
        limit: 'rmsDensityWarnMaPerCm2',
        field: 'amplitudeMa',
        value: 2.966,
        threshold: 2,
        unit: 'mA/cm²',
        source: 'docs/CLINICAL.md#rms-current-density',
        message: "RMS current density 2.97 mA/cm² at 5 mA is above 2 mA/cm²: the electrode needs the operator's special attention [docs/CLINICAL.md#rms-current-density]",
      },
    ]);
  });
  it('H14 energy per pulse above the ceiling (only past the amplitude ceiling) names the load', () => {
    const plan = checkPlan({ ...PARAMS, amplitudeMa: 800, pulseWidthUs: 600 }, { protocol: undefined, electrode: needle(0.5, 100) });
    expect(plan.violations.find((v) => v.limit === 'energyPerPulseMaxMj')).toEqual({
      scope: 'hard',
      limit: 'energyPerPulseMaxMj',
      field: 'amplitudeMa',
      value: 384,
      allowed: '<= 300',
      unit: 'mJ',
      source: 'docs/CLINICAL.md#energy-per-pulse',
      message: '384 mJ is above the 300 mJ energy ceiling per pulse into 500 Ω [docs/CLINICAL.md#energy-per-pulse]',
    });
  });
  it('H2 a needle outside the plausible range, on each side', () => {
    expect(check({}, { ...NO_PROTOCOL, electrode: needle(2, 400) })).toEqual([
      { scope: 'hard', limit: 'needleDiameterMaxMm', field: 'electrode.diameterMm', value: 2, allowed: '0.1-0.5', unit: 'mm', source: 'docs/CLINICAL.md#needle-dimensions', message: '2 mm is above the 0.5 mm maximum needle diameter (allowed 0.1-0.5 mm) [docs/CLINICAL.md#needle-dimensions]' },
      { scope: 'hard', limit: 'needleInsertedLengthMaxMm', field: 'electrode.insertedLengthMm', value: 400, allowed: '1-100', unit: 'mm', source: 'docs/CLINICAL.md#needle-dimensions', message: '400 mm is above the 100 mm maximum inserted needle length (allowed 1-100 mm) [docs/CLINICAL.md#needle-dimensions]' },
    ]);
    const thin = check({ amplitudeMa: 0 }, { ...NO_PROTOCOL, electrode: needle(0.05, 0.5) });
    expect(thin).toEqual([
      { scope: 'hard', limit: 'needleDiameterMinMm', field: 'electrode.diameterMm', value: 0.05, allowed: '0.1-0.5', unit: 'mm', source: 'docs/CLINICAL.md#needle-dimensions', message: '0.05 mm is below the 0.1 mm minimum needle diameter (allowed 0.1-0.5 mm) [docs/CLINICAL.md#needle-dimensions]' },
      { scope: 'hard', limit: 'needleInsertedLengthMinMm', field: 'electrode.insertedLengthMm', value: 0.5, allowed: '1-100', unit: 'mm', source: 'docs/CLINICAL.md#needle-dimensions', message: '0.5 mm is below the 1 mm minimum inserted needle length (allowed 1-100 mm) [docs/CLINICAL.md#needle-dimensions]' },
    ]);
  });
  it('H11 a ramp faster than the hard rise limit', () => {
    expect(checkPlan({ ...PARAMS, rampMaPerS: 2 }, { protocol: undefined, electrode: NEEDLE }).violations).toEqual([
      { scope: 'hard', limit: 'amplitudeRiseMaxMaPerS', field: 'rampMaPerS', value: 2, allowed: '<= 1', unit: 'mA/s', source: 'docs/CLINICAL.md#amplitude-rise', message: '2 mA/s is above the 1 mA/s maximum amplitude rise (raise slowly so the patient is not startled and needles are not bent) [docs/CLINICAL.md#amplitude-rise]' },
    ]);
  });
});

describe('H11 H19 the amplitude slew and the input of an amplitude change', () => {
  const amp = (amplitudeMa: number, atMs: number, previous: { amplitudeMa: number; atMs: number } | undefined, base = NO_PROTOCOL, channel = 1) =>
    refusal(checkAmplitudeChange({ channel, amplitudeMa, atMs }, { ...base, previous, active: activeAt0(base) }));

  it('H11 a rise faster than the hard limit says from, to, how fast and what is allowed now', () => {
    expect(amp(4.5, 9_150, { amplitudeMa: 4, atMs: 9_000 })).toEqual([
      { scope: 'slew', limit: 'amplitudeRiseMaxMaPerS', field: 'amplitudeMa', value: 4.5, allowed: '<= 4.15', unit: 'mA', source: 'docs/CLINICAL.md#amplitude-rise', message: 'raising from 4 mA to 4.5 mA in 0.15 s is faster than 1 mA/s; at most 4.15 mA now (raise slowly so the patient is not startled and needles are not bent) [docs/CLINICAL.md#amplitude-rise]' },
    ]);
  });
  it('H11 a rise faster than a slower protocol ramp names the protocol', () => {
    expect(amp(4.5, 9_150, { amplitudeMa: 4, atMs: 9_000 }, CTX)).toEqual([
      { scope: 'slew', limit: 'protocol.rampMaPerS', field: 'amplitudeMa', value: 4.5, allowed: '<= 4.075', unit: 'mA', source: 'protocol knee-oa-periosteal, phase 1', message: 'raising from 4 mA to 4.5 mA in 0.15 s is faster than 0.5 mA/s; at most 4.075 mA now (raise slowly so the patient is not startled and needles are not bent) [protocol knee-oa-periosteal, phase 1]' },
    ]);
  });
  it('H19 the first command counts from 0 mA at 0 ms, and a hold longer than the window is named', () => {
    expect(amp(1, 5_000, undefined)).toEqual([
      { scope: 'slew', limit: 'amplitudeRiseMaxMaPerS', field: 'amplitudeMa', value: 1, allowed: '<= 0.2', unit: 'mA', source: 'docs/CLINICAL.md#amplitude-rise', message: 'raising from 0 mA to 1 mA in 5 s is faster than 1 mA/s (a hold saves nothing up: one command rises at most 1 mA/s x 200 ms); at most 0.2 mA now (raise slowly so the patient is not startled and needles are not bent) [docs/CLINICAL.md#amplitude-rise]' },
    ]);
  });
  it('H19 exactly one window after the previous command is not yet a hold', () => {
    const r = amp(3, 200, { amplitudeMa: 2, atMs: 0 });
    expect(r === 'accepted' ? '' : r[0]!.message).toBe('raising from 2 mA to 3 mA in 0.2 s is faster than 1 mA/s; at most 2.2 mA now (raise slowly so the patient is not startled and needles are not bent) [docs/CLINICAL.md#amplitude-rise]');
  });
  it('H1 another channel than the active parameters, and active parameters the guard did not issue', () => {
    expect(amp(0, 5_000, undefined, CTX, 2)).toEqual([input('channel', 2, '= 1', '', 'channel 2 is not the channel of the active parameters (1)')]);
    const forged = { value: PARAMS, warnings: [] } as unknown as ReturnType<typeof activeAt0>;
    expect(refusal(checkAmplitudeChange({ channel: 1, amplitudeMa: 1, atMs: 5_000 }, { ...CTX, previous: undefined, active: forged }))).toEqual([
      input('active', 'unchecked', 'Checked parameters', '', 'the active parameters were not issued by the guard'),
    ]);
  });
  it('H11 time going backwards, and bad numbers in the change and in the previous command', () => {
    expect(amp(1, 500, { amplitudeMa: 1, atMs: 1_000 }, CTX)).toEqual([input('atMs', 500, '>= 1000', 'ms', '500 ms is before the previous command at 1000 ms: time must not go backwards')]);
    expect(amp(Number.NaN, -1, { amplitudeMa: -1, atMs: Number.NaN })).toEqual([
      input('amplitudeMa', Number.NaN, '>= 0', 'mA', 'NaN is not valid: must be a finite number, 0 or more'),
      input('atMs', -1, '>= 0', 'ms', '-1 ms is not valid: must be a finite number, 0 or more'),
      input('previous.amplitudeMa', -1, '>= 0', 'mA', '-1 mA is not valid: must be a finite number, 0 or more'),
      input('previous.atMs', Number.NaN, '>= 0', 'ms', 'NaN is not valid: must be a finite number, 0 or more'),
    ]);
    // the same instant as the previous command is not backwards
    expect(amp(1, 1_000, { amplitudeMa: 1, atMs: 1_000 }, CTX)).toBe('accepted');
  });
  it('H11 a protocol ramp above the protocol maximum', () => {
    expect(check({ rampMaPerS: 0.8 }, CTX)).toEqual([
      { scope: 'protocol', limit: 'protocol.rampMaPerS', field: 'rampMaPerS', value: 0.8, allowed: '<= 0.5', unit: 'mA/s', source: 'protocol knee-oa-periosteal, phase 1', message: '0.8 mA/s is above the 0.5 mA/s amplitude ramp of the protocol [protocol knee-oa-periosteal, phase 1]' },
    ]);
  });
  it('H6 H11 an amplitude change needs the device limits too, and a bad input change carries no warnings', () => {
    const noDevice = { device: undefined as never, protocol: undefined, electrode: NEEDLE, previous: undefined, active: activeAt0(NO_PROTOCOL) };
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 0.1, atMs: 1_000 }, noDevice);
    expect(r.ok ? 'accepted' : r.violations.map((v) => v.limit)).toEqual(['device.missing']);
    const bad = checkAmplitudeChange({ channel: 1, amplitudeMa: Number.NaN, atMs: 1_000 }, { ...NO_PROTOCOL, previous: undefined, active: activeAt0(NO_PROTOCOL) });
    expect(bad).toMatchObject({ ok: false, warnings: [] });
  });
  it('H11 a refused amplitude change keeps the warnings found at the new amplitude', () => {
    const thin = { ...NO_PROTOCOL, electrode: needle(0.3, 20) };
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 10, atMs: 1_000 }, { ...thin, previous: { amplitudeMa: 5, atMs: 800 }, active: activeAt0(thin) });
    expect(r.ok ? 'accepted' : r.warnings.map((w) => w.limit)).toEqual(['shannonKWarn']);
    expect(r.ok ? [] : r.violations.map((v) => v.limit)).toEqual(['amplitudeRiseMaxMaPerS']);
  });
});

describe('H1 the range wording', () => {
  it('H1 a range of a unit without a symbol names no unit, one with a symbol names it', () => {
    expect(rangeWhat('above', 'pulse count', 1, 100, 'none')).toBe('maximum pulse count (allowed 1-100)');
    expect(rangeWhat('below', 'frequency', 1, 150, 'Hz')).toBe('minimum frequency (allowed 1-150 Hz)');
  });
});
