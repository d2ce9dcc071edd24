/**
 * The sentences limits are explained in, shared by the guard and the protocol file schema so that
 * a value outside a limit reads the same wherever it is caught:
 *   "25 mA is above the 20 mA ceiling for needle electrodes [docs/CLINICAL.md#amplitude]"
 */
import { type UnitName, UNIT_SYMBOL, formatNumber, withUnit } from '../units.js';
import type { Limit } from './limits.js';

export type Side = 'above' | 'below';

/** "<value> is <side> the <bound> <what> [<source>]". */
export function beyondMessage(value: number, side: Side, bound: number, unit: UnitName, what: string, source: string): string {
  return `${withUnit(value, unit)} is ${side} the ${withUnit(bound, unit)} ${what} [${source}]`;
}

/** "1-150" for a pair of limits. */
export function rangeText(min: number, max: number): string {
  return `${formatNumber(min)}-${formatNumber(max)}`;
}

/** "maximum frequency (allowed 1-150 Hz)". */
export function rangeWhat(side: Side, what: string, min: number, max: number, unit: UnitName): string {
  const symbol = UNIT_SYMBOL[unit];
  return `${side === 'above' ? 'maximum' : 'minimum'} ${what} (allowed ${rangeText(min, max)}${symbol ? ` ${symbol}` : ''})`;
}

/** The message for a value outside a [min, max] pair of hard limits. */
export function hardRangeMessage(value: number, side: Side, min: Limit, max: Limit, what: string): string {
  const bound = side === 'above' ? max : min;
  return beyondMessage(value, side, bound.value, bound.unit, rangeWhat(side, what, min.value, max.value, min.unit), bound.source);
}

/** The message for a value above a single hard limit. */
export function hardMaxMessage(value: number, max: Limit, what: string): string {
  return beyondMessage(value, 'above', max.value, max.unit, what, max.source);
}
