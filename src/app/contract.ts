/**
 * The contract between the EDN Controller core and every user interface: each call's input and
 * output and each pushed event, as zod schemas (types inferred). The Electron IPC binding
 * (electron/main + preload) and the WebSocket binding (src/web) are both generated from this one
 * table, so they cannot drift; the renderer imports nothing else.
 *
 * Results are values, never thrown errors (thrown errors lose everything but their message across
 * a process boundary): `{ok: true, data} | {ok: false, error: {code, message}}`.
 */
import * as z from 'zod';
import { FORBIDDEN_REGIONS, REGIONS, SIDES } from '../domain/protocols/schema.js';
import { TREATED_SIDES } from '../domain/protocols/treated-side.js';
import { EVIDENCE_STATUSES } from '../domain/protocols/evidence.js';
import { ADVERSE_EFFECT_KINDS, ADVERSE_EFFECT_TEXT, AdverseEffectSchema, SEVERITIES } from '../domain/outcomes/adverse.js';
import { MIDLINE_REGIONS, REGION_SITES, SITE_NOTE_MAX } from '../domain/protocols/sites.js';
import {
  AlarmSchema,
  ChannelViewSchema,
  DeviceLimitsSchema,
  DeviceSchema,
  ElectrodeResultSchema,
  SnapshotSchema,
  TelemetrySchema,
  WarningSchema,
  type SessionSnapshot,
  type TelemetrySample,
} from '../session/views.js';

// ---- shared shapes ------------------------------------------------------------------------------

/** The contract's error codes (see ErrorSchema's `code`). */
export const CONTRACT_ERROR_CODES = [
  'BAD_INPUT',
  'ILLEGAL_STATE',
  'NOT_CONNECTED',
  'LATCHED',
  'ESTOP_UNCONFIRMED',
  'LIMIT',
  'DEVICE',
  'NOT_FOUND',
  'SCREENING',
  'STORAGE',
  'INTERNAL',
  'NOT_CONTROLLER',
  'SIDE_REQUIRED',
  'SIDE_NOT_ALLOWED',
] as const;

export const ErrorSchema = z.strictObject({
  /**
   * A stable code the UI can branch on: BAD_INPUT (the input is wrong in itself), ILLEGAL_STATE
   * (not now: the session is in another state), NOT_CONNECTED (connect to a device first, or
   * again), LATCHED (an emergency stop is latched: clear it first), ESTOP_UNCONFIRMED (the device
   * has not yet confirmed the emergency stop), LIMIT, DEVICE, NOT_FOUND, SCREENING, STORAGE,
   * INTERNAL, NOT_CONTROLLER (another UI controls the session: this one may watch it and press
   * Emergency stop, or take control explicitly), SIDE_REQUIRED (the protocol treats the affected
   * side: say which) and SIDE_NOT_ALLOWED (that side is not one this protocol can treat).
   */
  code: z.enum(CONTRACT_ERROR_CODES),
  /** What went wrong, in words a clinician can act on. */
  message: z.string(),
  /** Per-field problems (protocol or screening validation). */
  details: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type ContractError = z.infer<typeof ErrorSchema>;

export type Result<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly error: ContractError };

export const PortSchema = z.strictObject({
  path: z.string(),
  kind: z.enum(['serial', 'simulator']),
  label: z.string(),
  vendorId: z.string().optional(),
  productId: z.string().optional(),
  manufacturer: z.string().optional(),
  likelyStimulator: z.boolean(),
});

/**
 * The session's views (snapshot, channel, alarm, warning, electrode, telemetry, the device and its
 * limits) are defined once, as zod schemas, where the session makes them (src/session/views.ts);
 * the contract speaks exactly those shapes.
 */
export { AlarmSchema, ChannelViewSchema, DeviceLimitsSchema, DeviceSchema, ElectrodeResultSchema, SnapshotSchema, TelemetrySchema, WarningSchema };
export type Snapshot = SessionSnapshot;
export type Telemetry = TelemetrySample;

/**
 * The protocol format's fixed choices, for editors (one list each, src/domain/protocols/sites.ts):
 * the regions, the sides, where `midline` is a side, and each region's listed sites.
 */
export const PROTOCOL_CHOICES = {
  regions: REGIONS,
  forbiddenRegions: FORBIDDEN_REGIONS,
  sides: SIDES,
  midlineRegions: MIDLINE_REGIONS,
  sites: REGION_SITES,
  siteNoteMax: SITE_NOTE_MAX,
} as const;

/** The session states (one list, src/session/states.ts). */
export { SESSION_STATES } from '../session/states.js';
/** The state sets a UI needs (one definition each, src/session/states.ts). */
export { OUTPUT_MAY_BE_ON, OUTPUT_STATES, TERMINAL_STATES } from '../session/states.js';

export const FigureSchema = z.strictObject({
  key: z.string(),
  label: z.string(),
  value: z.number(),
  unit: z.string(),
  limit: z.string().optional(),
  status: z.enum(['info', 'ok', 'warning', 'blocked']),
  source: z.string().optional(),
});

const EvidenceValueSchema = z.strictObject({
  /** The field path it was marked by: for links to the field, never shown as its label. */
  path: z.string(),
  /** "Frequency", "Phase 2 pulse width", "Channel 1 sites". */
  label: z.string(),
  /** "2 Hz", "250 µs per phase"; absent when the protocol record does not hold the value. */
  value: z.string().optional(),
  status: z.enum(EVIDENCE_STATUSES),
  sources: z.array(z.string()),
});

/**
 * A protocol's values with their evidence status in words (src/domain/protocols/evidence.ts): what
 * the library card, the editor and the start dialog show instead of field paths.
 */
export const EvidenceSchema = z.strictObject({
  values: z.array(EvidenceValueSchema),
  /** Per source its verified, then its unverified values, then the unmarked ones, each as a sentence. */
  groups: z.array(z.strictObject({ status: z.enum(EVIDENCE_STATUSES), source: z.string().optional(), text: z.string(), values: z.array(EvidenceValueSchema) })),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

export const ProtocolSummarySchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  indication: z.string(),
  hash: z.string(),
  builtIn: z.boolean(),
  totalMin: z.number(),
  /** "2 Hz continuous, 250 µs, up to 10 mA" per phase. */
  phases: z.array(z.string()),
  sources: z.array(z.strictObject({ key: z.string(), citation: z.string(), verified: z.array(z.string()), unverified: z.array(z.string()) })),
  /** Every value with its evidence status in words (empty for a protocol that does not validate). */
  evidence: EvidenceSchema,
  /** The validation's warnings (Shannon k or RMS density near its limit at maxMa): the library card shows them. */
  warnings: z.array(z.strictObject({ path: z.string(), message: z.string() })),
  /**
   * Set on a user protocol whose file no longer validates (edited by hand, or written by an older
   * version): its first problem in words. Load it to see every problem; it cannot be run.
   */
  problem: z.string().optional(),
});

export const ValidationSchema = z.strictObject({
  valid: z.boolean(),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })),
  warnings: z.array(z.strictObject({ path: z.string(), message: z.string() })),
  hash: z.string().optional(),
  /** Computed figures per phase at its maxMa, against their limits (when the file parses). */
  figures: z.array(z.strictObject({ phaseIndex: z.number(), atMa: z.number(), figures: z.array(FigureSchema) })),
  /** Every value with its evidence status in words (when the file passes the schema). */
  evidence: EvidenceSchema.optional(),
});

export const QuestionSchema = z.strictObject({
  id: z.string(),
  text: z.string(),
  severity: z.enum(['absolute', 'relative']),
  /** 'patient' questions are asked once; 'site' questions once per treated site. */
  scope: z.enum(['patient', 'site']),
  source: z.string(),
});

export const FindingSchema = z.strictObject({
  id: z.string(),
  path: z.string(),
  kind: z.enum(['absolute', 'relative', 'unanswered', 'mismatch']),
  message: z.string(),
  source: z.string(),
});

export const SessionSummarySchema = z.strictObject({
  sessionId: z.string(),
  file: z.string(),
  startedAt: z.string().nullable(),
  patientRef: z.string().nullable(),
  protocolId: z.string().nullable(),
  protocolName: z.string().nullable(),
  endReason: z.string().nullable(),
  stimulationS: z.number().nullable(),
  intact: z.boolean(),
  /** The journal's state in words: intact, truncated (N records missing after HH:MM:SS), incomplete, damaged. */
  integrity: z.string(),
});

export const SettingsSchema = z.strictObject({
  /** Initials or staff id recorded with sessions and acknowledgements. */
  clinician: z.string().max(32),
  /** USB vendor:product ids that mark a likely stimulator. */
  usbIds: z.array(z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/)),
  /**
   * The clinic's own rule for new patient references: an anchored regular expression and an
   * example that follows it (src/domain/privacy.ts, patientRefRule). Absent or null: the default.
   */
  patientRef: z.strictObject({ pattern: z.string().min(1).max(200), example: z.string().min(1).max(32) }).nullable().optional(),
});
export type Settings = z.infer<typeof SettingsSchema>;

const none = z.strictObject({});

/**
 * What triggered an e-stop (journaled). `connection-lost`: the controlling UI went away with
 * output on and did not come back within the grace period; `ui-unresponsive`: the controlling UI
 * is still connected but its own code gave no sign of life within the liveness window (a frozen
 * page; src/app/ui-timing.ts); `shutdown`: the host process is closing (SIGINT/SIGTERM or app quit)
 * with output on.
 */
export const EstopSourceSchema = z.enum(['button', 'keyboard', 'renderer-crash', 'ui-unresponsive', 'window-close', 'signal', 'connection-lost', 'shutdown']);
export type EstopSource = z.infer<typeof EstopSourceSchema>;
const channelNo = z.number().int().min(1).max(8);

/**
 * Who controls the session, as one UI sees it (pushed to each UI as the `control` event, and the
 * result of `takeControl`). One UI controls a session: the one that began it, until another takes
 * control explicitly. The others watch it live, read-only; any UI may always press Emergency stop.
 */
export const ControlSchema = z.strictObject({
  /** This UI's id; the browser client keeps it (per tab) to resume control after a reload. */
  client: z.string(),
  /** This UI in words ("window 2"). */
  label: z.string(),
  /**
   * `free`: no UI controls a session (none in progress): this UI may begin one. `controller`: this
   * UI controls the session. `observer`: another UI does (see `controllerPresent`).
   */
  role: z.enum(['free', 'controller', 'observer']),
  /** The controlling UI in words, when there is one. */
  controller: z.string().optional(),
  /** False when the controlling UI went away (output stops after the grace period unless it returns or another UI takes control). */
  controllerPresent: z.boolean(),
  /** Other UIs connected now. */
  others: z.number().int().min(0),
  /** The latest take-over of this session: who took control from whom (both UIs are told). */
  takeover: z.strictObject({ seq: z.number().int().min(1), from: z.string(), to: z.string() }).optional(),
});
export type ControlView = z.infer<typeof ControlSchema>;

/**
 * A clinician's note in the session in progress, as every UI shows it (the `note` event, and
 * `listNotes` for a UI that opens or reloads during the session). The session's journal is the
 * record; this is its view.
 */
export const NoteSchema = z.strictObject({
  sessionId: z.string(),
  /** 1, 2, ... within the session: which notes a UI already shows. */
  seq: z.number().int().min(1),
  /** Session time when it was written, s. */
  atS: z.number().min(0),
  text: z.string().min(1).max(2000),
});
export type SessionNote = z.infer<typeof NoteSchema>;

// ---- courses (issue 14) ---------------------------------------------------------------------------
// Patients (pseudonymous references only), their courses of treatment and the sessions of each
// course, backed by the course store the service opens (src/course/store.ts). Validated both
// ways like every call; the store's own checks (reference format, plan bounds) give BAD_INPUT.

const patientRef = z.string().min(1).max(64);
const courseIdInput = z.string().regex(/^C[0-9]{8}-[0-9A-Z]{6}$/, { error: 'must be a course id such as C20250314-7KQ2MD' });
const milestone = z.union([z.enum(['first', 'middle', 'last']), z.number().int().min(1).max(999)]);

export const PatientSchema = z.strictObject({ ref: z.string(), labels: z.array(z.string()), createdAt: z.string(), courses: z.number() });

export const CourseSessionSchema = z.strictObject({
  sessionId: z.string(),
  number: z.number(),
  journalFile: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  endReason: z.string().nullable(),
  milestone: z.boolean(),
  nprsBefore: z.number().nullable(),
  nprsAfter: z.number().nullable(),
  adverseEffects: z.array(AdverseEffectSchema).nullable(),
  /** The measures recorded at this session other than NPRS (GROC, PSFS, licensed totals), oldest first. */
  measures: z.array(
    z.strictObject({
      instrumentId: z.string(),
      name: z.string(),
      version: z.string(),
      scores: z.array(z.strictObject({ id: z.string(), name: z.string(), value: z.number(), min: z.number().nullable(), max: z.number().nullable(), unit: z.string() })),
    }),
  ),
});

export const CourseSchema = z.strictObject({
  id: z.string(),
  patientRef: z.string(),
  indication: z.string(),
  protocol: z.strictObject({ id: z.string(), hash: z.string(), name: z.string() }),
  plannedSessions: z.number(),
  intervalDays: z.number(),
  startDate: z.string(),
  status: z.enum(['planned', 'active', 'completed', 'stopped']),
  statusReason: z.string().nullable(),
  milestones: z.array(milestone),
  sessionsDone: z.number(),
  nextDue: z.string().nullable(),
  sessions: z.array(CourseSessionSchema),
});

/** The adverse effects a clinician may record and their severities, for the UIs (the renderer sees only this contract). */
export const ADVERSE_EFFECTS = Object.freeze({ kinds: ADVERSE_EFFECT_KINDS, text: ADVERSE_EFFECT_TEXT, severities: SEVERITIES });
export type AdverseEffectInput = z.input<typeof AdverseEffectSchema>;

/** NPRS 0-10, whole numbers (LOINC 72514-3; src/domain/outcomes/library). */
const nprs = z.number().int().min(0).max(10);

/** A patient's labels: the store checks each (src/course/store.ts labelsProblem). */
const patientLabels = z.array(z.string().min(1).max(32)).max(10);

/** One score of an instrument as the UIs show it for entry: its range, step and unit. */
export const InstrumentScoreSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  min: z.number(),
  max: z.number(),
  step: z.number(),
  unit: z.string(),
  direction: z.enum(['lower-is-better', 'higher-is-better']),
  mcid: z.number().nullable(),
});

/**
 * Scores the clinician obtained on a form used elsewhere (a licensed instrument's own form), for
 * a milestone: the instrument (a score-only one), the version of their form (checked against the
 * instrument's when given) and one or more of its scores (WOMAC's total, KOOS's subscales), each
 * checked against its range by the same code that records every outcome.
 */
const licensedEntry = z.strictObject({
  instrumentId: z.string().min(1).max(64),
  version: z.string().trim().min(1).max(80).optional(),
  scores: z.record(z.string().min(1).max(64), z.number()).refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= 12, { error: 'give 1-12 scores' }),
});

export const COURSE_CALLS = {
  /** Patients whose reference, or one of whose labels, contains `find` (all when absent). */
  listPatients: { input: z.strictObject({ find: z.string().max(64).optional() }), output: z.array(PatientSchema) },
  addPatient: { input: z.strictObject({ ref: patientRef, labels: patientLabels.optional() }), output: PatientSchema },
  /** Replace a patient's labels (clinic-chosen tags such as "knee" or "trial-A"; never identifying). */
  setPatientLabels: { input: z.strictObject({ ref: patientRef, labels: patientLabels }), output: PatientSchema },
  /**
   * The instruments whose scores are obtained on a form used elsewhere (score-only: the licensed
   * WOMAC, KOOS, FFI, ODI and a clinic's own), for a course's milestones: name, version, licence
   * and each score's range; `fits` when the instrument is made for a region the course's protocol
   * treats. Never the items' text (the files hold none).
   */
  courseInstruments: {
    input: z.strictObject({ courseId: courseIdInput }),
    output: z.array(
      z.strictObject({ id: z.string(), name: z.string(), version: z.string(), licence: z.enum(['free', 'licensed']), description: z.string().nullable(), fits: z.boolean(), scores: z.array(InstrumentScoreSchema) }),
    ),
  },
  listCourses: { input: z.strictObject({ patientRef }), output: z.array(CourseSchema) },
  /** A course on a protocol; planned sessions and interval default to the protocol's schedule. */
  startCourse: {
    input: z.strictObject({
      patientRef,
      protocolId: z.string().min(1).max(64),
      plannedSessions: z.number().int().min(1).max(999).optional(),
      intervalDays: z.number().int().min(1).max(365).optional(),
      startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date as YYYY-MM-DD' }).optional(),
      milestones: z.array(milestone).max(50).optional(),
    }),
    output: CourseSchema,
  },
  /** Stop a course (a reason is required) or mark it completed. */
  closeCourse: {
    input: z
      .strictObject({ courseId: courseIdInput, status: z.enum(['stopped', 'completed']), reason: z.string().trim().max(500).optional() })
      .refine((i) => i.status !== 'stopped' || (i.reason !== undefined && i.reason.length > 0), { error: 'say why the course stopped', path: ['reason'] }),
    output: CourseSchema,
  },
  /**
   * What the next session of a course starts from: the protocol, the sites and the last screening
   * answers, shown to the clinician; the screening is asked again, never reused silently.
   */
  coursePrefill: {
    input: z.strictObject({ courseId: courseIdInput }),
    output: z.strictObject({
      course: CourseSchema,
      last: z
        .strictObject({
          fromSession: z.string(),
          sessionNumber: z.number(),
          protocol: z.strictObject({ id: z.string(), hash: z.string(), name: z.string() }),
          sites: z.array(z.strictObject({ channel: z.number(), region: z.string(), side: z.string(), sites: z.array(z.string()) })),
          /** The side the last session treated (a suggestion shown beside the choice, never reused), or null. */
          side: z.enum(TREATED_SIDES).nullable(),
          screeningAnswers: z.unknown(),
          acknowledged: z.array(z.string()),
        })
        .nullable(),
    }),
  },
  /**
   * The session screened now (its journal is open, no output yet) belongs to a course: checked
   * against the course (its patient, its protocol, not closed), numbered in it, the course and the
   * patient's pain now (NPRS 0-10) written into the session's journal and the course store.
   */
  courseSession: {
    input: z.strictObject({ courseId: courseIdInput, nprsBefore: nprs }),
    output: z.strictObject({ sessionNumber: z.number().int().min(1), milestone: z.boolean() }),
  },
  /**
   * After a session of a course (output off, before the next session): the pain after (NPRS 0-10)
   * and the adverse effects (an empty list records "none"), into the session's journal behind its
   * end record and into the course store.
   */
  courseOutcomes: {
    input: z.strictObject({ nprsAfter: nprs.optional(), adverseEffects: z.array(AdverseEffectSchema).max(20).optional() }),
    output: z.null(),
  },
  /**
   * At a milestone of a course (after the session, output off, as courseOutcomes): the Global
   * Rating of Change (-7..+7) and the Patient-Specific Functional Scale (1-5 patient-named
   * activities rated 0-10; the score is their mean), each checked against its instrument and
   * written into the session's journal and the course store; and the scores of licensed
   * instruments obtained on the clinician's own forms (`licensed`, see courseInstruments). Give any
   * of them; all are checked before anything is written (all or none).
   */
  courseMilestone: {
    input: z
      .strictObject({
        groc: z.number().int().min(-7).max(7).optional(),
        psfs: z.array(z.strictObject({ activity: z.string().trim().min(1).max(80), rating: z.number().int().min(0).max(10) })).min(1).max(5).optional(),
        licensed: z.array(licensedEntry).min(1).max(8).optional(),
      })
      .refine((i) => i.groc !== undefined || i.psfs !== undefined || i.licensed !== undefined, { error: 'give the GROC, the PSFS, a licensed instrument\'s scores, or several' }),
    output: z.strictObject({ recorded: z.array(z.strictObject({ instrumentId: z.string(), scores: z.record(z.string(), z.number()) })) }),
  },
  /**
   * A course's report (html, printable; md; json, the model) or its export (csv for spreadsheets,
   * fhir: an R4 Bundle as JSON), built from the course store and the journals alone, as
   * `edn course-report` writes it. `notices` says what the report could not vouch for (a missing
   * or altered journal); the content is returned all the same.
   */
  courseReport: {
    input: z.strictObject({ courseId: courseIdInput, format: z.enum(['html', 'md', 'json', 'csv', 'fhir']) }),
    output: z.strictObject({ format: z.enum(['html', 'md', 'json', 'csv', 'fhir']), content: z.string(), notices: z.array(z.string()) }),
  },
} as const;

// ---- calls ----------------------------------------------------------------------------------------

/** Every call: its input and the data of a successful result. */
export const CALLS = {
  listPorts: { input: none, output: z.array(PortSchema) },
  connect: { input: z.strictObject({ path: z.string().min(1).max(256) }), output: DeviceSchema },
  disconnect: { input: none, output: z.null() },

  listProtocols: { input: none, output: z.array(ProtocolSummarySchema) },
  /** The protocol file (the format users author) and its validation. */
  loadProtocol: { input: z.strictObject({ id: z.string().min(1).max(64) }), output: z.strictObject({ file: z.unknown(), builtIn: z.boolean(), validation: ValidationSchema }) },
  /** Validate a protocol file as the editor changes it. */
  validateProtocol: { input: z.strictObject({ file: z.unknown() }), output: ValidationSchema },
  /** Save a user protocol (refused unless valid; built-in ids cannot be overwritten). */
  saveProtocol: { input: z.strictObject({ file: z.unknown() }), output: z.strictObject({ id: z.string(), hash: z.string() }) },

  /** The questionnaire for a protocol, and an answers template with every answer null. */
  screeningForm: {
    input: z.strictObject({ protocolId: z.string().min(1).max(64) }),
    output: z.strictObject({
      questions: z.array(QuestionSchema),
      template: z.unknown(),
      /** The treated sides to choose from (one is required), or [] when the protocol's sides are fixed. */
      sideChoices: z.array(z.enum(TREATED_SIDES)),
    }),
  },
  /**
   * Submit the answers: blocked (absolute, unanswered) or needs-acknowledgement (relative) come
   * back as findings; cleared prepares the session, opens its journal and checks the electrodes.
   */
  submitScreening: {
    input: z.strictObject({
      protocolId: z.string().min(1).max(64),
      answers: z.unknown(),
      acknowledgements: z.array(z.string().min(1).max(64)).max(32),
      /**
       * The treated side, for a protocol with channels on the "affected" side: required there
       * (SIDE_REQUIRED), refused for a protocol without (SIDE_NOT_ALLOWED), and "bilateral" only
       * where the protocol allows it (src/domain/protocols/treated-side.ts).
       */
      side: z.enum(TREATED_SIDES).optional(),
    }),
    output: z.strictObject({
      status: z.enum(['cleared', 'blocked', 'needs-acknowledgement']),
      findings: z.array(FindingSchema),
      electrodes: z.array(ElectrodeResultSchema),
      /** Fields of the answers that are not part of the format: dropped, never recorded. */
      warnings: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
    }),
  },
  checkElectrodes: { input: none, output: z.array(ElectrodeResultSchema) },
  start: { input: z.strictObject({ targetMa: z.number().min(0).max(20) }), output: z.null() },
  titrate: { input: z.strictObject({ deltaMa: z.union([z.literal(0.1), z.literal(-0.1), z.literal(0.5), z.literal(-0.5)]), channel: channelNo.optional() }), output: z.strictObject({ targets: z.array(z.strictObject({ channel: channelNo, targetMa: z.number() })), refused: z.array(z.strictObject({ channel: channelNo, reason: z.string() })) }) },
  pause: { input: none, output: z.null() },
  resume: { input: none, output: z.null() },
  stop: { input: none, output: z.null() },
  estop: { input: z.strictObject({ source: EstopSourceSchema }), output: z.null() },
  clear: { input: none, output: z.null() },
  newSession: { input: none, output: z.null() },
  /** Abandon a prepared session before any output (screening or electrode check): back to ready. */
  cancelSession: { input: none, output: z.null() },
  addNote: { input: z.strictObject({ text: z.string().min(1).max(2000) }), output: z.null() },
  /** The notes of the session on screen (in progress or just ended), oldest first; none without one. */
  listNotes: { input: none, output: z.array(NoteSchema) },
  acknowledgeAlarm: { input: z.strictObject({ id: z.string().min(1).max(32) }), output: z.null() },
  getSnapshot: { input: none, output: SnapshotSchema },
  /** The answer to a `ping` event: proof that the page's own code runs (src/app/ui-timing.ts). */
  heartbeat: { input: z.strictObject({ seq: z.number().int().min(0) }), output: z.null() },
  /** Take control of the session from another UI (or the one that went away); the UI has asked the clinician first. */
  takeControl: { input: z.strictObject({ confirmed: z.literal(true) }), output: ControlSchema },

  listSessions: { input: none, output: z.array(SessionSummarySchema) },
  openReport: { input: z.strictObject({ sessionId: z.string().min(1).max(64), format: z.enum(['html', 'md', 'json']) }), output: z.strictObject({ format: z.enum(['html', 'md', 'json']), content: z.string(), intact: z.boolean() }) },

  getSettings: { input: none, output: SettingsSchema },
  setSettings: { input: SettingsSchema.partial(), output: SettingsSchema },

  ...COURSE_CALLS,
} as const;

export type CallName = keyof typeof CALLS;
export const CALL_NAMES = Object.keys(CALLS) as CallName[];
export type CallInput<C extends CallName> = z.input<(typeof CALLS)[C]['input']>;
export type CallOutput<C extends CallName> = z.output<(typeof CALLS)[C]['output']>;

// ---- pushed events ----------------------------------------------------------------------------------

export const EVENTS = {
  /** The whole session state, on every change. */
  snapshot: SnapshotSchema,
  /** One channel's telemetry sample (10 Hz while output is on). */
  telemetry: TelemetrySchema,
  /** Who controls the session, for this UI (on connecting and on every change). */
  control: ControlSchema,
  /** A request for a sign of life from the controlling UI: answer with `heartbeat({seq})`. */
  ping: z.strictObject({ seq: z.number().int().min(0) }),
  /** A note was added to the session (to every UI, so a window that watches sees it at once). */
  note: NoteSchema,
} as const;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
export type EventData<E extends EventName> = z.output<(typeof EVENTS)[E]>;

/** What a UI is given: one async function per call, and a subscription per event. */
export type EdnApi = {
  readonly [C in CallName]: (input: CallInput<C>) => Promise<Result<CallOutput<C>>>;
} & {
  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void;
};

/** The IPC channel names (Electron) and message shapes (WebSocket). */
export const IPC_CALL_CHANNEL = 'edn:call';
export const IPC_EVENT_CHANNEL = 'edn:event';

/** A call as it crosses a process boundary. */
export const WireCallSchema = z.strictObject({ id: z.number().int().min(0), call: z.enum(CALL_NAMES as [CallName, ...CallName[]]), input: z.unknown() });
export const WireEventSchema = z.strictObject({ event: z.enum(EVENT_NAMES as [EventName, ...EventName[]]), data: z.unknown() });

/** A result schema for one call's output: `{ok: true, data} | {ok: false, error}`. */
export function resultSchema<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [z.strictObject({ ok: z.literal(true), data }), z.strictObject({ ok: z.literal(false), error: ErrorSchema })]);
}

/**
 * The answer to a WireCall, with the call's id. `id` is null only when the message was not a
 * readable call at all (not JSON, or no usable id): such a reply answers no pending request.
 */
export const WireReplySchema = z.strictObject({ id: z.number().int().min(0).nullable(), result: resultSchema(z.unknown()) });
export type WireReply = z.infer<typeof WireReplySchema>;

/** Parse a call's input at the boundary; a bad payload becomes BAD_INPUT naming the field. */
export function parseInput<C extends CallName>(call: C, input: unknown): Result<z.output<(typeof CALLS)[C]['input']>> {
  const parsed = CALLS[call].input.safeParse(input ?? {});
  if (parsed.success) return { ok: true, data: parsed.data as z.output<(typeof CALLS)[C]['input']> };
  const details = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(input)', message: i.message }));
  return { ok: false, error: { code: 'BAD_INPUT', message: `${call}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details } };
}

/** A renderer-side API over any request function (Electron preload or WebSocket client). */
export function makeApi(
  invoke: (call: CallName, input: unknown) => Promise<unknown>,
  subscribe: (listener: (event: EventName, data: unknown) => void) => () => void,
): EdnApi {
  const api: Record<string, unknown> = {};
  for (const call of CALL_NAMES) {
    api[call] = async (input: unknown) => {
      try {
        return (await invoke(call, input ?? {})) as Result<unknown>;
      } catch (e) {
        return { ok: false, error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } };
      }
    };
  }
  api.on = (event: EventName, listener: (data: unknown) => void) => subscribe((name, data) => {
    if (name === event) listener(data);
  });
  return api as EdnApi;
}
