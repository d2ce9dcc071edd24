/**
 * Recording an outcome: the values a clinician enters, checked against the instrument (every score
 * named, in range and on the instrument's step; PSFS activities counted and rated), and the change
 * between two recordings judged against the score's MCID in its direction of improvement.
 */
import { formatNumber } from '../units.js';
import type { InstrumentScore } from './schema.js';
import type { Instrument } from './validate.js';

/** The most characters of a patient-named activity (PSFS): a few words, never a note. */
export const ACTIVITY_MAX_CHARS = 80;

export interface OutcomeInput {
  /** Score id -> value (single and score-only forms). */
  readonly scores?: Readonly<Record<string, number>>;
  /** The patient's activities and their ratings (patient-items form). */
  readonly items?: readonly { readonly activity: string; readonly rating: number }[];
}

/** A recorded outcome, with the instrument it was recorded on (id, version, content hash). */
export interface OutcomeValue {
  readonly instrumentId: string;
  readonly instrumentVersion: string;
  readonly instrumentHash: string;
  readonly scores: Readonly<Record<string, number>>;
  readonly items?: readonly { readonly activity: string; readonly rating: number }[];
}

export interface OutcomeProblem {
  /** e.g. "scores.total" or "items[1].rating". */
  readonly path: string;
  readonly message: string;
}

export type OutcomeResult = { readonly ok: true; readonly value: OutcomeValue } | { readonly ok: false; readonly problems: readonly OutcomeProblem[] };

function onStep(value: number, min: number, step: number): boolean {
  const k = (value - min) / step;
  return Math.abs(k - Math.round(k)) < 1e-6;
}

function checkValue(value: unknown, s: Pick<InstrumentScore, 'min' | 'max' | 'step' | 'name'>, step: number, what: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${what} must be a number from ${formatNumber(s.min)} to ${formatNumber(s.max)}`;
  if (value < s.min || value > s.max) return `${formatNumber(value)} is outside ${formatNumber(s.min)}-${formatNumber(s.max)}, the range of ${what}`;
  if (!onStep(value, s.min, step)) return `${formatNumber(value)} is not on the ${formatNumber(step)} steps of ${what}`;
  return undefined;
}

/** Check the values entered for one instrument and make the recorded outcome. */
export function recordOutcome(instrument: Instrument, input: OutcomeInput): OutcomeResult {
  const problems: OutcomeProblem[] = [];
  const scores: Record<string, number> = {};
  const base = { instrumentId: instrument.id, instrumentVersion: instrument.version, instrumentHash: instrument.hash };
  const label = (s: InstrumentScore) => `${instrument.name} ${s.name}`.trim();

  if (instrument.form.kind === 'patient-items') {
    const form = instrument.form;
    const score = instrument.scores[0]!;
    if (input.scores !== undefined && Object.keys(input.scores).length > 0) problems.push({ path: 'scores', message: `${instrument.name} is scored from the activities' ratings: give items, not scores` });
    const items = input.items ?? [];
    if (items.length < form.minItems || items.length > form.maxItems) {
      problems.push({ path: 'items', message: `${instrument.name} takes ${form.minItems === form.maxItems ? form.minItems : `${form.minItems}-${form.maxItems}`} activities, not ${items.length}` });
    }
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const activity = typeof item.activity === 'string' ? item.activity.trim() : '';
      if (activity === '' || activity.length > ACTIVITY_MAX_CHARS) problems.push({ path: `items[${i}].activity`, message: `name the activity in 1-${ACTIVITY_MAX_CHARS} characters` });
      else if (seen.has(activity.toLowerCase())) problems.push({ path: `items[${i}].activity`, message: `"${activity}" is named twice` });
      seen.add(activity.toLowerCase());
      const bad = checkValue(item.rating, score, form.itemStep, `the rating of "${activity || `activity ${i + 1}`}"`);
      if (bad) problems.push({ path: `items[${i}].rating`, message: bad });
    });
    if (problems.length > 0) return { ok: false, problems };
    const mean = items.reduce((sum, it) => sum + it.rating, 0) / items.length;
    scores[score.id] = Number((Math.round(mean / score.step) * score.step).toFixed(6));
    return { ok: true, value: { ...base, scores, items: items.map((it) => ({ activity: it.activity.trim(), rating: it.rating })) } };
  }

  if (input.items !== undefined && input.items.length > 0) problems.push({ path: 'items', message: `${instrument.name} has no patient-named activities: give its scores` });
  const given = input.scores ?? {};
  for (const key of Object.keys(given)) {
    if (!instrument.scores.some((s) => s.id === key)) problems.push({ path: `scores.${key}`, message: `${instrument.name} has no score "${key}"; its scores: ${instrument.scores.map((s) => s.id).join(', ')}` });
  }
  for (const s of instrument.scores) {
    const value = given[s.id];
    if (value === undefined) continue;
    const bad = checkValue(value, s, s.step, label(s));
    if (bad) problems.push({ path: `scores.${s.id}`, message: bad });
    else scores[s.id] = value;
  }
  const primary = instrument.scores[0]!;
  if (instrument.form.kind === 'single' && given[primary.id] === undefined) problems.push({ path: `scores.${primary.id}`, message: `${label(primary)} is missing` });
  if (instrument.form.kind === 'score-only' && Object.keys(given).length === 0) problems.push({ path: 'scores', message: `record at least one score of ${instrument.name} (${instrument.scores.map((s) => s.id).join(', ')})` });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { ...base, scores } };
}

/** A change of one score between two recordings, in the instrument's direction of improvement. */
export interface ScoreChange {
  readonly scoreId: string;
  readonly from: number;
  readonly to: number;
  /** to - from, as recorded. */
  readonly change: number;
  /** The change with its sign turned so that positive is better. */
  readonly improvement: number;
  readonly mcid: number | null;
  /** improvement >= mcid (null when the score has no MCID). */
  readonly clinicallyImportant: boolean | null;
  /** "improved by 3 points (MCID 2): clinically important" */
  readonly text: string;
}

export function scoreChange(score: InstrumentScore, from: number, to: number): ScoreChange {
  const change = Number((to - from).toFixed(6));
  const improvement = score.direction === 'lower-is-better' ? -change : change;
  const mcid = score.mcid ?? null;
  const clinicallyImportant = mcid === null ? null : improvement >= mcid - 1e-9;
  const unit = score.unit ?? 'points';
  const amount = `${formatNumber(Math.abs(improvement))} ${unit === 'points' && Math.abs(improvement) === 1 ? 'point' : unit}`;
  const moved = improvement > 0 ? `improved by ${amount}` : improvement < 0 ? `worsened by ${amount}` : 'unchanged';
  const verdict = mcid === null ? 'no MCID recorded for this score' : `MCID ${formatNumber(mcid)}: ${clinicallyImportant ? 'clinically important' : 'below the MCID'}`;
  return { scoreId: score.id, from, to, change, improvement, mcid, clinicallyImportant, text: `${moved} (${verdict})` };
}

/**
 * Scores obtained on a form used elsewhere (a licensed instrument: WOMAC, KOOS, FFI, ODI), as the
 * clinician enters them at a course milestone: the instrument must be score-only (the others are
 * asked in the app itself), the version of their form, when given, must be the instrument's (a
 * score is only comparable within one version), and the scores are checked by `recordOutcome`.
 * Problems name the instrument and, through recordOutcome, the range.
 */
export function recordScoreOnly(instrument: Instrument, input: { readonly version?: string; readonly scores: Readonly<Record<string, number>> }): OutcomeResult {
  if (instrument.form.kind !== 'score-only') {
    return { ok: false, problems: [{ path: 'instrumentId', message: `${instrument.name} is not recorded as a score from a form used elsewhere (its form is ${instrument.form.kind}): record it in its own question` }] };
  }
  if (input.version !== undefined && input.version.trim() !== instrument.version) {
    return { ok: false, problems: [{ path: 'version', message: `${instrument.name} is recorded as version "${instrument.version}", not "${input.version.trim()}": a score is only comparable within one version (add the other version as its own instrument file)` }] };
  }
  return recordOutcome(instrument, { scores: input.scores });
}

/**
 * Whether an instrument suits a course whose protocol treats `regions`: an instrument without
 * regions suits any course; one with regions suits a course that treats one of them.
 */
export function instrumentFits(instrument: Pick<Instrument, 'regions'>, regions: readonly string[]): boolean {
  return instrument.regions === undefined || instrument.regions.some((r) => regions.includes(r));
}
