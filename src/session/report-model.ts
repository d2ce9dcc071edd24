/**
 * The session report's model (what `buildReport` in report.ts computes from a journal) and the
 * formatters every rendering of it shares. It imports no renderer and no builder: report.ts,
 * report-html.ts, report-md.ts and svg-chart.ts all import it, so the report modules form a DAG
 * (a test fails on any import cycle).
 */
import type { ProtocolEvidence } from '../domain/protocols/evidence.js';
import { type TreatedSide, regionText, sidedRegionText } from '../domain/protocols/treated-side.js';
import type { Verification } from '../domain/protocols/user.js';
import { formatNumber } from '../domain/units.js';
import type { JournalProblem } from './journal.js';
import type { RecordType } from './journal-records.js';

export const REPORT_FORMAT = 'edn-session-report/1';

export type ReportFormat = 'html' | 'md' | 'json';
export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'html', 'json'];

export type Severity = 'info' | 'note' | 'warning' | 'alarm';

export interface ReportEvent {
  /** Seconds since the session started (the session-start record). */
  readonly atS: number;
  /** Wall-clock time of the record. */
  readonly iso: string;
  readonly kind: RecordType;
  readonly severity: Severity;
  readonly text: string;
}

export interface ReportSource {
  readonly key: string;
  readonly citation: string;
  readonly doi: string | null;
  readonly registry: string | null;
  readonly pmcid: string | null;
  readonly note: string | null;
  readonly verified: readonly string[];
  readonly unverified: readonly string[];
}

export interface ReportPhase {
  readonly index: number;
  readonly name: string;
  readonly plannedS: number | null;
  readonly stimulationS: number;
  /** "2 Hz continuous, 250 µs, biphasic-symmetric, up to 10 mA" */
  readonly parameters: string | null;
}

export interface ReportChannel {
  readonly channel: number;
  readonly region: string | null;
  readonly side: string | null;
  readonly sites: readonly string[];
  /** Time with a non-zero commanded amplitude, s. */
  readonly outputS: number;
  readonly maxMa: number | null;
  /** Mean measured current while output was on, mA. */
  readonly meanMa: number | null;
  /** Charge delivered on the channel, µC (null when the device reported none). */
  readonly chargeUc: number | null;
  /** Where max and mean come from: the device's measurements, or (without telemetry) what was commanded. */
  readonly basis: 'measured' | 'commanded' | 'none';
}

export interface ChartSeries {
  readonly channel: number;
  /** [minutes since the session started, mA] */
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartModel {
  readonly durationMin: number;
  readonly maxMa: number;
  readonly series: readonly ChartSeries[];
  readonly phaseMarks: readonly { readonly atMin: number; readonly name: string }[];
  readonly pauses: readonly { readonly fromMin: number; readonly toMin: number }[];
}

export interface SessionReport {
  readonly format: typeof REPORT_FORMAT;
  readonly integrity: {
    /** False when the report was built from records alone (the chain was not checked here). */
    readonly checked: boolean;
    readonly path: string | null;
    readonly records: number;
    readonly chainIntact: boolean | null;
    readonly problems: readonly JournalProblem[];
    readonly truncatedTail: { readonly bytes: number; readonly recovered: boolean } | null;
    /** The journal has its session-end record. */
    readonly complete: boolean;
    /** Sentences for the reader, most serious first; empty when all is well. */
    readonly notices: readonly string[];
    /** The notices include a broken chain or invalid records (the report must be read with care). */
    readonly damaged: boolean;
  };
  readonly session: {
    readonly sessionId: string | null;
    readonly patientRef: string | null;
    readonly clinician: string | null;
    /**
     * The treated side chosen for the protocol's "affected" channels; null when the protocol's sides
     * are fixed, or the journal is from before the side was asked (then `treatedSideText` says so).
     */
    readonly treatedSide: TreatedSide | null;
    /** The treated side in words for the reader: "right", "both sides (bilateral)", "not recorded (...)". */
    readonly treatedSideText: string;
    readonly startedIso: string | null;
    readonly endedIso: string | null;
    /** From the first to the last record, s. */
    readonly durationS: number;
    readonly appVersion: string | null;
  };
  readonly protocol: {
    readonly id: string;
    readonly name: string;
    readonly hash: string;
    readonly indication: string;
    readonly electrode: string | null;
    readonly sources: readonly ReportSource[];
    /** Every value with its evidence status in words (src/domain/protocols/evidence.ts), as the app showed it. */
    readonly evidence: ProtocolEvidence;
    /**
     * Whose word the sources' `verified` lists are: `library` for a built-in (this exact version,
     * by content hash), `author` for any other protocol (its author's claim, never shown as verified).
     */
    readonly verification: Verification;
  } | null;
  readonly device: {
    readonly transport: string;
    readonly model: string;
    readonly firmware: string;
    readonly serial: string;
    readonly bootId: string;
    readonly protocolVersion: number;
    readonly channels: number;
    readonly amplitudeMaxMa: number;
    readonly complianceV: number;
    readonly watchdogMs: number;
  } | null;
  readonly screening: {
    readonly status: string;
    /** Relative contraindications found, each with who acknowledged it and when. */
    readonly acknowledged: readonly { readonly finding: string; readonly by: string; readonly at: string }[];
    /** Every answer, the question in words where the app knows it. */
    readonly answers: readonly { readonly question: string; readonly answer: string }[];
  } | null;
  readonly electrodeCheck: readonly { readonly channel: number; readonly impedanceOhm: number | 'OPEN'; readonly ok: boolean; readonly reason: string | null }[] | null;
  readonly chart: ChartModel;
  readonly stimulation: {
    readonly totalS: number;
    readonly plannedS: number | null;
    /** From the session-end record, or computed from the state changes when there is none. */
    readonly basis: 'session-end' | 'computed';
    readonly phases: readonly ReportPhase[];
  };
  readonly channels: readonly ReportChannel[];
  readonly events: readonly ReportEvent[];
  readonly end: { readonly reason: string; readonly detail: string | null; readonly finalState: string } | null;
  readonly aftercare: string | null;
}

/**
 * The report's numbers and times come from the one formatting module the live screen uses
 * (src/domain/format.ts), under the names the report modules have always used.
 */
export { clock as formatElapsed, duration as formatDuration, impedance as formatOhm } from '../domain/format.js';

/** "2025-03-14 09:30:05 UTC" for an ISO UTC time; anything else as it is. */
export function formatWall(iso: string | null): string {
  if (iso === null) return 'unknown';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(iso)) return iso;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export { formatNumber };

/** Where a channel was placed, in words: "right knee", "low back (midline)", "knee" (no side recorded). */
export function channelPlace(c: Pick<ReportChannel, 'region' | 'side'>): string {
  if (c.region === null) return c.side ?? '';
  return c.side === null ? regionText(c.region) : sidedRegionText(c.region, c.side);
}
