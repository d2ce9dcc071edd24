/**
 * Numbers as a clinician reads them: every number with its unit, fixed decimals where a change
 * matters (amplitude to 0.1 mA), times as minutes:seconds. Pure functions (unit-tested).
 */

/** Unit names used by the core (contract figures, limits) -> what is printed. */
const UNIT_TEXT: Record<string, string> = {
  us: 'µs',
  uC: 'µC',
  'uC/cm2': 'µC/cm²',
  'mA/cm2': 'mA/cm²',
  cm2: 'cm²',
  kOhm: 'kΩ',
  ohm: 'Ω',
  k: '',
};

export function unitText(unit: string): string {
  return UNIT_TEXT[unit] ?? unit;
}

/** A number with at most `decimals` decimals, trailing zeros dropped ("0.3", "40", "1.25"). */
export function num(value: number, decimals = 3): string {
  if (!Number.isFinite(value)) return '—';
  const fixed = value.toFixed(decimals);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** A value with its unit: "250 µs", "1.85" (Shannon k has no unit). */
export function withUnit(value: number, unit: string, decimals = 3): string {
  const u = unitText(unit);
  return u ? `${num(value, decimals)} ${u}` : num(value, decimals);
}

/** Amplitude, always one decimal: "4.2 mA". */
export function ma(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '— mA' : `${value.toFixed(1)} mA`;
}

/** Seconds as m:ss ("12:05"); h:mm:ss from an hour. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** A duration in words for summaries: "20 min", "15 s", "1 min 30 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  const r = s % 60;
  if (m === 0) return `${r} s`;
  return r === 0 ? `${m} min` : `${m} min ${r} s`;
}

/** Impedance: "1.2 kΩ", "850 Ω", "open circuit", "not measured". */
export function impedance(z: number | 'OPEN' | null | undefined): string {
  if (z === 'OPEN') return 'open circuit';
  if (z === null || z === undefined || !Number.isFinite(z)) return 'not measured';
  return z >= 1000 ? `${num(z / 1000, 2)} kΩ` : `${Math.round(z)} Ω`;
}

/** A range with its unit: "1–150 Hz". */
export function range(min: number, max: number, unit: string): string {
  const u = unitText(unit);
  return `${num(min)}–${num(max)}${u ? ` ${u}` : ''}`;
}

/** "knee (affected)", "low back (left)". */
export function placement(region: string, side: string): string {
  return `${region.replace(/-/g, ' ')} (${side})`;
}

/** An ISO date-time as local "2025-03-04 14:05", or "—". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Session states in words. */
const STATE_TEXT: Record<string, string> = {
  idle: 'Not connected',
  connecting: 'Connecting',
  ready: 'Ready',
  screening: 'Screening',
  'checking-electrodes': 'Electrode check',
  ramping: 'Ramping up',
  running: 'Running',
  paused: 'Paused',
  'ramping-down': 'Ramping down',
  completed: 'Completed',
  stopped: 'Stopped',
  aborted: 'Aborted',
};

export function stateText(state: string): string {
  return STATE_TEXT[state] ?? state;
}
