/**
 * The session journal's records: one JSON Lines record per line, defined once here as zod schemas
 * (the TypeScript types are inferred from them). The writer (journal.ts) validates every record
 * it is asked to append against these schemas, and the reader validates every line it reads back.
 *
 * A line is `{"n":..,"t":..,"ts":..,"type":..,"data":{..},"prev":".."}`:
 *   n     0-based index of the record in the file;
 *   t     monotonic time on the session clock, ms (never a wall-clock delta);
 *   ts    wall-clock time, ISO-8601 UTC with milliseconds ("2025-03-14T09:30:05.123Z");
 *   type  one of RECORD_TYPES; data is that type's object (strict: an unknown field is an error);
 *   prev  SHA-256 (hex) of the exact text of the previous line (without its newline); for n = 0
 *         the SHA-256 of the empty string. A changed, inserted, deleted or reordered line breaks
 *         the chain where it happened.
 *
 * The data schemas check structure, not safety: a journal records what happened, so an amplitude
 * beyond a limit (a fault, a bug elsewhere) is recorded as it was, never refused. Only the patient
 * reference is held to the domain's rule for a pseudonym, which refuses names, e-mail addresses,
 * phone numbers and dates (UX.md "Records people trust"), and the screening must be this patient's
 * clearance for this exact protocol version.
 */
import * as z from 'zod';
import { REQUEST_VERBS, type RequestVerb } from '../../firmware-protocol/index.js';
import type { Protocol } from '../domain/protocols/derive.js';
import { AdverseEffectSchema } from '../domain/outcomes/adverse.js';
import { TREATED_SIDES, type TreatedSide, resolveSides } from '../domain/protocols/treated-side.js';
import { SCREENING_RECORD_FORMAT, type ScreeningRecord, patientRefProblem } from '../domain/screening.js';
import { DeviceLimitsSchema, WAVEFORMS, type Pattern } from '../domain/stimulation.js';
import { SESSION_STATES } from './states.js';

/** SHA-256 of the empty string: the `prev` of record 0. */
export const GENESIS_PREV = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// ---- field types ---------------------------------------------------------------------------------

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be a SHA-256 as 64 lower-case hex digits' });

/** ISO-8601 UTC with milliseconds, as Date#toISOString writes it. */
export const isoMs = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, { error: 'must be ISO-8601 UTC with milliseconds, e.g. 2025-03-14T09:30:05.123Z' })
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s, { error: 'is not a real date and time' });

const text = (max: number) => z.string().min(1, { error: 'must not be empty' }).max(max, { error: `must be at most ${max} characters` });
const nonNegative = z.number().min(0);
const channelNo = z.number().int().min(1).max(8);
/** A channel, or null / absent for the whole device. */
const anyChannel = channelNo.nullable().optional();
const verb = z.enum(REQUEST_VERBS as unknown as readonly [RequestVerb, ...RequestVerb[]]);
const impedanceOhm = z.union([nonNegative, z.literal('OPEN')]);
const state = z.enum(SESSION_STATES);

/** Session ids become part of a file name: letters, digits, dot, dash, underscore; no leading dot. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const sessionId = z.string().regex(SESSION_ID_PATTERN, { error: 'must be 1-64 letters, digits, ".", "_" or "-" (not starting with a dot)' });

/** Clinician initials or a staff id ("JD", "J.D.", "PT-0042"); no spaces, so no full names. */
export const CLINICIAN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

// ---- session-start -------------------------------------------------------------------------------

const patternSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('continuous'), frequencyHz: nonNegative }),
  z.strictObject({ kind: z.literal('dense-disperse'), lowHz: nonNegative, highHz: nonNegative, dwellS: nonNegative }),
  z.strictObject({ kind: z.literal('burst'), burstRateHz: nonNegative, intraBurstHz: nonNegative, pulsesPerBurst: z.number().int().min(1) }),
]);

const sourceSchema = z.strictObject({
  key: text(48),
  citation: text(500),
  doi: text(200).optional(),
  registry: text(32).optional(),
  pmcid: text(16).optional(),
  note: text(1000).optional(),
  /** Field paths of the protocol whose values were checked against this source. */
  verified: z.array(text(120)),
  /** Field paths that are defaults the clinician confirms, not figures from this source. */
  unverified: z.array(text(120)),
});

const protocolSchema = z.strictObject({
  id: text(64),
  name: text(200),
  /** Content hash of the protocol file (SHA-256 of its canonical JSON). */
  hash: sha256Hex,
  indication: text(300),
  sources: z.array(sourceSchema),
  /** The needle the charge density limit was computed for. */
  electrode: z.strictObject({ kind: z.literal('needle'), diameterMm: nonNegative, insertedLengthMm: nonNegative }).optional(),
  phases: z
    .array(
      z.strictObject({
        name: text(80),
        durationS: nonNegative,
        pattern: patternSchema,
        pulseWidthUs: nonNegative,
        waveform: z.enum(WAVEFORMS),
        maxMa: nonNegative,
        rampMaPerS: nonNegative,
      }),
    )
    .min(1),
  channels: z
    .array(z.strictObject({ channel: channelNo, region: text(40), side: text(20), sites: z.array(text(120)) }))
    .min(1),
  aftercare: text(2000),
});

const deviceSchema = z.strictObject({
  /** How the device was reached: "serial" or "simulator". */
  transport: text(32),
  model: text(64),
  firmware: text(64),
  serial: text(64),
  bootId: text(32),
  protocolVersion: z.number().int().min(1),
  limits: DeviceLimitsSchema,
});

const answer = z.boolean().nullable();

/**
 * The screening as the domain's evaluator records it (src/domain/screening.ts, ScreeningRecord),
 * for a screening that cleared. The answers keep their structure but not the current question
 * list, so a journal written before a question was added still reads back.
 */
const screeningSchema = z.strictObject({
  format: z.literal(SCREENING_RECORD_FORMAT),
  status: z.literal('cleared'),
  patientRef: text(32),
  protocolId: text(64),
  protocolHash: sha256Hex,
  answers: z.strictObject({
    $schema: z.string().optional(),
    format: text(64),
    patientRef: text(32),
    protocolId: text(64).nullable(),
    /** Question id -> true, false (null would not have cleared). */
    answers: z.record(z.string(), answer.optional()),
    /** Per treated site: region, side, and question id -> true or false. */
    sites: z.array(
      z
        .record(z.string(), z.union([text(40), answer]))
        .refine((site) => typeof site['region'] === 'string' && typeof site['side'] === 'string', { error: 'a site needs its region and side' }),
    ),
    notes: z.string().max(2000).optional(),
  }),
  /** The relative contraindications found (a cleared screening has no other kind). */
  findings: z.array(
    z.strictObject({ id: text(120), path: text(200), kind: z.enum(['absolute', 'relative', 'unanswered', 'mismatch']), message: text(2000), source: text(500) }),
  ),
  /** The clinician's acknowledgements of those findings: who and when. */
  acknowledgements: z.array(z.strictObject({ id: text(120), by: text(64), at: text(64) })),
});

const sessionStart = z
  .strictObject({
    sessionId,
    /** The domain's pseudonym rule (screening.ts): never a name, e-mail address, phone number or date. */
    patientRef: z.string().superRefine((ref, ctx) => {
      const problem = patientRefProblem(ref);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    clinician: z.string().regex(CLINICIAN_PATTERN, { error: 'must be initials or a staff id (no spaces)' }).optional(),
    protocol: protocolSchema,
    /**
     * The treated side chosen for the protocol's "affected" channels (treated-side.ts): left,
     * right or bilateral. Absent for a protocol whose sides are fixed, and in journals written
     * before the side was asked (they read back as they are: "affected").
     */
    side: z.enum(TREATED_SIDES).optional(),
    device: deviceSchema,
    screening: screeningSchema,
    app: z.strictObject({ version: text(32) }),
  })
  .superRefine((d, ctx) => {
    // The clearance must be this patient's, for this exact protocol version.
    const mismatch = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (d.screening.patientRef !== d.patientRef) mismatch(['screening', 'patientRef'], `the screening is for ${d.screening.patientRef}, not ${d.patientRef}`);
    if (d.screening.protocolId !== d.protocol.id) mismatch(['screening', 'protocolId'], `the screening is for protocol ${d.screening.protocolId}, not ${d.protocol.id}`);
    if (d.screening.protocolHash !== d.protocol.hash) mismatch(['screening', 'protocolHash'], 'the screening is for another version of the protocol (content hash differs)');
  });

// ---- courses and outcomes ------------------------------------------------------------------------

/** Course ids (src/course/store.ts): "C" + the UTC start date + a random suffix, e.g. C20250314-7KQ2MD. */
export const COURSE_ID_PATTERN = /^C[0-9]{8}-[0-9A-Z]{6}$/;
const courseId = z.string().regex(COURSE_ID_PATTERN, { error: 'must be a course id such as C20250314-7KQ2MD' });
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date as YYYY-MM-DD' })
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d, { error: 'is not a real date' });

export const COURSE_STATUSES = ['planned', 'active', 'completed', 'stopped'] as const;

const courseRecord = z
  .strictObject({
    courseId,
    /** 1-based number of this session in the course. */
    sessionNumber: z.number().int().min(1).max(999),
    /** This session is a milestone of the course (GROC, PSFS and licensed scores are asked). */
    milestone: z.boolean(),
    /** The course when this session began. */
    course: z.strictObject({
      patientRef: z.string().superRefine((ref, ctx) => {
        const problem = patientRefProblem(ref);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }),
      indication: text(300),
      protocolId: text(64),
      plannedSessions: z.number().int().min(1).max(999),
      intervalDays: z.number().int().min(1).max(365),
      startDate: isoDate,
      status: z.enum(COURSE_STATUSES),
      statusReason: text(500).optional(),
      milestones: z.array(z.union([z.enum(['first', 'middle', 'last']), z.number().int().min(1).max(999)])).max(50),
    }),
  });

const outcomeRecord = z.strictObject({
  /** before: ahead of stimulation; after: once output is off; milestone: a course milestone measure. */
  timepoint: z.enum(['before', 'after', 'milestone']),
  instrumentId: text(64),
  instrumentVersion: text(80),
  /** Content hash of the instrument file the values were checked against. */
  instrumentHash: sha256Hex,
  /** Score id -> value, as checked against the instrument (src/domain/outcomes/score.ts). */
  scores: z.record(z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/), z.number()),
  /** Patient-named activities and their ratings (PSFS). */
  items: z.array(z.strictObject({ activity: text(80), rating: z.number() })).max(10).optional(),
});

// ---- the rest ------------------------------------------------------------------------------------

/**
 * Every record type and its data. The session runner emits them; `ack` of HB and `telemetry` are
 * the only ones written without an fsync (see journal.ts, FSYNC_EXEMPT).
 */
export const DATA_SCHEMAS = {
  'session-start': sessionStart,
  /** A state change of the session (states.ts). */
  state: z.strictObject({ from: state, to: state, reason: text(2000).optional() }),
  /** A line sent to the device (without its newline). */
  command: z.strictObject({ seq: z.number().int().min(0).max(65535), verb, line: text(300) }),
  /** The device's answer to a command; `verb` is null when an ERR reply could not be matched. */
  ack: z.strictObject({
    seq: z.number().int().min(0).max(65535).nullable(),
    verb: verb.nullable(),
    ok: z.boolean(),
    code: text(32).optional(),
    line: text(300).optional(),
  }),
  /** The result of the electrode (impedance) check before output. */
  electrodes: z.strictObject({
    results: z.array(z.strictObject({ channel: channelNo, impedanceOhm, ok: z.boolean(), reason: text(500).optional() })),
  }),
  /** A change of a channel's commanded amplitude, mA. */
  amplitude: z.strictObject({
    channel: channelNo,
    targetMa: nonNegative,
    commandedMa: nonNegative,
    cause: z.enum(['ramp', 'titration', 'pause', 'resume', 'ramp-down', 'stop', 'estop', 'fault']),
  }),
  /**
   * The clinician changed the target by `deltaMa` (on `channel`, or on every channel when null).
   * `channels`: each channel's resulting target; `refused`: the channels that could not take the
   * step, and why. (`targetMa` is the first channel's, as older journals have only that.)
   */
  titration: z.strictObject({
    channel: channelNo.nullable(),
    deltaMa: z.number(),
    targetMa: nonNegative,
    channels: z.array(z.strictObject({ channel: channelNo, targetMa: nonNegative })).optional(),
    refused: z.array(z.strictObject({ channel: channelNo, reason: text(500) })).optional(),
  }),
  /** A phase began; `atS` is the session's stimulation clock, s. */
  phase: z.strictObject({ index: z.number().int().min(0), name: text(80), atS: nonNegative }),
  /** A phase's time elapsed. */
  'phase-end': z.strictObject({ index: z.number().int().min(0), name: text(80), atS: nonNegative }),
  /**
   * The 1 Hz telemetry summary over [fromT, toT] (session clock, ms): per channel the mean and
   * maximum measured current, the latest impedance ('OPEN' when any sample in the window was
   * open, null before any reading) and the charge delivered on the channel since the session
   * started, µC (cumulative, so a lost summary loses no charge).
   */
  telemetry: z
    .strictObject({
      fromT: nonNegative,
      toT: nonNegative,
      channels: z.array(z.strictObject({ channel: channelNo, meanMa: nonNegative, maxMa: nonNegative, impedanceOhm: impedanceOhm.nullable(), chargeUc: nonNegative })),
    })
    .refine((d) => d.toT >= d.fromT, { error: 'toT must not be before fromT', path: ['toT'] }),
  warning: z.strictObject({
    channel: anyChannel,
    limit: text(64),
    message: text(2000),
    value: z.number().optional(),
    allowed: z.union([z.number(), text(200)]).optional(),
  }),
  fault: z.strictObject({ channel: anyChannel, code: text(32), message: text(2000) }),
  /**
   * The journal could not write (a full disk...): recorded in the backlog the journal holds, so it
   * reaches the file once space returns (or the backlog file) and the report can say when and why.
   */
  'journal-failure': z.strictObject({ operation: text(32), code: text(32), message: text(2000), pending: z.number().int().min(0) }),
  /**
   * What the device reported contradicts what it was commanded (output-monitor.ts): a measured
   * current or set point above the commanded value, the protocol maximum or the ceiling; telemetry
   * gone quiet; current implausibly low; current measured on a channel that should be off. Every
   * such sample is recorded, so the report can flag it.
   */
  measurement: z.strictObject({
    channel: channelNo,
    finding: z.enum(['setpoint-above-commanded', 'over-commanded', 'over-protocol', 'over-ceiling', 'telemetry-lost', 'current-low', 'current-while-off']),
    measuredMa: nonNegative.optional(),
    limitMa: nonNegative.optional(),
    silentMs: nonNegative.optional(),
    message: text(2000),
  }),
  estop: z.strictObject({ source: text(64), acked: z.boolean() }),
  /** An alarm was raised (after IEC 60601-1-8: cause and next action). */
  alarm: z.strictObject({ id: text(32), priority: z.enum(['high', 'medium', 'low']), cause: text(2000), action: text(500), channel: channelNo.optional() }),
  'alarm-ack': z.strictObject({ alarmId: text(32), by: text(64), cause: text(2000).optional() }),
  /**
   * A latched emergency stop was cleared on the device (the device confirmed CLEAR): who cleared
   * it. Output stays off; usually written after session-end (UX.md: acknowledging is recorded).
   */
  'stop-cleared': z.strictObject({ by: text(64) }),
  /** A clinician's note. */
  note: z.strictObject({ text: text(2000) }),
  /**
   * Control of the session passed from one user interface to another (src/app/control.ts): an
   * explicit take-over, confirmed by the clinician in the UI that took it. `from` and `to` name the
   * UIs ("window 1"); `fromPresent` says whether the UI that lost control was still connected.
   */
  control: z.strictObject({ change: z.literal('take-over'), from: text(64), to: text(64), fromPresent: z.boolean() }),
  /**
   * The session belongs to a course (written right after session-start). It carries the course as
   * it stood when the session began, so the course store can be rebuilt from the journals alone
   * (src/course). Absent for a session outside any course.
   */
  course: courseRecord,
  /**
   * An outcome measured in this session on an instrument (src/domain/outcomes): NPRS before
   * stimulation and after it, milestone instruments (GROC, PSFS, licensed totals). May follow
   * session-end (the after-session questions are asked once output is off).
   */
  outcome: outcomeRecord,
  /** The adverse effects asked about after the session; an empty list records "none". */
  'adverse-effects': z.strictObject({ effects: z.array(AdverseEffectSchema).max(20) }),
  'session-end': z.strictObject({
    reason: z.enum(['completed', 'stopped', 'aborted']),
    detail: text(2000).optional(),
    finalState: state,
    /** Time output was on (the stimulation clock), s. */
    stimulationS: nonNegative,
    phases: z.array(z.strictObject({ index: z.number().int().min(0), stimulationS: nonNegative })),
  }),
} as const;

export type RecordType = keyof typeof DATA_SCHEMAS;
export const RECORD_TYPES = Object.keys(DATA_SCHEMAS) as RecordType[];

/** The data of a record type, as the writer accepts it. */
export type RecordDataInput<T extends RecordType> = z.input<(typeof DATA_SCHEMAS)[T]>;
/** The data of a record type, as read back. */
export type RecordData<T extends RecordType> = z.output<(typeof DATA_SCHEMAS)[T]>;

export function isRecordType(type: unknown): type is RecordType {
  return typeof type === 'string' && Object.hasOwn(DATA_SCHEMAS, type);
}

// ---- the record ----------------------------------------------------------------------------------

/** One record: the envelope around a type's data (keys written in this order). */
function recordSchema<T extends RecordType>(type: T) {
  return z.strictObject({
    n: z.number().int().min(0),
    t: z.number().min(0),
    ts: isoMs,
    type: z.literal(type),
    data: DATA_SCHEMAS[type],
    prev: sha256Hex,
  });
}

const RECORD_SCHEMAS = RECORD_TYPES.map((type) => recordSchema(type)) as unknown as {
  [T in RecordType]: ReturnType<typeof recordSchema<T>>;
}[RecordType][];

/** One journal line, parsed. */
export const JournalRecordSchema = z.discriminatedUnion('type', RECORD_SCHEMAS as unknown as [(typeof RECORD_SCHEMAS)[number], ...(typeof RECORD_SCHEMAS)[number][]]);

type RecordShape<T extends RecordType> = { n: number; t: number; ts: string; type: T; data: RecordData<T>; prev: string };
/** Any record (a union discriminated by `type`). */
export type JournalRecord = { [T in RecordType]: RecordShape<T> }[RecordType];
/** The records of the given type(s); a member of JournalRecord even for a generic T. */
export type JournalRecordOf<T extends RecordType> = Extract<JournalRecord, { type: T }>;

// ---- builders for the session runner -------------------------------------------------------------

export type SessionStartData = RecordDataInput<'session-start'>;
export type ProtocolRecord = SessionStartData['protocol'];

/** The protocol part of `session-start`, from the domain's validated protocol. */
export function protocolRecord(protocol: Protocol): ProtocolRecord {
  return {
    id: protocol.id,
    name: protocol.name,
    hash: protocol.hash,
    indication: protocol.indication,
    sources: protocol.sources.map((s) => ({
      key: s.key,
      citation: s.citation,
      ...(s.doi === undefined ? {} : { doi: s.doi }),
      ...(s.registry === undefined ? {} : { registry: s.registry }),
      ...(s.pmcid === undefined ? {} : { pmcid: s.pmcid }),
      ...(s.note === undefined ? {} : { note: s.note }),
      verified: [...s.verified],
      unverified: [...s.unverified],
    })),
    electrode: { kind: protocol.electrode.kind, diameterMm: protocol.electrode.diameterMm, insertedLengthMm: protocol.electrode.insertedLengthMm },
    phases: protocol.phases.map((p) => ({
      name: p.name,
      durationS: Math.round(p.durationMin * 60 * 1000) / 1000,
      pattern: { ...p.pattern },
      pulseWidthUs: p.pulseWidthUs,
      waveform: p.waveform,
      maxMa: p.amplitude.maxMa,
      rampMaPerS: p.amplitude.rampMaPerS,
    })),
    channels: protocol.channels.map((c) => ({ channel: c.channel, region: c.region, side: c.side, sites: [...c.sites] })),
    aftercare: protocol.aftercare,
  };
}

/**
 * The protocol's channels of a session as they were treated: each `affected` channel on the side
 * chosen at the session (`side`), by the one rule (treated-side.ts resolveSides). A journal from
 * before the side was asked has no `side`: its channels read "affected", as recorded.
 */
export function treatedChannels(start: { readonly protocol: { readonly channels: readonly { channel: number; region: string; side: string; sites: readonly string[] }[] }; readonly side?: TreatedSide | undefined }): {
  channel: number;
  region: string;
  side: string;
  sites: string[];
}[] {
  const sides = resolveSides(start.protocol.channels, start.side);
  return start.protocol.channels.map((c, i) => ({ channel: c.channel, region: c.region, side: sides[i] ?? c.side, sites: [...c.sites] }));
}

// The journal's copies of domain shapes must stay interchangeable with the domain's own types: a
// change on either side is a compile error here rather than a journal that refuses a session.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _patternMatches: Same<z.output<typeof patternSchema>, Pattern> = true;
/** Every cleared ScreeningRecord the domain makes fits the journal's screening schema. */
type DeepMutable<T> = T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
type ClearedRecord = DeepMutable<ScreeningRecord & { status: 'cleared'; patientRef: string; answers: { patientRef: string } }>;
const _screeningFits: ClearedRecord extends z.input<typeof screeningSchema> ? true : false = true;
void _patternMatches;
void _screeningFits;

// ---- telemetry summaries -------------------------------------------------------------------------

/** What the summariser needs of one TEL event (the wire's units: µA, ohm or OPEN, nC). */
export interface TelSample {
  readonly ch: number;
  /** Measured current, µA. */
  readonly i: number;
  readonly z: number | 'OPEN';
  /** Charge delivered since the channel's START, nC (the device restarts the count at START). */
  readonly q: number;
}

export type TelemetryData = RecordDataInput<'telemetry'>;

interface ChannelWindow {
  sum: number;
  count: number;
  max: number;
  impedance: number | 'OPEN' | null;
  open: boolean;
}

/**
 * Turns the device's 10 Hz TEL events into the journal's 1 Hz `telemetry` records. Feed it every
 * TEL with `add(t, tel)` and call `tick(t)` from the session loop: once `periodMs` of session time
 * has passed since the window opened, `tick` (or `add`) returns the window's summary, to append.
 * `flush(t)` returns whatever is left (at the end of a session).
 *
 * Charge is counted from the device's running count (`q`, nC since the channel's START): each
 * sample adds its increase over the previous one, and a count that goes down means the channel was
 * started again, so the new count is added whole. The summary carries the channel's total since
 * the summariser began, µC, so a lost summary loses no charge.
 */
export class TelemetrySummariser {
  readonly #periodMs: number;
  #from: number;
  readonly #windows = new Map<number, ChannelWindow>();
  readonly #lastQ = new Map<number, number>();
  readonly #totalNc = new Map<number, number>();

  /** `startT`: the session clock (ms) when the first window opens. */
  constructor(startT: number, periodMs = 1000) {
    this.#from = startT;
    this.#periodMs = periodMs;
  }

  /** Add one TEL event received at `t` (session clock, ms); returns a summary when one is due. */
  add(t: number, tel: TelSample): TelemetryData | undefined {
    const due = this.tick(t);
    const w = this.#windows.get(tel.ch) ?? { sum: 0, count: 0, max: 0, impedance: null, open: false };
    const ma = tel.i / 1000;
    w.sum += ma;
    w.count += 1;
    w.max = Math.max(w.max, ma);
    w.impedance = tel.z;
    w.open ||= tel.z === 'OPEN';
    this.#windows.set(tel.ch, w);
    const last = this.#lastQ.get(tel.ch);
    const added = last === undefined || tel.q < last ? tel.q : tel.q - last;
    this.#lastQ.set(tel.ch, tel.q);
    this.#totalNc.set(tel.ch, (this.#totalNc.get(tel.ch) ?? 0) + added);
    return due;
  }

  /**
   * The channel was started again (START): the device restarts its charge count, so the next
   * sample's count is added whole, even when it is not below the last one seen.
   */
  restarted(ch: number): void {
    this.#lastQ.delete(ch);
  }

  /** The channel's charge since the summariser began, µC (to the wire's 1 nC). */
  chargeUc(ch: number): number {
    return round3((this.#totalNc.get(ch) ?? 0) / 1000);
  }

  /** The summary of the window that ended, when `periodMs` has passed since it opened. */
  tick(t: number): TelemetryData | undefined {
    if (t - this.#from < this.#periodMs) return undefined;
    return this.flush(t);
  }

  /** Close the current window at `t` and return its summary (undefined when it had no samples). */
  flush(t: number): TelemetryData | undefined {
    const fromT = this.#from;
    this.#from = Math.max(t, fromT);
    if (this.#windows.size === 0) return undefined;
    const channels = [...this.#windows.entries()]
      .sort(([a], [b]) => a - b)
      .map(([channel, w]) => ({
        channel,
        meanMa: round3(w.sum / w.count),
        maxMa: round3(w.max),
        impedanceOhm: w.open ? ('OPEN' as const) : w.impedance,
        chargeUc: round3((this.#totalNc.get(channel) ?? 0) / 1000),
      }));
    this.#windows.clear();
    return { fromT, toT: this.#from, channels };
  }
}

/** Amplitudes and charges to 1 µA / 1 nC, the wire's resolution, so float noise never shows. */
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
