/**
 * The guard: the one choke point every current-causing command passes (ARCHITECTURE.md "One choke
 * point for stimulation"). It checks a proposed stimulation, in order, against
 *   1. the input itself (finite, non-negative, well-formed: NaN and Infinity never get further),
 *   2. the hard limits (limits.ts), including the charge density of the declared needle,
 *   3. the device's own limits from its HELLO reply,
 *   4. the active protocol phase's limits,
 *   5. the amplitude slew limit (amplitude changes only),
 * and returns either a `Checked` value, the only input the device layer encodes into a stimulating
 * frame, or every violation found. Warnings (Shannon k above 1.5, RMS density above 2 mA/cm²)
 * travel inside the `Checked` value so the UI and the journal show them.
 *
 * Protocol files are validated by `checkPlan`, which runs the same checks without a device and
 * returns no `Checked` value: a file that passes can never ask for something a session refuses,
 * and a plan can never be sent to a device.
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
import { type UnitName, UNIT_SYMBOL, formatNumber, withUnit } from '../units.js';
import { FORMAT_LIMITS, HARD_LIMITS, type Limit, TOLERANCE, deepFreeze } from './limits.js';
import { type Side, beyondMessage, hardMaxMessage, hardRangeMessage, rangeText, rangeWhat } from './messages.js';

export type {
  AmplitudeChange,
  BurstPattern,
  ContinuousPattern,
  DenseDispersePattern,
  DeviceLimits,
  Electrode,
  Pattern,
  ProtocolLimits,
  Range,
  StimulationParams,
  Waveform,
} from '../stimulation.js';

// ---- results --------------------------------------------------------------------------------------

/** Which stage found the problem (the order the guard checks in). */
export type ViolationScope = 'input' | 'hard' | 'device' | 'protocol' | 'slew';

export interface Violation {
  readonly scope: ViolationScope;
  /** The limit broken: a HARD_LIMITS key, or `device.*`, `protocol.*`, `input.*`. */
  readonly limit: string;
  /** The field at fault, as a path into StimulationParams ("amplitudeMa", "pattern.highHz"). */
  readonly field: string;
  readonly value: number | string;
  /** What would have been accepted, e.g. "<= 20", "1-150", "< 1.85", "= 250". */
  readonly allowed: string;
  readonly unit: string;
  /** CLINICAL.md key (or "device HELLO", "protocol <id>"). */
  readonly source: string;
  /** A sentence with the value, the allowed range, the reason and the source. */
  readonly message: string;
}

export interface Warning {
  readonly limit: string;
  readonly field: string;
  readonly value: number;
  readonly threshold: number;
  readonly unit: string;
  readonly source: string;
  readonly message: string;
}

declare const checkedBrand: unique symbol;

/**
 * A value that passed the guard. It cannot be built outside this module (the brand is a private
 * symbol), its contents are deep-frozen, and `isChecked` recognises the genuine ones at run time.
 */
export interface Checked<T> {
  readonly value: T;
  readonly warnings: readonly Warning[];
  readonly [checkedBrand]: true;
}

export type GuardResult<T> =
  | { readonly ok: true; readonly checked: Checked<T> }
  | { readonly ok: false; readonly violations: readonly Violation[]; readonly warnings: readonly Warning[] };

const issued = new WeakSet<object>();

function issue<T>(value: T, warnings: readonly Warning[]): Checked<T> {
  const checked = deepFreeze({ value, warnings: [...warnings] }) as unknown as Checked<T>;
  issued.add(checked);
  return checked;
}

/** True only for values this module issued (defence against `as Checked<...>` casts elsewhere). */
export function isChecked(x: unknown): x is Checked<unknown> {
  return typeof x === 'object' && x !== null && issued.has(x);
}

/** "field: message", one line, for logs and CLIs. */
export function formatViolation(v: Violation): string {
  return `${v.field}: ${v.message}`;
}

// ---- contexts ------------------------------------------------------------------------------------

/** A live check: the device's limits are required (no HELLO, no stimulation). */
export interface GuardContext {
  readonly device: DeviceLimits;
  /** The active protocol phase; `undefined` only when no protocol is loaded (said explicitly). */
  readonly protocol: ProtocolLimits | undefined;
  /** The needle in use; the charge density is computed for it. */
  readonly electrode: Electrode;
}

/** The last amplitude commanded on the channel and when (the session's monotonic clock, ms). */
export interface CommandedAmplitude {
  readonly amplitudeMa: number;
  readonly atMs: number;
}

export interface AmplitudeContext extends GuardContext {
  /**
   * The last accepted amplitude command on the channel. `undefined` means none yet: the rise is
   * counted from 0 mA at 0 ms, so the session clock must start at 0 when output starts, or the
   * caller passes the START as `{amplitudeMa: 0, atMs}`.
   */
  readonly previous: CommandedAmplitude | undefined;
  /** The parameters running on the channel (pulse width and pattern set the charge density). */
  readonly active: Checked<StimulationParams>;
}

/** File validation: no device, and no `Checked` value comes out. */
export interface PlanContext {
  readonly protocol: ProtocolLimits | undefined;
  readonly electrode: Electrode;
}

export interface PlanResult {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly warnings: readonly Warning[];
}

// ---- entry points --------------------------------------------------------------------------------

/** Checks a complete stimulation state (the SET verb) for live use. */
export function checkStimulation(p: StimulationParams, ctx: GuardContext): GuardResult<StimulationParams> {
  const found = evaluate(p, ctx.electrode, ctx.device, ctx.protocol, true);
  if (found.violations.length > 0) return { ok: false, ...found };
  return { ok: true, checked: issue(copyParams(p), found.warnings) };
}

/** Checks an amplitude change on a running channel (the AMP verb), including the slew limit. */
export function checkAmplitudeChange(change: AmplitudeChange, ctx: AmplitudeContext): GuardResult<AmplitudeChange> {
  const early = amplitudeInputViolations(change, ctx);
  if (early.length > 0) return { ok: false, violations: early, warnings: [] };
  const proposed: StimulationParams = { ...ctx.active.value, amplitudeMa: change.amplitudeMa };
  const found = evaluate(proposed, ctx.electrode, ctx.device, ctx.protocol, true);
  const violations = [...found.violations, ...slewViolations(change, ctx.previous, ctx.protocol)];
  if (violations.length > 0) return { ok: false, violations, warnings: found.warnings };
  const value: AmplitudeChange = { channel: change.channel, amplitudeMa: change.amplitudeMa, atMs: change.atMs };
  return { ok: true, checked: issue(value, found.warnings) };
}

/** The same checks without a device, for protocol files. Never yields a `Checked` value. */
export function checkPlan(p: StimulationParams, ctx: PlanContext): PlanResult {
  const found = evaluate(p, ctx.electrode, undefined, ctx.protocol, false);
  return { ok: found.violations.length === 0, ...found };
}

/**
 * The highest amplitude the slew limit allows at `atMs` after `previous` (0 mA at 0 ms when
 * undefined): what a titration control may offer right now.
 */
export function slewCeilingMa(previous: CommandedAmplitude | undefined, atMs: number, protocol?: ProtocolLimits): number {
  const from = previous ?? { amplitudeMa: 0, atMs: 0 };
  const elapsedS = Math.max(0, atMs - from.atMs) / 1000;
  return from.amplitudeMa + riseRate(protocol).rate * elapsedS;
}

// ---- the pipeline --------------------------------------------------------------------------------

interface Findings {
  readonly violations: readonly Violation[];
  readonly warnings: readonly Warning[];
}

function evaluate(
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

function copyParams(p: StimulationParams): StimulationParams {
  return {
    channel: p.channel,
    pattern: { ...p.pattern },
    pulseWidthUs: p.pulseWidthUs,
    waveform: p.waveform,
    amplitudeMa: p.amplitudeMa,
    durationS: p.durationS,
    rampMaPerS: p.rampMaPerS,
  };
}

// ---- helpers for building violations -------------------------------------------------------------

const atMost = (value: number, max: number) => value <= max + TOLERANCE;
const atLeast = (value: number, min: number) => value >= min - TOLERANCE;
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function symbol(unit: UnitName): string {
  return UNIT_SYMBOL[unit];
}

function inputViolation(field: string, value: unknown, allowed: string, unit: UnitName, message: string): Violation {
  return {
    scope: 'input',
    limit: `input.${field}`,
    field,
    value: typeof value === 'number' ? value : String(value),
    allowed,
    unit: symbol(unit),
    source: 'input',
    message,
  };
}

/** value must be a finite number >= 0 (> 0 when `positive`). */
function numberInput(field: string, value: unknown, unit: UnitName, positive: boolean): Violation[] {
  if (isFiniteNumber(value) && (positive ? value > 0 : value >= 0)) return [];
  const allowed = positive ? '> 0' : '>= 0';
  const shown = isFiniteNumber(value) ? withUnit(value, unit) : String(value);
  const what = positive ? 'a finite number above 0' : 'a finite number, 0 or more';
  return [inputViolation(field, value, allowed, unit, `${shown} is not valid: must be ${what}`)];
}

/** A hard, device or protocol bound broken by `value` (message: value, bound, reason, source). */
function beyond(
  scope: ViolationScope,
  limit: string,
  field: string,
  value: number,
  bound: { readonly side: Side; readonly value: number; readonly allowed: string },
  unit: UnitName,
  what: string,
  source: string,
): Violation {
  return { scope, limit, field, value, allowed: bound.allowed, unit: symbol(unit), source, message: beyondMessage(value, bound.side, bound.value, unit, what, source) };
}

/** Checks `value` against a min/max pair of hard limits. */
function hardRange(field: string, value: number, min: Limit, max: Limit, what: string): Violation[] {
  const allowed = rangeText(min.value, max.value);
  const side: Side | undefined = !atLeast(value, min.value) ? 'below' : !atMost(value, max.value) ? 'above' : undefined;
  if (side === undefined) return [];
  const bound = side === 'above' ? max : min;
  return [{ scope: 'hard', limit: bound.key, field, value, allowed, unit: symbol(bound.unit), source: bound.source, message: hardRangeMessage(value, side, min, max, what) }];
}

function hardMax(field: string, value: number, max: Limit, what: string): Violation[] {
  if (atMost(value, max.value)) return [];
  return [{ scope: 'hard', limit: max.key, field, value, allowed: `<= ${formatNumber(max.value)}`, unit: symbol(max.unit), source: max.source, message: hardMaxMessage(value, max, what) }];
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
    out.push(inputViolation('waveform', p.waveform, WAVEFORMS.join(' | '), 'none', `'${String(p.waveform)}' is not a charge-balanced biphasic waveform (${WAVEFORMS.join(', ')}) [CLINICAL.md: waveform]`));
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

function missingDevice(): Violation {
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
    out.push({
      limit: warnK.key,
      field: 'amplitudeMa',
      value: round2(dose.shannonK),
      threshold: warnK.value,
      unit: '',
      source: warnK.source,
      message: `Shannon k ${dose.shannonK.toFixed(2)} at ${withUnit(p.amplitudeMa, 'mA')} is above ${formatNumber(warnK.value)}: the charge density is getting close to the ${formatNumber(HARD_LIMITS.shannonKBlock.value)} threshold [${warnK.source}]`,
    });
  }
  const warnRms = HARD_LIMITS.rmsDensityWarnMaPerCm2;
  if (dose.rmsDensityMaPerCm2 > warnRms.value + TOLERANCE) {
    out.push({
      limit: warnRms.key,
      field: 'amplitudeMa',
      value: dose.rmsDensityMaPerCm2,
      threshold: warnRms.value,
      unit: symbol(warnRms.unit),
      source: warnRms.source,
      message: `RMS current density ${withUnit(dose.rmsDensityMaPerCm2, 'mA/cm2', 2)} at ${withUnit(p.amplitudeMa, 'mA')} is above ${withUnit(warnRms.value, 'mA/cm2')}: the electrode needs the operator's special attention [${warnRms.source}]`,
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
    ...deviceRange('amplitudeMa', p.amplitudeMa, d.amplitudeMa, 'mA', 'amplitude'),
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

function amplitudeInputViolations(change: AmplitudeChange, ctx: AmplitudeContext): Violation[] {
  const out = [...numberInput('amplitudeMa', change.amplitudeMa, 'mA', false), ...numberInput('atMs', change.atMs, 'ms', false)];
  if (!isChecked(ctx.active)) {
    out.push(inputViolation('active', 'unchecked', 'Checked parameters', 'none', 'the active parameters were not issued by the guard'));
    return out;
  }
  if (change.channel !== ctx.active.value.channel) {
    out.push(inputViolation('channel', change.channel, `= ${ctx.active.value.channel}`, 'channel', `channel ${String(change.channel)} is not the channel of the active parameters (${ctx.active.value.channel})`));
  }
  const prev = ctx.previous;
  if (prev !== undefined) {
    out.push(...numberInput('previous.amplitudeMa', prev.amplitudeMa, 'mA', false), ...numberInput('previous.atMs', prev.atMs, 'ms', false));
    if (isFiniteNumber(prev.atMs) && isFiniteNumber(change.atMs) && change.atMs < prev.atMs) {
      out.push(inputViolation('atMs', change.atMs, `>= ${formatNumber(prev.atMs)}`, 'ms', `${withUnit(change.atMs, 'ms')} is before the previous command at ${withUnit(prev.atMs, 'ms')}: time must not go backwards`));
    }
  }
  return out;
}

function riseRate(protocol: ProtocolLimits | undefined): { rate: number; limit: string; source: string } {
  const hard = HARD_LIMITS.amplitudeRiseMaxMaPerS;
  if (protocol && protocol.rampMaPerS < hard.value) {
    return { rate: protocol.rampMaPerS, limit: 'protocol.rampMaPerS', source: `protocol ${protocol.protocolId}, phase ${protocol.phaseIndex + 1}` };
  }
  return { rate: hard.value, limit: hard.key, source: hard.source };
}

function slewViolations(change: AmplitudeChange, previous: CommandedAmplitude | undefined, protocol: ProtocolLimits | undefined): Violation[] {
  const from = previous ?? { amplitudeMa: 0, atMs: 0 };
  const ceiling = slewCeilingMa(previous, change.atMs, protocol);
  if (atMost(change.amplitudeMa, ceiling)) return [];
  const { rate, limit, source } = riseRate(protocol);
  const elapsedS = (change.atMs - from.atMs) / 1000;
  return [
    {
      scope: 'slew',
      limit,
      field: 'amplitudeMa',
      value: change.amplitudeMa,
      allowed: `<= ${formatNumber(ceiling)}`,
      unit: symbol('mA'),
      source,
      message: `raising from ${withUnit(from.amplitudeMa, 'mA')} to ${withUnit(change.amplitudeMa, 'mA')} in ${withUnit(elapsedS, 's')} is faster than ${withUnit(rate, 'mA/s')}; at most ${withUnit(ceiling, 'mA')} now (raise slowly so the patient is not startled and needles are not bent) [${source}]`,
    },
  ];
}
