/**
 * Numbers, times and states as a clinician reads them: the one formatting module of the live screen
 * (electron/renderer) and the session report (src/session/report*.ts), so the two never disagree
 * (the screen showed "5:07" and the report "05:07" before, issue 10 §3). Every number with its unit,
 * fixed decimals where a change matters (amplitude to 0.1 mA), times as m:ss. Pure functions.
 */
import { UNIT_SYMBOL, formatNumber } from './units.js';
import { sidedRegionText } from './protocols/treated-side.js';

/** A unit name of the core (contract figures, limits: "us", "uC/cm2") as printed ("µs", "µC/cm²"); anything else as it is. */
export function unitText(unit: string): string {
  return (UNIT_SYMBOL as Readonly<Record<string, string>>)[unit] ?? unit;
}

/** A number with at most `decimals` decimals, trailing zeros dropped ("0.3", "40", "1.25"); "—" when not finite. */
export function num(value: number, decimals = 3): string {
  return Number.isFinite(value) ? formatNumber(value, decimals) : '—';
}

/** A value with its unit: "250 µs", "1.85" (Shannon k has no unit). */
export function withUnitText(value: number, unit: string, decimals = 3): string {
  const u = unitText(unit);
  return u ? `${num(value, decimals)} ${u}` : num(value, decimals);
}

/** Amplitude, always one decimal: "4.2 mA"; "— mA" when unknown. */
export function ma(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '— mA' : `${value.toFixed(1)} mA`;
}

function hms(s: number): string {
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

/** Elapsed seconds as a clock, whole seconds passed: "5:07", "12:34"; h:mm:ss from an hour ("1:02:05"). */
export function clock(seconds: number): string {
  return hms(Math.max(0, Math.floor(seconds)));
}

/**
 * Seconds remaining as the same clock, counted up to the next whole second, so a countdown reads
 * "0:00" only once nothing remains (it never says done while output is still on).
 */
export function countdown(seconds: number): string {
  return hms(Math.max(0, Math.ceil(seconds - 1e-9)));
}

/** A duration in words: "20 min", "45 s", "1 min 30 s", "1 h 2 min 5 s", "0 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [h > 0 ? `${h} h` : '', m > 0 ? `${m} min` : '', rest > 0 || s === 0 ? `${rest} s` : ''].filter(Boolean);
  return parts.join(' ');
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

/** "right knee", "left low back", "low back (midline)", "knee (affected side)" (treated-side.ts). */
export function placement(region: string, side: string): string {
  return sidedRegionText(region, side);
}

/** An ISO date-time as local "2025-03-04 14:05", or "—". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Session states in words (the states of src/session/states.ts). */
const STATE_TEXT: Readonly<Record<string, string>> = {
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
