/**
 * What the guard reports: violations (the stimulation is refused) and warnings (it is allowed, and
 * the warning travels with it), and the helpers that build them so every message reads alike.
 */
import { type UnitName, UNIT_SYMBOL, formatNumber, withUnit } from '../units.js';
import { type Limit, TOLERANCE } from './limits.js';
import { type Side, beyondMessage, hardMaxMessage, hardRangeMessage, rangeText } from './messages.js';

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
  /** The section of docs/CLINICAL.md ("docs/CLINICAL.md#amplitude"), or "device HELLO", "protocol <id>". */
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
/** "field: message", one line, for logs and CLIs. */
export function formatViolation(v: Violation): string {
  return `${v.field}: ${v.message}`;
}

// ---- helpers for building violations -------------------------------------------------------------

export const atMost = (value: number, max: number) => value <= max + TOLERANCE;
export const atLeast = (value: number, min: number) => value >= min - TOLERANCE;
export const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function symbol(unit: UnitName): string {
  return UNIT_SYMBOL[unit];
}

export function inputViolation(field: string, value: unknown, allowed: string, unit: UnitName, message: string): Violation {
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
export function numberInput(field: string, value: unknown, unit: UnitName, positive: boolean): Violation[] {
  if (isFiniteNumber(value) && (positive ? value > 0 : value >= 0)) return [];
  const allowed = positive ? '> 0' : '>= 0';
  const shown = isFiniteNumber(value) ? withUnit(value, unit) : String(value);
  const what = positive ? 'a finite number above 0' : 'a finite number, 0 or more';
  return [inputViolation(field, value, allowed, unit, `${shown} is not valid: must be ${what}`)];
}

/** A hard, device or protocol bound broken by `value` (message: value, bound, reason, source). */
export function beyond(
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
export function hardRange(field: string, value: number, min: Limit, max: Limit, what: string): Violation[] {
  const allowed = rangeText(min.value, max.value);
  const side: Side | undefined = !atLeast(value, min.value) ? 'below' : !atMost(value, max.value) ? 'above' : undefined;
  if (side === undefined) return [];
  const bound = side === 'above' ? max : min;
  return [{ scope: 'hard', limit: bound.key, field, value, allowed, unit: symbol(bound.unit), source: bound.source, message: hardRangeMessage(value, side, min, max, what) }];
}

export function hardMax(field: string, value: number, max: Limit, what: string): Violation[] {
  if (atMost(value, max.value)) return [];
  return [{ scope: 'hard', limit: max.key, field, value, allowed: `<= ${formatNumber(max.value)}`, unit: symbol(max.unit), source: max.source, message: hardMaxMessage(value, max, what) }];
}
