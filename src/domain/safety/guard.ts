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
 *
 * The stages themselves are in checks.ts; violations and their messages in violation.ts.
 */
import type { AmplitudeChange, DeviceLimits, Electrode, ProtocolLimits, StimulationParams } from '../stimulation.js';
import { formatNumber, withUnit } from '../units.js';
import { type CommandedAmplitude, evaluate, slewViolations } from './checks.js';
import { deepFreeze } from './limits.js';
import { type Violation, type Warning, inputViolation, isFiniteNumber, numberInput } from './violation.js';

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
export { type CommandedAmplitude, slewCeilingMa } from './checks.js';
export { type Violation, type ViolationScope, type Warning, formatViolation } from './violation.js';

// ---- the Checked brand ---------------------------------------------------------------------------

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

// ---- contexts ------------------------------------------------------------------------------------

/** A live check: the device's limits are required (no HELLO, no stimulation). */
export interface GuardContext {
  readonly device: DeviceLimits;
  /** The active protocol phase; `undefined` only when no protocol is loaded (said explicitly). */
  readonly protocol: ProtocolLimits | undefined;
  /** The needle in use; the charge density is computed for it. */
  readonly electrode: Electrode;
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

// ---- input of an amplitude change ----------------------------------------------------------------

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
