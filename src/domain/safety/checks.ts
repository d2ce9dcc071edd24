/**
 * The stages of the guard, in the order they run: input, hard limits (with the charge physics of
 * the declared needle), device limits, protocol limits, and the amplitude slew. Each stage returns
 * every violation it finds; guard.ts wraps them into its entry points.
 */
import { type Dose, computeDose } from '../physics.js';
import {
  type AmplitudeChange,
  type DeviceLimits,
  type Electrode,
  type Pattern,
  type ProtocolLimits,
  type StimulationParams,
  PATTERN_KINDS,
  WAVEFORMS,
  describePattern,
  patternFrequencies,
  samePattern,
} from '../stimulation.js';
import { type UnitName, comparedNumbers, formatNumber, withUnit } from '../units.js';
import { FORMAT_LIMITS, HARD_LIMITS, TOLERANCE } from './limits.js';
import { type Side, rangeText, rangeWhat } from './messages.js';
import {
  type Violation,
  type Warning,
  atLeast,
  atMost,
  beyond,
  hardMax,
  hardRange,
  inputViolation,
  isFiniteNumber,
  numberInput,
  symbol,
} from './violation.js';

/** The last amplitude commanded on a channel and when (the session's monotonic clock, ms). */
export interface CommandedAmplitude {
  readonly amplitudeMa: number;
  readonly atMs: number;
}

export interface Findings {
  readonly violations: readonly Violation[];
  readonly warnings: readonly Warning[];
}

/** Runs every stage; input problems stop the evaluation (NaN never reaches the physics). */
export function evaluate(
  p: StimulationParams,
  electrode: Electrode,
  device: DeviceLimits | undefined,
  protocol: ProtocolLimits | undefined,
  live: boolean,
): Findings {
  const input = [...inputViolations(p), ...electrodeInputViolations(electrode)];
  if (live && device === undefined) input.push(missingDevice());
  if (input.length > 0) return { violations: input, warnings: [] };
  const dose = doseOf(p, electrode);
  const violations = [
    ...hardViolations(p, electrode),
    ...doseViolations(p, electrode, dose),
    ...(device ? deviceViolations(p, device, dose) : []),
    ...(protocol ? protocolViolations(p, protocol) : []),
  ];
  return { violations, warnings: doseWarnings(p, dose) };
}

function doseOf(p: StimulationParams, electrode: Electrode): Dose {
  return computeDose({
    amplitudeMa: p.amplitudeMa,
    pulseWidthUs: p.pulseWidthUs,
    pattern: p.pattern,
    electrode,
    loadKOhm: HARD_LIMITS.energyReferenceLoadKOhm.value,
  });
}

// ---- 1. input ------------------------------------------------------------------------------------

function inputViolations(p: StimulationParams): Violation[] {
  const out: Violation[] = [];
  if (!Number.isInteger(p.channel) || p.channel < 1) {
    out.push(inputViolation('channel', p.channel, '>= 1', 'channel', `channel ${String(p.channel)} is not valid: channels are numbered from 1`));
  }
  out.push(...patternInputViolations(p.pattern));
  out.push(...numberInput('pulseWidthUs', p.pulseWidthUs, 'us', true));
  if (!(WAVEFORMS as readonly string[]).includes(p.waveform)) {
    out.push(inputViolation('waveform', p.waveform, WAVEFORMS.join(' | '), 'none', `'${String(p.waveform)}' is not a charge-balanced biphasic waveform (${WAVEFORMS.join(', ')}) [docs/CLINICAL.md#waveform]`));
  }
  out.push(...numberInput('amplitudeMa', p.amplitudeMa, 'mA', false));
  out.push(...numberInput('durationS', p.durationS, 's', true));
  out.push(...numberInput('rampMaPerS', p.rampMaPerS, 'mA/s', true));
  return out;
}

function patternInputViolations(pattern: Pattern): Violation[] {
  const kind: unknown = (pattern as { kind?: unknown } | undefined)?.kind;
  if (!(PATTERN_KINDS as readonly unknown[]).includes(kind)) {
    return [inputViolation('pattern.kind', kind, PATTERN_KINDS.join(' | '), 'none', `'${String(kind)}' is not a pattern (${PATTERN_KINDS.join(', ')})`)];
  }
  const out = patternFrequencies(pattern).flatMap((f) => numberInput(f.field, f.hz, 'Hz', true));
  if (pattern.kind === 'dense-disperse') out.push(...denseDisperseInput(pattern.lowHz, pattern.highHz, pattern.dwellS));
  if (pattern.kind === 'burst' && out.length === 0) out.push(...burstInput(pattern.burstRateHz, pattern.intraBurstHz, pattern.pulsesPerBurst));
  return out;
}

function denseDisperseInput(lowHz: number, highHz: number, dwellS: number): Violation[] {
  const out: Violation[] = [];
  const { dwellMinS, dwellMaxS } = FORMAT_LIMITS;
  if (!isFiniteNumber(dwellS) || dwellS < dwellMinS - TOLERANCE || dwellS > dwellMaxS + TOLERANCE) {
    out.push(inputViolation('pattern.dwellS', dwellS, `${dwellMinS}-${dwellMaxS}`, 's', `${String(dwellS)} s is not a valid dwell time: allowed ${dwellMinS}-${dwellMaxS} s per frequency`));
  }
  if (isFiniteNumber(lowHz) && isFiniteNumber(highHz) && !(lowHz < highHz)) {
    out.push(inputViolation('pattern.lowHz', lowHz, `< ${formatNumber(highHz)}`, 'Hz', `${withUnit(lowHz, 'Hz')} must be below highHz (${withUnit(highHz, 'Hz')}) in a dense-disperse pattern`));
  }
  return out;
}

function burstInput(burstRateHz: number, intraBurstHz: number, pulsesPerBurst: number): Violation[] {
  const { pulsesPerBurstMin, pulsesPerBurstMax } = FORMAT_LIMITS;
  if (!Number.isInteger(pulsesPerBurst) || pulsesPerBurst < pulsesPerBurstMin || pulsesPerBurst > pulsesPerBurstMax) {
    return [inputViolation('pattern.pulsesPerBurst', pulsesPerBurst, `${pulsesPerBurstMin}-${pulsesPerBurstMax}`, 'pulses', `${String(pulsesPerBurst)} is not a valid number of pulses per burst: a whole number ${pulsesPerBurstMin}-${pulsesPerBurstMax}`)];
  }
  const maxPulses = intraBurstHz / burstRateHz;
  if (!atMost(pulsesPerBurst, maxPulses)) {
    return [inputViolation('pattern.pulsesPerBurst', pulsesPerBurst, `<= ${formatNumber(Math.floor(maxPulses + TOLERANCE))}`, 'pulses', `${pulsesPerBurst} pulses at ${withUnit(intraBurstHz, 'Hz')} do not fit in one burst period at ${withUnit(burstRateHz, 'Hz')}: at most ${formatNumber(Math.floor(maxPulses + TOLERANCE))}`)];
  }
  return [];
}

function electrodeInputViolations(e: Electrode): Violation[] {
  if ((e as { kind?: unknown } | undefined)?.kind !== 'needle') {
    return [inputViolation('electrode.kind', (e as { kind?: unknown } | undefined)?.kind, 'needle', 'none', 'only needle electrodes are supported')];
  }
  return [...numberInput('electrode.diameterMm', e.diameterMm, 'mm', true), ...numberInput('electrode.insertedLengthMm', e.insertedLengthMm, 'mm', true)];
}

export function missingDevice(): Violation {
  return {
    scope: 'device',
    limit: 'device.missing',
    field: 'device',
    value: 'none',
    allowed: 'HELLO reply',
    unit: '',
    source: 'device HELLO',
    message: 'no device limits: a live check needs the limits the device reported at HELLO',
  };
}

// ---- 2. hard limits ------------------------------------------------------------------------------

function hardViolations(p: StimulationParams, e: Electrode): Violation[] {
  const L = HARD_LIMITS;
  return [
    ...patternFrequencies(p.pattern).flatMap((f) => hardRange(f.field, f.hz, L.frequencyMinHz, L.frequencyMaxHz, 'frequency')),
    ...hardRange('pulseWidthUs', p.pulseWidthUs, L.pulseWidthMinUs, L.pulseWidthMaxUs, 'pulse width per phase'),
    ...hardMax('amplitudeMa', p.amplitudeMa, L.amplitudeMaxMa, 'ceiling for needle electrodes'),
    ...hardMax('rampMaPerS', p.rampMaPerS, L.amplitudeRiseMaxMaPerS, 'maximum amplitude rise (raise slowly so the patient is not startled and needles are not bent)'),
    ...sessionLength(p.durationS),
    ...hardRange('electrode.diameterMm', e.diameterMm, L.needleDiameterMinMm, L.needleDiameterMaxMm, 'needle diameter'),
    ...hardRange('electrode.insertedLengthMm', e.insertedLengthMm, L.needleInsertedLengthMinMm, L.needleInsertedLengthMaxMm, 'inserted needle length'),
  ];
}

function sessionLength(durationS: number): Violation[] {
  const max = HARD_LIMITS.sessionMaxMin;
  const maxS = max.value * 60;
  if (atMost(durationS, maxS)) return [];
  return [
    {
      scope: 'hard',
      limit: max.key,
      field: 'durationS',
      value: durationS,
      allowed: `<= ${maxS}`,
      unit: symbol('s'),
      source: max.source,
      message: `${withUnit(durationS, 's')} (${withUnit(durationS / 60, 'min', 1)}) is above the ${withUnit(max.value, 'min')} maximum session length [${max.source}]`,
    },
  ];
}

function needleText(e: Electrode, dose: Dose): string {
  return `the ${formatNumber(e.diameterMm)} x ${formatNumber(e.insertedLengthMm)} mm needle (${withUnit(dose.areaCm2, 'cm2')})`;
}

function doseViolations(p: StimulationParams, e: Electrode, dose: Dose): Violation[] {
  const out: Violation[] = [];
  const block = HARD_LIMITS.shannonKBlock;
  if (dose.shannonK >= block.value - TOLERANCE) {
    out.push({
      scope: 'hard',
      limit: block.key,
      field: 'amplitudeMa',
      value: round2(dose.shannonK),
      allowed: `< ${formatNumber(block.value)}`,
      unit: '',
      source: block.source,
      message: `${withUnit(p.amplitudeMa, 'mA')} at ${withUnit(p.pulseWidthUs, 'us')} per phase through ${needleText(e, dose)} gives Shannon k ${dose.shannonK.toFixed(2)}, at or above the ${formatNumber(block.value)} tissue-damage threshold (allowed k < ${formatNumber(block.value)}) [${block.source}]`,
    });
  }
  const energy = HARD_LIMITS.energyPerPulseMaxMj;
  if (!atMost(dose.energyPerPulseMj, energy.value)) {
    const load = HARD_LIMITS.energyReferenceLoadKOhm.value * 1000;
    out.push(beyond('hard', energy.key, 'amplitudeMa', dose.energyPerPulseMj, { side: 'above', value: energy.value, allowed: `<= ${energy.value}` }, 'mJ', `energy ceiling per pulse into ${load} Ω`, energy.source));
  }
  return out;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function doseWarnings(p: StimulationParams, dose: Dose): Warning[] {
  const out: Warning[] = [];
  const warnK = HARD_LIMITS.shannonKWarn;
  if (dose.shannonK > warnK.value + TOLERANCE && dose.shannonK < HARD_LIMITS.shannonKBlock.value) {
    // The value recorded and said is the one shown: two decimals (k 1.52), or as many as it takes
    // to be above the threshold (k 1.5000001), so no record or screen says "1.5 is above 1.5".
    const shown = comparedNumbers(dose.shannonK, warnK.value, 'above');
    out.push({
      limit: warnK.key,
      field: 'amplitudeMa',
      value: Number(shown.value),
      threshold: warnK.value,
      unit: '',
      source: warnK.source,
      message: `Shannon k ${shown.value} at ${withUnit(p.amplitudeMa, 'mA')} is above ${shown.threshold}: the charge density is getting close to the ${formatNumber(HARD_LIMITS.shannonKBlock.value)} threshold [${warnK.source}]`,
    });
  }
  const warnRms = HARD_LIMITS.rmsDensityWarnMaPerCm2;
  if (dose.rmsDensityMaPerCm2 > warnRms.value + TOLERANCE) {
    const shownRms = comparedNumbers(dose.rmsDensityMaPerCm2, warnRms.value, 'above');
    out.push({
      limit: warnRms.key,
      field: 'amplitudeMa',
      value: dose.rmsDensityMaPerCm2,
      threshold: warnRms.value,
      unit: symbol(warnRms.unit),
      source: warnRms.source,
      message: `RMS current density ${shownRms.value} ${symbol(warnRms.unit)} at ${withUnit(p.amplitudeMa, 'mA')} is above ${shownRms.threshold} ${symbol(warnRms.unit)}: the electrode needs the operator's special attention [${warnRms.source}]`,
    });
  }
  return out;
}

// ---- 3. device limits ----------------------------------------------------------------------------

const DEVICE = 'device HELLO';

function deviceRange(field: string, value: number, range: { min: number; max: number }, unit: UnitName, what: string): Violation[] {
  const allowed = rangeText(range.min, range.max);
  const side: Side | undefined = !atLeast(value, range.min) ? 'below' : !atMost(value, range.max) ? 'above' : undefined;
  if (side === undefined) return [];
  const bound = side === 'above' ? range.max : range.min;
  const label = `${rangeWhat(side, what, range.min, range.max, unit)} of this device`;
  return [beyond('device', `device.${field}.${side === 'above' ? 'max' : 'min'}`, field, value, { side, value: bound, allowed }, unit, label, DEVICE)];
}

function deviceMax(limit: string, field: string, value: number, max: number, unit: UnitName, what: string, source = DEVICE): Violation[] {
  if (atMost(value, max)) return [];
  return [beyond('device', limit, field, value, { side: 'above', value: max, allowed: `<= ${formatNumber(max)}` }, unit, what, source)];
}

function deviceReportViolations(d: DeviceLimits): Violation[] {
  const numbers = [d.channels, d.frequencyHz.min, d.frequencyHz.max, d.pulseWidthUs.min, d.pulseWidthUs.max, d.amplitudeMa.min, d.amplitudeMa.max, d.maxChargePerPhaseUc, d.maxDurationS, d.complianceV, d.watchdogMs];
  if (numbers.every((n) => isFiniteNumber(n) && n >= 0) && Number.isInteger(d.channels)) return [];
  return [{ ...missingDevice(), limit: 'device.report', value: 'malformed', message: 'the device limits contain a value that is not a finite number >= 0 (or a fractional channel count)' }];
}

function deviceViolations(p: StimulationParams, d: DeviceLimits, dose: Dose): Violation[] {
  const report = deviceReportViolations(d);
  if (report.length > 0) return report;
  const { complianceMaxV, watchdogMaxMs } = HARD_LIMITS;
  return [
    ...deviceMax(complianceMaxV.key, 'device.complianceV', d.complianceV, complianceMaxV.value, 'V', 'hard ceiling for the open-circuit compliance voltage', complianceMaxV.source),
    ...deviceMax(watchdogMaxMs.key, 'device.watchdogMs', d.watchdogMs, watchdogMaxMs.value, 'ms', 'longest allowed watchdog window (output off on loss of host)', watchdogMaxMs.source),
    ...deviceMax('device.channels', 'channel', p.channel, d.channels, 'channel', `highest channel of this device (it has ${d.channels})`),
    ...patternFrequencies(p.pattern).flatMap((f) => deviceRange(f.field, f.hz, d.frequencyHz, 'Hz', 'frequency')),
    ...deviceRange('pulseWidthUs', p.pulseWidthUs, d.pulseWidthUs, 'us', 'pulse width per phase'),
    // 0 mA (output at zero, e.g. staged before the ramp, or turned down) is always allowed: the
    // device's minimum is its smallest non-zero setting.
    ...(p.amplitudeMa === 0 ? [] : deviceRange('amplitudeMa', p.amplitudeMa, d.amplitudeMa, 'mA', 'amplitude')),
    ...deviceMax('device.maxChargePerPhaseUc', 'amplitudeMa', dose.chargePerPhaseUc, d.maxChargePerPhaseUc, 'uC', 'maximum charge per phase of this device').map((v) => ({ ...v, message: `charge per phase ${v.message}` })),
    ...deviceMax('device.maxDurationS', 'durationS', p.durationS, d.maxDurationS, 's', 'longest duration this device accepts'),
  ];
}

// ---- 4. protocol limits --------------------------------------------------------------------------

function protocolViolations(p: StimulationParams, pl: ProtocolLimits): Violation[] {
  const source = `protocol ${pl.protocolId}, phase ${pl.phaseIndex + 1}`;
  const out: Violation[] = [];
  const differs = (field: string, value: number | string, expected: number | string, unit: UnitName, what: string) => {
    const shown = (x: number | string) => (typeof x === 'number' ? withUnit(x, unit) : x);
    out.push({ scope: 'protocol', limit: `protocol.${field}`, field, value, allowed: `= ${typeof expected === 'number' ? formatNumber(expected) : expected}`, unit: symbol(unit), source, message: `${shown(value)} is not the ${what} of the protocol (${shown(expected)}) [${source}]` });
  };
  if (!pl.channels.includes(p.channel)) differs('channel', p.channel, pl.channels.join(', '), 'none', 'channel set');
  if (!samePattern(p.pattern, pl.pattern, TOLERANCE)) differs('pattern', describePattern(p.pattern), describePattern(pl.pattern), 'none', 'pattern');
  if (Math.abs(p.pulseWidthUs - pl.pulseWidthUs) > TOLERANCE) differs('pulseWidthUs', p.pulseWidthUs, pl.pulseWidthUs, 'us', 'pulse width per phase');
  if (p.waveform !== pl.waveform) differs('waveform', p.waveform, pl.waveform, 'none', 'waveform');
  const max = (limit: string, field: string, value: number, bound: number, unit: UnitName, what: string) => {
    if (!atMost(value, bound)) out.push(beyond('protocol', limit, field, value, { side: 'above', value: bound, allowed: `<= ${formatNumber(bound)}` }, unit, what, source));
  };
  max('protocol.maxMa', 'amplitudeMa', p.amplitudeMa, pl.maxMa, 'mA', 'maximum amplitude of the protocol');
  max('protocol.rampMaPerS', 'rampMaPerS', p.rampMaPerS, pl.rampMaPerS, 'mA/s', 'amplitude ramp of the protocol');
  max('protocol.durationS', 'durationS', p.durationS, pl.durationS, 's', 'duration of the protocol phase');
  return out;
}

// ---- 5. amplitude slew ---------------------------------------------------------------------------

/**
 * The highest amplitude the slew limit allows at `atMs` after `previous` (0 mA at 0 ms when
 * undefined): the rise rate times the time since the previous command, but never more than one
 * rise window's worth (HARD_LIMITS.amplitudeRiseWindowMs). Holding an amplitude saves nothing up:
 * after a 17 s hold the next command may still rise only 0.2 mA, so over any window t1..t2 the
 * commanded amplitude rises at most rate x (t2 - t1) + rate x window, whatever the call timing.
 */
export function slewCeilingMa(previous: CommandedAmplitude | undefined, atMs: number, protocol?: ProtocolLimits): number {
  const from = previous ?? { amplitudeMa: 0, atMs: 0 };
  return from.amplitudeMa + riseRate(protocol).rate * (riseAllowanceMs(from, atMs) / 1000);
}

/** The time the rise allowance counts: since the previous command, capped at one rise window, ms. */
function riseAllowanceMs(from: CommandedAmplitude, atMs: number): number {
  return Math.min(Math.max(0, atMs - from.atMs), HARD_LIMITS.amplitudeRiseWindowMs.value);
}

export function riseRate(protocol: ProtocolLimits | undefined): { rate: number; limit: string; source: string } {
  const hard = HARD_LIMITS.amplitudeRiseMaxMaPerS;
  if (protocol && protocol.rampMaPerS < hard.value) {
    return { rate: protocol.rampMaPerS, limit: 'protocol.rampMaPerS', source: `protocol ${protocol.protocolId}, phase ${protocol.phaseIndex + 1}` };
  }
  return { rate: hard.value, limit: hard.key, source: hard.source };
}

export function slewViolations(change: AmplitudeChange, previous: CommandedAmplitude | undefined, protocol: ProtocolLimits | undefined): Violation[] {
  const from = previous ?? { amplitudeMa: 0, atMs: 0 };
  const ceiling = slewCeilingMa(previous, change.atMs, protocol);
  if (atMost(change.amplitudeMa, ceiling)) return [];
  const { rate, limit, source } = riseRate(protocol);
  const elapsedS = (change.atMs - from.atMs) / 1000;
  const window = HARD_LIMITS.amplitudeRiseWindowMs;
  const held = change.atMs - from.atMs > window.value ? ` (a hold saves nothing up: one command rises at most ${withUnit(rate, 'mA/s')} x ${withUnit(window.value, 'ms')})` : '';
  return [
    {
      scope: 'slew',
      limit,
      field: 'amplitudeMa',
      value: change.amplitudeMa,
      allowed: `<= ${formatNumber(ceiling)}`,
      unit: symbol('mA'),
      source,
      message: `raising from ${withUnit(from.amplitudeMa, 'mA')} to ${withUnit(change.amplitudeMa, 'mA')} in ${withUnit(elapsedS, 's')} is faster than ${withUnit(rate, 'mA/s')}${held}; at most ${withUnit(ceiling, 'mA')} now (raise slowly so the patient is not startled and needles are not bent) [${source}]`,
    },
  ];
}
