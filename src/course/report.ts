/**
 * The course report: a course of treatment as a clinical note, generated from the course store and
 * the session journals alone, so it can be rebuilt at any time. It says who (the pseudonymous
 * patient reference), what (indication, protocol and its content hash, the planned course), each
 * session's line (date, NPRS before and after, amplitude and delivered charge per channel, adverse
 * effects, stops and alarms), the outcome changes against their MCID, the adverse events, and the
 * aftercare advice. Every journal is read again and checked: a missing, changed or damaged journal
 * is said at the top, never hidden.
 *
 * `buildCourseReport` makes the plain model (every number comes from here); the renderers write
 * it as Markdown, HTML, JSON, CSV or a FHIR R4 Bundle (course-render.ts, csv.ts, fhir.ts).
 */
import * as path from 'node:path';
import { describeAdverseEffect, type Instrument, type InstrumentScore, type ScoreChange, scoreChange } from '../domain/outcomes/index.js';
import { type JournalReadResult } from '../session/journal.js';
import { type JournalRecordOf, treatedChannels } from '../session/journal-records.js';
import { type TreatedSide, hasAffectedSites, treatedSideText } from '../domain/protocols/treated-side.js';
import { buildReport } from '../session/report.js';
import type { InstrumentLibrary } from './instruments.js';
import { type LinkCheck, checkLink, readJournalFile } from './journal-link.js';
import type { CourseDetail, CourseSession, StoredOutcome } from './store.js';

export const COURSE_REPORT_FORMAT = 'edn-course-report/1';

export interface CourseReportChannel {
  readonly channel: number;
  readonly region: string | null;
  readonly side: string | null;
  readonly maxMa: number | null;
  readonly meanMa: number | null;
  readonly chargeUc: number | null;
  readonly basis: 'measured' | 'commanded' | 'none';
}

export interface CourseReportOutcome {
  readonly timepoint: StoredOutcome['timepoint'];
  readonly instrumentId: string;
  readonly instrumentName: string;
  readonly instrumentVersion: string;
  readonly recordedAt: string;
  readonly scores: readonly { readonly id: string; readonly name: string; readonly value: number; readonly unit: string }[];
  readonly items: readonly { readonly activity: string; readonly rating: number }[] | null;
}

export interface CourseReportSession {
  readonly number: number;
  readonly sessionId: string;
  readonly journalFile: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** completed, stopped, aborted, or null when the journal has no end (the session was cut). */
  readonly endReason: string | null;
  readonly endDetail: string | null;
  readonly milestone: boolean;
  readonly protocolId: string;
  readonly protocolHash: string;
  readonly stimulationS: number | null;
  readonly nprsBefore: number | null;
  readonly nprsAfter: number | null;
  readonly channels: readonly CourseReportChannel[];
  /** Device, as the journal names it: "EDN-SIM 1.0.0 (serial SIM-000123, simulator)". */
  readonly device: string | null;
  /** The treated side chosen for the protocol's "affected" channels (null: fixed sides, or a journal from before it was asked). */
  readonly treatedSide: TreatedSide | null;
  /** The side in words for the timeline: "right", "both sides (bilateral)", "fixed by the protocol", "not recorded". */
  readonly sideText: string;
  /** Body sites, each on its treated side ("right" knee; "affected" in a journal from before the side was asked). */
  readonly sites: readonly { readonly region: string; readonly side: string; readonly sites: readonly string[] }[];
  /** null: never asked; []: asked, none. */
  readonly adverseEffects: readonly string[] | null;
  readonly adverseEffectsRaw: CourseSession['adverseEffects'];
  /** Stops, faults, e-stops and high alarms, in words with the time into the session. */
  readonly stops: readonly string[];
  readonly outcomes: readonly CourseReportOutcome[];
  readonly journal: { readonly link: LinkCheck; readonly intact: boolean | null };
}

export interface CourseReportChange {
  readonly instrumentId: string;
  readonly instrumentName: string;
  readonly scoreId: string;
  readonly scoreName: string;
  /** What is compared, in words: "before the session, session 1 to session 3". */
  readonly basis: string;
  readonly fromSession: number;
  readonly toSession: number;
  readonly change: ScoreChange;
}

export interface CourseReport {
  readonly format: typeof COURSE_REPORT_FORMAT;
  readonly generatedAt: string;
  readonly patientRef: string;
  readonly course: {
    readonly id: string;
    readonly indication: string;
    readonly protocol: { readonly id: string; readonly name: string; readonly hash: string };
    readonly plannedSessions: number;
    readonly intervalDays: number;
    readonly startDate: string;
    readonly status: string;
    readonly statusReason: string | null;
    readonly sessionsDone: number;
    readonly nextDue: string | null;
    readonly notes: CourseDetail['notes'];
  };
  readonly sessions: readonly CourseReportSession[];
  readonly changes: readonly CourseReportChange[];
  readonly adverseEvents: readonly { readonly session: number; readonly at: string; readonly text: string; readonly severity: string; readonly kind: string }[];
  readonly aftercare: string | null;
  /** Sentences for the reader, most serious first; empty when every journal is present and intact. */
  readonly notices: readonly string[];
}

const NPRS = 'nprs';

function sessionLine(dataDir: string, s: CourseSession, instruments: InstrumentLibrary, notices: string[]): { line: CourseReportSession; aftercare: string | null } {
  const file = path.join(dataDir, s.journalFile);
  const link = s.journal.bytes === 0 ? 'grown' : checkLink(file, s.journal);
  let read: JournalReadResult | undefined;
  if (link !== 'missing') {
    try {
      read = readJournalFile(file).read;
    } catch {
      read = undefined;
    }
  }
  if (link === 'missing' || read === undefined) notices.push(`Session ${s.number}: its journal ${s.journalFile} is missing: the line shows what the course store recorded.`);
  if (link === 'changed') notices.push(`Session ${s.number}: its journal ${s.journalFile} is no longer what the course recorded (its beginning changed): check it before relying on this line.`);
  const model = read ? buildReport(read) : undefined;
  if (model?.integrity.damaged) notices.push(`Session ${s.number}: ${model.integrity.notices[0] ?? 'its journal is damaged'}`);
  const start = read?.records.find((r): r is JournalRecordOf<'session-start'> => r.type === 'session-start');
  const outcomes = s.outcomes.map((o): CourseReportOutcome => {
    const ins = instruments.get(o.instrumentId);
    return {
      timepoint: o.timepoint,
      instrumentId: o.instrumentId,
      instrumentName: ins?.name ?? o.instrumentId,
      instrumentVersion: o.instrumentVersion,
      recordedAt: o.recordedAt,
      scores: Object.entries(o.scores).map(([id, value]) => {
        const sc = ins?.scores.find((x) => x.id === id);
        return { id, name: sc?.name ?? id, value, unit: sc?.unit ?? 'points' };
      }),
      items: o.items,
    };
  });
  const nprs = (timepoint: 'before' | 'after') => s.outcomes.filter((o) => o.instrumentId === NPRS && o.timepoint === timepoint).at(-1)?.scores['score'] ?? null;
  const stops = (model?.events ?? [])
    .filter((e) => e.severity === 'alarm' && e.kind !== 'session-end')
    .map((e) => `${formatMinSec(e.atS)} ${e.text}`);
  const device = start ? `${start.data.device.model} ${start.data.device.firmware} (serial ${start.data.device.serial}, ${start.data.device.transport})` : null;
  return {
    aftercare: model?.aftercare ?? null,
    line: {
      number: s.number,
      sessionId: s.sessionId,
      journalFile: s.journalFile,
      startedAt: s.startedAt ?? model?.session.startedIso ?? null,
      endedAt: s.endedAt,
      endReason: model?.end?.reason ?? s.endReason,
      endDetail: model?.end?.detail ?? null,
      milestone: s.milestone,
      protocolId: s.protocolId,
      protocolHash: s.protocolHash,
      stimulationS: model ? model.stimulation.totalS : s.stimulationS,
      nprsBefore: nprs('before'),
      nprsAfter: nprs('after'),
      channels: (model?.channels ?? []).map((c) => ({ channel: c.channel, region: c.region, side: c.side, maxMa: c.maxMa, meanMa: c.meanMa, chargeUc: c.chargeUc, basis: c.basis })),
      device,
      treatedSide: start?.data.side ?? null,
      sideText: start === undefined ? 'unknown' : start.data.side !== undefined ? treatedSideText(start.data.side) : hasAffectedSites(start.data.protocol) ? 'not recorded' : 'fixed by the protocol',
      sites: start ? treatedChannels(start.data).map((c) => ({ region: c.region, side: c.side, sites: c.sites })) : [],
      adverseEffects: s.adverseEffects === null ? null : s.adverseEffects.map(describeAdverseEffect),
      adverseEffectsRaw: s.adverseEffects,
      stops,
      outcomes,
      journal: { link, intact: read ? read.ok : null },
    },
  };
}

/** Changes of each instrument's scores over the course: the first recording to the last. */
function changesOf(sessions: readonly CourseSession[], instruments: InstrumentLibrary): CourseReportChange[] {
  const out: CourseReportChange[] = [];
  type Point = { session: number; value: number };
  const series = new Map<string, { ins: Instrument; score: InstrumentScore; basis: string; points: Point[] }>();
  for (const s of sessions) {
    for (const o of s.outcomes) {
      const ins = instruments.get(o.instrumentId);
      if (!ins) continue;
      // NPRS: compare like with like (before with before); other instruments: every recording.
      const basis = o.instrumentId === NPRS ? (o.timepoint === 'before' ? 'before the session' : o.timepoint === 'after' ? 'after the session' : 'at a milestone') : 'at the milestones';
      for (const [scoreId, value] of Object.entries(o.scores)) {
        const score = ins.scores.find((x) => x.id === scoreId);
        if (!score) continue;
        const key = `${ins.id}\u0000${scoreId}\u0000${basis}`;
        const entry = series.get(key) ?? { ins, score, basis, points: [] };
        const last = entry.points.at(-1);
        if (last?.session === s.number) last.value = value;
        else entry.points.push({ session: s.number, value });
        series.set(key, entry);
      }
    }
  }
  for (const { ins, score, basis, points } of series.values()) {
    if (points.length < 2) continue;
    const first = points[0]!;
    const last = points.at(-1)!;
    out.push({
      instrumentId: ins.id,
      instrumentName: ins.name,
      scoreId: score.id,
      scoreName: score.name,
      basis: `${basis}, session ${first.session} to session ${last.session}`,
      fromSession: first.session,
      toSession: last.session,
      change: scoreChange(score, first.value, last.value),
    });
  }
  return out;
}

export function buildCourseReport(dataDir: string, course: CourseDetail, instruments: InstrumentLibrary, now: Date = new Date()): CourseReport {
  const notices: string[] = [];
  let aftercare: string | null = null;
  const sessions = course.sessions.map((s) => {
    const { line, aftercare: a } = sessionLine(dataDir, s, instruments, notices);
    aftercare = a ?? aftercare;
    if (line.endReason === null) notices.push(`Session ${s.number} has no end in its journal: it was cut short (the program or computer stopped).`);
    return line;
  });
  const adverseEvents = sessions.flatMap((s) =>
    (s.adverseEffectsRaw ?? []).map((e) => ({ session: s.number, at: s.endedAt ?? s.startedAt ?? '', text: describeAdverseEffect(e), severity: e.severity, kind: e.kind })),
  );
  const hashes = new Set(sessions.map((s) => s.protocolHash));
  if (hashes.size > 1) notices.push(`The sessions ran ${hashes.size} versions of the protocol (content hashes differ): see each session's hash.`);
  return {
    format: COURSE_REPORT_FORMAT,
    generatedAt: now.toISOString(),
    patientRef: course.patientRef,
    course: {
      id: course.id,
      indication: course.indication,
      protocol: course.protocol,
      plannedSessions: course.plannedSessions,
      intervalDays: course.intervalDays,
      startDate: course.startDate,
      status: course.status,
      statusReason: course.statusReason,
      sessionsDone: course.sessionsDone,
      nextDue: course.nextDue,
      notes: course.notes,
    },
    sessions,
    changes: changesOf(course.sessions, instruments),
    adverseEvents,
    aftercare,
    notices,
  };
}

function formatMinSec(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
