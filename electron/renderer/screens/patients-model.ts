/**
 * The Patients screen's course timeline as pure functions: one row per session of a course, from
 * the course as the contract gives it (dates, NPRS before/after, adverse effects) joined by session
 * id with the course report's model (`courseReport`, format json: amplitude and charge per channel,
 * stops and alarms, the protocol of each session). The report is read defensively: a report that
 * cannot be read leaves those columns empty ("—"), never the rows the contract gave.
 */
import { ADVERSE_EFFECTS, type CallOutput } from '../../../src/app/contract.js';
import { num } from '../../../src/domain/format.js';

export type Course = CallOutput<'listCourses'>[number];
export type CourseSession = Course['sessions'][number];

export interface ChannelUse {
  readonly channel: number;
  readonly maxMa: number | null;
  readonly chargeUc: number | null;
}

/** What the report adds to a session's line. */
export interface ReportSession {
  readonly sessionId: string;
  readonly protocolId: string | null;
  readonly channels: readonly ChannelUse[];
  readonly stops: readonly string[];
}

export interface TimelineRow {
  readonly number: number;
  readonly sessionId: string;
  readonly date: string | null;
  readonly protocol: string;
  readonly nprsBefore: number | null;
  readonly nprsAfter: number | null;
  readonly channels: readonly ChannelUse[] | null;
  /** null: not asked yet; []: asked, none. */
  readonly adverse: readonly string[] | null;
  readonly stops: readonly string[] | null;
  readonly ended: string;
  readonly milestone: boolean;
  /** Milestone measures in words: "GROC +3", "WOMAC Osteoarthritis Index (LK3.1 (Likert)): Total 40 (0-96)". */
  readonly measures: readonly string[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
const numOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The sessions of a course report's JSON (renderCourseJson), or an empty list when it cannot be read. */
export function reportSessions(json: string): ReportSession[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.sessions)) return [];
  return parsed.sessions.filter(isRecord).flatMap((s) => {
    if (typeof s.sessionId !== 'string') return [];
    const channels = Array.isArray(s.channels)
      ? s.channels.filter(isRecord).flatMap((c) => (typeof c.channel === 'number' ? [{ channel: c.channel, maxMa: numOrNull(c.maxMa), chargeUc: numOrNull(c.chargeUc) }] : []))
      : [];
    const stops = Array.isArray(s.stops) ? s.stops.filter((x): x is string => typeof x === 'string') : [];
    return [{ sessionId: s.sessionId, protocolId: typeof s.protocolId === 'string' ? s.protocolId : null, channels, stops }];
  });
}

/** "soreness (mild)", "other: dizziness (moderate)". */
export function adverseText(e: NonNullable<CourseSession['adverseEffects']>[number]): string {
  const kind = ADVERSE_EFFECTS.text[e.kind];
  return `${e.kind === 'other' ? `other: ${e.text ?? ''}` : `${kind}${e.text ? `: ${e.text}` : ''}`} (${e.severity})`;
}

const signed = (v: number): string => (v > 0 ? `+${v}` : String(v));

/**
 * One recorded measure in words. GROC and PSFS are the app's own questions (short forms); any
 * other is named with its version, and each score with its range, as the clinician entered it.
 */
export function measureText(m: CourseSession['measures'][number]): string {
  const value = (x: (typeof m.scores)[number]) => `${x.value}${x.unit === '%' ? ' %' : ''}`;
  if (m.instrumentId === 'groc') return `GROC ${m.scores[0] ? signed(m.scores[0].value) : '—'}`;
  if (m.instrumentId === 'psfs') return `PSFS mean ${m.scores[0] ? value(m.scores[0]) : '—'}`;
  const scores = m.scores.map((x) => `${x.name} ${value(x)}${x.min !== null && x.max !== null ? ` (${x.min}-${x.max})` : ''}`).join(', ');
  return `${m.name} (${m.version}): ${scores}`;
}

function endedText(s: CourseSession): string {
  if (s.endReason !== null) return s.endReason;
  return s.startedAt === null ? 'not started' : 'not ended';
}

/** The timeline of a course, oldest session first. */
export function timeline(course: Course, report: readonly ReportSession[] | undefined): TimelineRow[] {
  const byId = new Map((report ?? []).map((r) => [r.sessionId, r]));
  return [...course.sessions]
    .sort((a, b) => a.number - b.number)
    .map((s) => {
      const r = byId.get(s.sessionId);
      const protocolId = r?.protocolId ?? course.protocol.id;
      return {
        number: s.number,
        sessionId: s.sessionId,
        date: s.startedAt,
        protocol: protocolId === course.protocol.id ? course.protocol.name : protocolId,
        nprsBefore: s.nprsBefore,
        nprsAfter: s.nprsAfter,
        channels: r ? r.channels : null,
        adverse: s.adverseEffects === null ? null : s.adverseEffects.map(adverseText),
        stops: r ? r.stops : null,
        ended: endedText(s),
        milestone: s.milestone,
        measures: s.measures.map(measureText),
      };
    });
}

/** uPlot's columns for pain over the course: x = session number, then NPRS before and after. */
export function nprsColumns(rows: readonly TimelineRow[]): [number[], (number | null)[], (number | null)[]] {
  return [rows.map((r) => r.number), rows.map((r) => r.nprsBefore), rows.map((r) => r.nprsAfter)];
}

/** uPlot's columns for amplitude per session: x = session number, then the highest mA per channel. */
export function amplitudeColumns(rows: readonly TimelineRow[]): { channels: number[]; columns: (number | null)[][] } {
  const channels = [...new Set(rows.flatMap((r) => (r.channels ?? []).map((c) => c.channel)))].sort((a, b) => a - b);
  const columns: (number | null)[][] = [rows.map((r) => r.number)];
  for (const ch of channels) columns.push(rows.map((r) => r.channels?.find((c) => c.channel === ch)?.maxMa ?? null));
  return { channels, columns };
}

/** "Sessions 2 of 10", the next due date or why there is none. */
export function courseProgress(c: Course): string {
  const done = `${c.sessionsDone} of ${c.plannedSessions} ${c.plannedSessions === 1 ? 'session' : 'sessions'} done`;
  if (c.status === 'stopped') return `${done}; stopped${c.statusReason ? `: ${c.statusReason}` : ''}`;
  if (c.status === 'completed') return `${done}; completed`;
  return `${done}; next due ${c.nextDue ?? '—'}`;
}

export function statusText(c: Course): string {
  return c.status === 'stopped' && c.statusReason ? `stopped (${c.statusReason})` : c.status;
}

/** A file name for a course export: "course-C20250314-7KQ2MD.fhir.json". */
export function exportFileName(courseId: string, format: 'csv' | 'fhir' | 'html'): string {
  return `course-${courseId}.${format === 'fhir' ? 'fhir.json' : format}`;
}

/**
 * Why a score typed for a licensed instrument cannot be recorded (not a number, out of its range,
 * off its step), in words, or undefined; the core checks it again (recordScoreOnly).
 */
export function licensedScoreProblem(v: number, sc: Pick<CallOutput<'courseInstruments'>[number]['scores'][number], 'min' | 'max' | 'step' | 'unit'>): string | undefined {
  const range = `${num(sc.min)}-${num(sc.max)} ${sc.unit}`;
  if (!Number.isFinite(v)) return `give a number, ${range}.`;
  if (v < sc.min || v > sc.max) return `${num(v)} is outside its range, ${range}.`;
  const steps = (v - sc.min) / sc.step;
  if (Math.abs(steps - Math.round(steps)) > 1e-9) return `${num(v)} is not in steps of ${num(sc.step)} (${range}).`;
  return undefined;
}

/** The decimals a step is written with (0.1 -> 1), for a score's field. */
export function stepDecimals(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot === -1 ? 0 : text.length - dot - 1;
}
