/**
 * Units of the domain as branded numbers.
 *
 * A `Ma` is a number that is known to be milliamperes; passing a pulse width where an amplitude is
 * expected is a type error. The brands exist only at compile time: at run time they are plain
 * numbers, so arithmetic, JSON and comparisons work as usual. Records that cross a boundary
 * (StimulationParams, protocol files, wire messages) use plain numbers in clearly named fields
 * (`amplitudeMa`, `pulseWidthUs`); the physics functions take branded values so that their
 * positional arguments cannot be swapped.
 *
 * Conventions [docs/CLINICAL.md#conventions]:
 * - pulse width is the width of ONE phase of a biphasic pulse, in microseconds;
 * - amplitude is the peak current of a current-controlled output, in milliamperes;
 * - charge per phase in microcoulombs: Q [µC] = I [mA] x pw [µs] / 1000.
 */

/** A number that carries its unit in its type. */
export type Quantity<U extends string> = number & { readonly __unit: U };

/** Peak current, milliamperes. */
export type Ma = Quantity<'mA'>;
/** Duration of one phase of a biphasic pulse, microseconds. */
export type Us = Quantity<'us'>;
/** Frequency (pulses or bursts per second), hertz. */
export type Hz = Quantity<'Hz'>;
/** Time, seconds. */
export type S = Quantity<'s'>;
/** Time, milliseconds. */
export type Ms = Quantity<'ms'>;
/** Length, millimetres. */
export type Mm = Quantity<'mm'>;
/** Area, square centimetres. */
export type Cm2 = Quantity<'cm2'>;
/** Resistance, kiloohms. */
export type KOhm = Quantity<'kOhm'>;
/** Charge, microcoulombs. */
export type Uc = Quantity<'uC'>;
/** Charge density, microcoulombs per square centimetre. */
export type UcPerCm2 = Quantity<'uC/cm2'>;
/** Current density, milliamperes per square centimetre. */
export type MaPerCm2 = Quantity<'mA/cm2'>;
/** Slew rate of the amplitude, milliamperes per second. */
export type MaPerS = Quantity<'mA/s'>;
/** Energy, millijoules. */
export type Mj = Quantity<'mJ'>;
/** Power, milliwatts. */
export type Mw = Quantity<'mW'>;
/** Voltage, volts. */
export type V = Quantity<'V'>;

/* Constructors: the only place a bare number becomes a unit. They do not validate; the guard does. */
export const ma = (n: number): Ma => n as Ma;
export const us = (n: number): Us => n as Us;
export const hz = (n: number): Hz => n as Hz;
export const s = (n: number): S => n as S;
export const ms = (n: number): Ms => n as Ms;
export const mm = (n: number): Mm => n as Mm;
export const cm2 = (n: number): Cm2 => n as Cm2;
export const kOhm = (n: number): KOhm => n as KOhm;
export const uc = (n: number): Uc => n as Uc;
export const ucPerCm2 = (n: number): UcPerCm2 => n as UcPerCm2;
export const maPerCm2 = (n: number): MaPerCm2 => n as MaPerCm2;
export const maPerS = (n: number): MaPerS => n as MaPerS;
export const mj = (n: number): Mj => n as Mj;
export const mw = (n: number): Mw => n as Mw;
export const v = (n: number): V => n as V;

/** Unit symbols as shown to people (the `unit` field of limits, violations and warnings). */
export const UNIT_SYMBOL = {
  mA: 'mA',
  us: 'µs',
  Hz: 'Hz',
  s: 's',
  min: 'min',
  ms: 'ms',
  mm: 'mm',
  cm2: 'cm²',
  kOhm: 'kΩ',
  ohm: 'Ω',
  uC: 'µC',
  'uC/cm2': 'µC/cm²',
  'mA/cm2': 'mA/cm²',
  'mA/s': 'mA/s',
  mJ: 'mJ',
  mW: 'mW',
  V: 'V',
  k: '',
  pulses: 'pulses',
  percent: '%',
  channel: '',
  none: '',
} as const;

export type UnitName = keyof typeof UNIT_SYMBOL;

/**
 * A number for people: at most `decimals` decimals, trailing zeros removed ("2.5", "20", "0.12").
 * Non-finite values are spelled out so a message never hides them.
 */
export function formatNumber(n: number, decimals = 3): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const fixed = n.toFixed(decimals);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return trimmed === '-0' ? '0' : trimmed;
}

/**
 * `value` and `threshold` at the fewest decimals (at least `min`) at which the words "value is
 * above/below threshold" are true of the numbers shown: "2.004 mA/cm² is above 2 mA/cm²", and,
 * for a value the guard finds above its threshold by less than a display step, "2.0000002 is
 * above 2", never "2 is above 2" (the guard warns at threshold + 1e-9, so two or six decimals are
 * not always enough). When the comparison is false of the numbers themselves, both are shown in
 * full (shortest round-trip form), so the sentence is at least not made to look true by rounding.
 */
export function comparedNumbers(value: number, threshold: number, side: 'above' | 'below', min = 2): { value: string; threshold: string } {
  const holds = (a: number, b: number): boolean => (side === 'above' ? a > b : a < b);
  // Rounding never reverses an order (toFixed is monotonic), so a false comparison never holds of
  // the rounded numbers either and falls through to the full forms; 20 is toFixed's exact range.
  for (let d = min; d <= 20; d++) {
    const v = formatNumber(value, d);
    const t = formatNumber(threshold, d);
    if (holds(Number(v), Number(t))) return { value: v, threshold: t };
  }
  return { value: String(value), threshold: String(threshold) };
}

/** `formatNumber` followed by the unit symbol ("25 mA", "250 µs", "1.52" for the unitless k). */
export function withUnit(n: number, unit: UnitName, decimals = 3): string {
  const symbol = UNIT_SYMBOL[unit];
  return symbol === '' ? formatNumber(n, decimals) : `${formatNumber(n, decimals)} ${symbol}`;
}
