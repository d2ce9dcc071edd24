/**
 * The course store: patients (pseudonymous references), their courses of treatment, the sessions
 * of each course (each linked to its journal by file and by the SHA-256 of its bytes), and the
 * outcomes and adverse effects those journals record. One SQLite file, `<dataDir>/courses.db`,
 * beside `sessions/` (sqlite.ts says how it is opened and why).
 *
 * The journals stay the authoritative record of each session: a session of a course writes a
 * `course` record (the course as it stood), its `outcome` records and its `adverse-effects`
 * record into its own journal, and `recordSession` copies them here. So the store can be rebuilt
 * from the journals (rebuild.ts) whenever it is lost or damaged. What only the store holds
 * (patient labels, course notes, a status change after the course's last session) is not in any
 * journal; a damaged store file is therefore never deleted, only moved aside.
 *
 * Session flow:
 *   beginSession(course, sessionId, journal file)  -> the number of the session and the `course`
 *       record to write into the journal; the session row exists from here on, so a session that
 *       is killed still holds its number and its journal is found again.
 *   recordSession(journal file)                     -> after the session (and again after the
 *       after-session questions): outcomes and adverse effects from the journal, replaced whole.
 *   reconcile()                                     -> on opening: sessions whose journal grew
 *       since it was last recorded (a crash before recordSession) are recorded again.
 *
 * Every method returns errors as values with codes; only a failing disk throws (StoreError).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Result as DomainResult, ok } from '../domain/result.js';
import type { AdverseEffect } from '../domain/outcomes/adverse.js';
import { plannedCourse } from '../domain/protocols/schedule.js';
import type { Protocol } from '../domain/protocols/derive.js';
import { patientRefProblem } from '../domain/screening.js';
import { type IdentifyingKind, findIdentifying } from '../domain/privacy.js';
import { COURSE_ID_PATTERN, COURSE_STATUSES, type RecordData, type RecordDataInput, treatedChannels } from '../session/journal-records.js';
import type { TreatedSide } from '../domain/protocols/treated-side.js';
import { type CourseSessionFacts, type JournalDigest, courseFactsOf, readJournalFile } from './journal-link.js';
import { LATEST_VERSION, migrate } from './migrations.js';
import { Sqlite, type SqlRow, StoreError } from './sqlite.js';

export const STORE_FILE = 'courses.db';

export type CourseStatus = (typeof COURSE_STATUSES)[number];
export type Milestone = 'first' | 'middle' | 'last' | number;
export const DEFAULT_MILESTONES: readonly Milestone[] = ['first', 'middle', 'last'];

export type CourseErrorCode =
  | 'PATIENT_REF_INVALID'
  | 'LABEL_INVALID'
  | 'PATIENT_EXISTS'
  | 'PATIENT_UNKNOWN'
  | 'COURSE_UNKNOWN'
  | 'PLAN_MISSING'
  | 'PLAN_INVALID'
  | 'DATE_INVALID'
  | 'STATUS_INVALID'
  | 'COURSE_CLOSED'
  | 'NOTE_INVALID'
  | 'SESSION_EXISTS'
  | 'SESSION_UNKNOWN'
  | 'JOURNAL_UNREADABLE'
  | 'JOURNAL_MISMATCH';

export interface CourseError {
  readonly code: CourseErrorCode;
  readonly message: string;
}

/** The domain's one Result shape, with the course store's errors. */
export type Result<T> = DomainResult<T, CourseError>;

const fail = (code: CourseErrorCode, message: string): { ok: false; error: CourseError } => ({ ok: false, error: { code, message } });

/** Labels group patients for the clinic ("knee", "trial-A"): short tags, never identifying. */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _-]{0,31}$/;
export const MAX_LABELS = 10;
/** The planned course a clinician may set (the protocol format's bounds are tighter: schema.ts). */
export const PLAN_LIMITS = Object.freeze({ sessionsMax: 999, intervalDaysMax: 365 });

export interface Patient {
  readonly ref: string;
  readonly labels: readonly string[];
  readonly createdAt: string;
  readonly courses: number;
}

export interface CourseNote {
  readonly at: string;
  readonly text: string;
}

export interface Course {
  readonly id: string;
  readonly patientRef: string;
  readonly indication: string;
  readonly protocol: { readonly id: string; readonly hash: string; readonly name: string };
  readonly plannedSessions: number;
  readonly intervalDays: number;
  /** YYYY-MM-DD (UTC). */
  readonly startDate: string;
  readonly status: CourseStatus;
  readonly statusReason: string | null;
  readonly milestones: readonly Milestone[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface StoredOutcome {
  readonly journalN: number;
  readonly timepoint: 'before' | 'after' | 'milestone';
  readonly instrumentId: string;
  readonly instrumentVersion: string;
  readonly instrumentHash: string;
  readonly scores: Readonly<Record<string, number>>;
  readonly items: readonly { readonly activity: string; readonly rating: number }[] | null;
  readonly recordedAt: string;
}

export interface CourseSession {
  readonly sessionId: string;
  readonly number: number;
  /** Relative to the data directory: "sessions/<file>.jsonl". */
  readonly journalFile: string;
  /** The journal's bytes when last recorded (0 before the first recordSession). */
  readonly journal: JournalDigest;
  readonly protocolId: string;
  readonly protocolHash: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly endReason: string | null;
  readonly stimulationS: number | null;
  readonly milestone: boolean;
  readonly outcomes: readonly StoredOutcome[];
  /** null when the after-session question was never answered; [] when answered "none". */
  readonly adverseEffects: readonly AdverseEffect[] | null;
}

export interface CourseDetail extends Course {
  readonly notes: readonly CourseNote[];
  readonly sessions: readonly CourseSession[];
  /** Sessions that began (ended or not). */
  readonly sessionsDone: number;
  /** YYYY-MM-DD (UTC): the last session's date (or the start date) plus the interval; null when all planned sessions are done or the course is closed. */
  readonly nextDue: string | null;
}

export interface StartCourseInput {
  readonly patientRef: string;
  /** The validated protocol: id, content hash, name, indication and its schedule. */
  readonly protocol: Pick<Protocol, 'id' | 'hash' | 'name' | 'indication' | 'schedule'>;
  /** Default: the protocol's schedule.sessions. */
  readonly plannedSessions?: number;
  /** Default: the protocol's schedule.intervalDays. */
  readonly intervalDays?: number;
  /** YYYY-MM-DD; default: today (UTC). */
  readonly startDate?: string;
  /** Default: the protocol's indication. */
  readonly indication?: string;
  readonly milestones?: readonly Milestone[];
  readonly note?: string;
}

export interface BeganSession {
  readonly number: number;
  readonly milestone: boolean;
  /** The `course` record to append to the session's journal right after session-start. */
  readonly record: RecordDataInput<'course'>;
}

/** The last session of a course, to show (and confirm again) when the next one starts. */
export interface SessionPrefill {
  readonly fromSession: string;
  readonly sessionNumber: number;
  readonly protocol: { readonly id: string; readonly hash: string; readonly name: string };
  /** The channels' sites, each on the side it was treated on ("affected" in a journal from before the side was asked). */
  readonly sites: readonly { readonly channel: number; readonly region: string; readonly side: string; readonly sites: readonly string[] }[];
  /** The treated side chosen then (shown as a suggestion; the side is asked again), or null. */
  readonly side: TreatedSide | null;
  /** The screening answers given then (the screening is asked again: these are shown, not reused). */
  readonly screeningAnswers: RecordData<'session-start'>['screening']['answers'];
  /** The relative contraindications acknowledged then. */
  readonly acknowledged: readonly string[];
}

export interface StoreOptions {
  /** Wall clock (ISO times, today's date); default: the system clock. */
  readonly now?: () => Date;
  /** For crash tests: called inside every write transaction after its first statement. */
  readonly inTransaction?: (what: string) => void;
}

/** The session numbers that are milestones of a course of `planned` sessions. */
export function milestoneNumbers(planned: number, milestones: readonly Milestone[]): Set<number> {
  const out = new Set<number>();
  for (const m of milestones) {
    if (m === 'first') out.add(1);
    else if (m === 'last') out.add(planned);
    else if (m === 'middle') out.add(Math.ceil(planned / 2));
    else out.add(m);
  }
  return out;
}

/** YYYY-MM-DD plus `days`. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function validDate(date: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(`${date}T00:00:00Z`)) && new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) === date;
}

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function newCourseId(startDate: string): string {
  const random = [...randomBytes(6)].map((b) => ID_ALPHABET[b % 36]).join('');
  return `C${startDate.replaceAll('-', '')}-${random}`;
}

function milestonesProblem(milestones: readonly Milestone[], planned: number): string | undefined {
  if (milestones.length > 50) return 'at most 50 milestones';
  for (const m of milestones) {
    if (typeof m === 'number' && (!Number.isInteger(m) || m < 1 || m > planned)) return `milestone ${m} is not a session of this course (1-${planned})`;
    if (typeof m === 'string' && !['first', 'middle', 'last'].includes(m)) return `"${String(m)}" is not a milestone: first, middle, last or a session number`;
  }
  return undefined;
}

function planProblem(planned: number, interval: number): string | undefined {
  if (!Number.isInteger(planned) || planned < 1 || planned > PLAN_LIMITS.sessionsMax) return `${planned} is not a planned number of sessions (a whole number 1-${PLAN_LIMITS.sessionsMax})`;
  if (!Number.isInteger(interval) || interval < 1 || interval > PLAN_LIMITS.intervalDaysMax) return `${interval} is not an interval in days (a whole number 1-${PLAN_LIMITS.intervalDaysMax})`;
  return undefined;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const num = (v: unknown): number => Number(v);

function courseOf(row: SqlRow): Course {
  return {
    id: str(row['id']),
    patientRef: str(row['patient_ref']),
    indication: str(row['indication']),
    protocol: { id: str(row['protocol_id']), hash: str(row['protocol_hash']), name: str(row['protocol_name']) },
    plannedSessions: num(row['planned_sessions']),
    intervalDays: num(row['interval_days']),
    startDate: str(row['start_date']),
    status: str(row['status']) as CourseStatus,
    statusReason: strOrNull(row['status_reason']),
    milestones: JSON.parse(str(row['milestones'])) as Milestone[],
    createdAt: str(row['created_at']),
    updatedAt: str(row['updated_at']),
  };
}

export class CourseStore {
  readonly dataDir: string;
  readonly file: string;
  readonly #db: Sqlite;
  readonly #now: () => Date;
  readonly #inTransaction: (what: string) => void;
  /** The schema version the file had when opened (0: created now). */
  readonly openedVersion: number;

  private constructor(dataDir: string, db: Sqlite, options: StoreOptions, openedVersion: number) {
    this.dataDir = dataDir;
    this.file = db.file;
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#inTransaction = options.inTransaction ?? (() => undefined);
    this.openedVersion = openedVersion;
  }

  /**
   * Open `<dataDir>/courses.db` (created when absent), migrate it to the latest schema and record
   * again any session whose journal grew since (a crash before its recordSession). Returns
   * STORE_LOCKED, STORE_CORRUPT, STORE_NEWER or STORE_IO as a value; nothing on disk is changed
   * by a refusal.
   */
  static open(dataDir: string, options: StoreOptions = {}): { ok: true; store: CourseStore } | { ok: false; error: StoreError } {
    let db: Sqlite | undefined;
    try {
      db = Sqlite.open(path.join(dataDir, STORE_FILE));
      const from = migrate(db);
      const store = new CourseStore(dataDir, db, options, from);
      store.reconcile();
      return { ok: true, store };
    } catch (e) {
      db?.close();
      if (e instanceof StoreError) return { ok: false, error: e };
      const message = e instanceof Error ? e.message : String(e);
      const file = path.join(dataDir, STORE_FILE);
      return { ok: false, error: new StoreError(/malformed|corrupt|not a database/i.test(message) ? 'STORE_CORRUPT' : 'STORE_IO', `${file}: ${message}`, file) };
    }
  }

  static readonly schemaVersion = LATEST_VERSION;

  close(): void {
    this.#db.close();
  }

  #tx<T>(what: string, body: () => T): T {
    return this.#db.transaction(() => {
      const first = body();
      this.#inTransaction(what);
      return first;
    });
  }

  #iso(): string {
    return this.#now().toISOString();
  }

  // ---- patients ----------------------------------------------------------------------------------

  addPatient(ref: string, labels: readonly string[] = []): Result<Patient> {
    const problem = patientRefProblem(ref);
    if (problem) return fail('PATIENT_REF_INVALID', problem);
    const labelError = labelsProblem(labels);
    if (labelError) return fail('LABEL_INVALID', labelError);
    if (this.#db.get('SELECT 1 AS x FROM patients WHERE ref = ?', [ref])) return fail('PATIENT_EXISTS', `patient ${ref} already exists`);
    const createdAt = this.#iso();
    this.#tx('add patient', () => this.#db.run('INSERT INTO patients (ref, labels, created_at) VALUES (?, ?, ?)', [ref, JSON.stringify([...new Set(labels)]), createdAt]));
    return ok({ ref, labels: [...new Set(labels)], createdAt, courses: 0 });
  }

  setLabels(ref: string, labels: readonly string[]): Result<Patient> {
    const labelError = labelsProblem(labels);
    if (labelError) return fail('LABEL_INVALID', labelError);
    if (!this.getPatient(ref)) return fail('PATIENT_UNKNOWN', `no patient ${ref}`);
    this.#tx('set labels', () => this.#db.run('UPDATE patients SET labels = ? WHERE ref = ?', [JSON.stringify([...new Set(labels)]), ref]));
    return ok(this.getPatient(ref)!);
  }

  getPatient(ref: string): Patient | undefined {
    return this.#patients('WHERE p.ref = :ref', { ':ref': ref })[0];
  }

  /**
   * Every patient, by reference; with `find`, those whose reference or one of whose labels
   * contains it (case-insensitive), an exact reference first. Labels are matched here rather than
   * in SQL: they are a JSON list in one column, and a clinic's patients are few.
   */
  listPatients(find?: string): Patient[] {
    const list = this.#patients('', undefined);
    if (find === undefined) return list;
    const f = find.toLowerCase();
    const hits = list.filter((p) => p.ref.toLowerCase().includes(f) || p.labels.some((l) => l.toLowerCase().includes(f)));
    return [...hits.filter((p) => p.ref === find), ...hits.filter((p) => p.ref !== find)];
  }

  #patients(where: string, params: Record<string, string> | undefined): Patient[] {
    const rows = this.#db.all(
      `SELECT p.ref, p.labels, p.created_at, (SELECT count(*) FROM courses c WHERE c.patient_ref = p.ref) AS courses FROM patients p ${where} ORDER BY p.ref`,
      params,
    );
    return rows.map((r) => ({ ref: str(r['ref']), labels: JSON.parse(str(r['labels'])) as string[], createdAt: str(r['created_at']), courses: num(r['courses']) }));
  }

  // ---- courses -----------------------------------------------------------------------------------

  startCourse(input: StartCourseInput): Result<CourseDetail> {
    const patient = this.#db.get('SELECT ref FROM patients WHERE ref = ?', [input.patientRef]);
    if (!patient) {
      const problem = patientRefProblem(input.patientRef);
      return problem ? fail('PATIENT_REF_INVALID', problem) : fail('PATIENT_UNKNOWN', `no patient ${input.patientRef}: add the patient first (edn patients add ${input.patientRef})`);
    }
    const planned = plannedCourse(input.protocol.schedule);
    const sessions = input.plannedSessions ?? planned?.sessions;
    const interval = input.intervalDays ?? planned?.intervalDays;
    if (sessions === undefined || interval === undefined) {
      const missing = [sessions === undefined ? 'the planned number of sessions' : '', interval === undefined ? 'the interval in days' : ''].filter(Boolean).join(' and ');
      return fail('PLAN_MISSING', `protocol ${input.protocol.id} has no planned schedule: give ${missing}`);
    }
    const planError = planProblem(sessions, interval);
    if (planError) return fail('PLAN_INVALID', planError);
    const startDate = input.startDate ?? this.#iso().slice(0, 10);
    if (!validDate(startDate)) return fail('DATE_INVALID', `"${startDate}" is not a date as YYYY-MM-DD`);
    const milestones = input.milestones ?? DEFAULT_MILESTONES;
    const milestoneError = milestonesProblem(milestones, sessions);
    if (milestoneError) return fail('PLAN_INVALID', milestoneError);
    const indication = (input.indication ?? input.protocol.indication).trim();
    if (indication === '' || indication.length > 300) return fail('PLAN_INVALID', 'the indication must be 1-300 characters');
    if (input.note !== undefined && noteProblem(input.note)) return fail('NOTE_INVALID', noteProblem(input.note)!);
    const id = newCourseId(startDate);
    const now = this.#iso();
    this.#tx('start course', () => {
      this.#db.run(
        `INSERT INTO courses (id, patient_ref, indication, protocol_id, protocol_hash, protocol_name, planned_sessions, interval_days, start_date, status, status_reason, milestones, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', NULL, ?, ?, ?)`,
        [id, input.patientRef, indication, input.protocol.id, input.protocol.hash, input.protocol.name, sessions, interval, startDate, JSON.stringify(milestones), now, now],
      );
      if (input.note !== undefined) this.#db.run('INSERT INTO course_notes (course_id, at, text) VALUES (?, ?, ?)', [id, now, input.note.trim()]);
    });
    return ok(this.getCourse(id)!);
  }

  /** Courses, newest start first (of one patient when given). */
  listCourses(patientRef?: string): CourseDetail[] {
    const rows = this.#db.all(`SELECT * FROM courses ${patientRef === undefined ? '' : 'WHERE patient_ref = ?'} ORDER BY start_date DESC, created_at DESC`, patientRef === undefined ? undefined : [patientRef]);
    return rows.map((r) => this.#detail(courseOf(r)));
  }

  getCourse(id: string): CourseDetail | undefined {
    const row = this.#db.get('SELECT * FROM courses WHERE id = ?', [id]);
    return row ? this.#detail(courseOf(row)) : undefined;
  }

  /** Complete or stop a course (a stop needs its reason), or make a closed course active again. */
  setStatus(id: string, status: CourseStatus, reason?: string): Result<CourseDetail> {
    const course = this.getCourse(id);
    if (!course) return fail('COURSE_UNKNOWN', `no course ${id}`);
    if (!COURSE_STATUSES.includes(status)) return fail('STATUS_INVALID', `"${String(status)}" is not a status: ${COURSE_STATUSES.join(', ')}`);
    const why = reason?.trim();
    if (status === 'stopped' && (why === undefined || why === '')) return fail('STATUS_INVALID', 'say why the course is stopped (a reason is required)');
    if (why !== undefined && why.length > 500) return fail('STATUS_INVALID', 'the reason must be at most 500 characters');
    if (status === 'planned' && course.sessionsDone > 0) return fail('STATUS_INVALID', `course ${id} has ${course.sessionsDone} sessions: it cannot be planned again`);
    this.#tx('set status', () =>
      this.#db.run('UPDATE courses SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?', [status, why === undefined || why === '' ? null : why, this.#iso(), id]),
    );
    return ok(this.getCourse(id)!);
  }

  addNote(id: string, text: string): Result<CourseDetail> {
    if (!this.getCourse(id)) return fail('COURSE_UNKNOWN', `no course ${id}`);
    const problem = noteProblem(text);
    if (problem) return fail('NOTE_INVALID', problem);
    const now = this.#iso();
    this.#tx('add note', () => {
      this.#db.run('INSERT INTO course_notes (course_id, at, text) VALUES (?, ?, ?)', [id, now, text.trim()]);
      this.#db.run('UPDATE courses SET updated_at = ? WHERE id = ?', [now, id]);
    });
    return ok(this.getCourse(id)!);
  }

  // ---- sessions ----------------------------------------------------------------------------------

  /**
   * A session of the course begins: it takes the next number, the course becomes active, and the
   * caller writes the returned record into the session's journal right after session-start.
   */
  beginSession(courseId: string, sessionId: string, journalFile: string, protocol: { readonly id: string; readonly hash: string }): Result<BeganSession> {
    const course = this.getCourse(courseId);
    if (!course) return fail('COURSE_UNKNOWN', `no course ${courseId}`);
    if (course.status === 'completed' || course.status === 'stopped') {
      return fail('COURSE_CLOSED', `course ${courseId} is ${course.status}${course.statusReason ? ` (${course.statusReason})` : ''}: make it active again to run another session`);
    }
    if (this.#db.get('SELECT 1 AS x FROM sessions WHERE session_id = ?', [sessionId])) return fail('SESSION_EXISTS', `session ${sessionId} is already recorded`);
    const rel = this.#relative(journalFile);
    if (rel === undefined) return fail('JOURNAL_MISMATCH', `${journalFile} is not in ${path.join(this.dataDir, 'sessions')}`);
    const number = course.sessions.reduce((m, s) => Math.max(m, s.number), 0) + 1;
    const milestone = milestoneNumbers(course.plannedSessions, course.milestones).has(number);
    this.#tx('begin session', () => {
      this.#db.run(
        `INSERT INTO sessions (session_id, course_id, number, journal_file, journal_bytes, journal_sha256, protocol_id, protocol_hash)
         VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
        [sessionId, courseId, number, rel, EMPTY_SHA256, protocol.id, protocol.hash],
      );
      if (course.status === 'planned') this.#db.run("UPDATE courses SET status = 'active', updated_at = ? WHERE id = ?", [this.#iso(), courseId]);
    });
    return ok({
      number,
      milestone,
      record: {
        courseId,
        sessionNumber: number,
        milestone,
        course: {
          patientRef: course.patientRef,
          indication: course.indication,
          protocolId: protocol.id,
          plannedSessions: course.plannedSessions,
          intervalDays: course.intervalDays,
          startDate: course.startDate,
          status: 'active',
          milestones: [...course.milestones],
        },
      },
    });
  }

  /**
   * Record (again) what a session's journal says: start, end, outcomes, adverse effects, and the
   * journal's digest. Idempotent. A journal of a course this store does not know (after a rebuild,
   * or from another computer) creates the course from the journal's course record.
   */
  recordSession(journalFile: string): Result<CourseSession> {
    const rel = this.#relative(journalFile);
    if (rel === undefined) return fail('JOURNAL_MISMATCH', `${journalFile} is not in ${path.join(this.dataDir, 'sessions')}`);
    let file: ReturnType<typeof readJournalFile>;
    try {
      file = readJournalFile(path.join(this.dataDir, rel));
    } catch (e) {
      return fail('JOURNAL_UNREADABLE', `cannot read ${rel}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const facts = courseFactsOf(file.read);
    if (facts.kind === 'none') return fail('JOURNAL_MISMATCH', `${rel} is not the journal of a course session (it has no course record)`);
    if (facts.kind === 'invalid') return fail('JOURNAL_MISMATCH', `${rel}: ${facts.reason}`);
    return this.#ingest(rel, file.digest, facts.facts);
  }

  /**
   * What the next session of a course starts from: the last session's protocol, treated sites and
   * screening answers, read from its journal. They are shown for the clinician to confirm again,
   * never reused silently: the screening is asked again each session, with these answers shown.
   * null when the course has no session whose journal can be read.
   */
  lastSessionPrefill(courseId: string): Result<SessionPrefill | null> {
    const course = this.getCourse(courseId);
    if (!course) return fail('COURSE_UNKNOWN', `no course ${courseId}`);
    for (const s of [...course.sessions].reverse()) {
      let read: ReturnType<typeof readJournalFile>['read'];
      try {
        read = readJournalFile(path.join(this.dataDir, s.journalFile)).read;
      } catch {
        continue;
      }
      const start = read.records.find((r) => r.type === 'session-start');
      if (start?.type !== 'session-start') continue;
      return ok({
        fromSession: s.sessionId,
        sessionNumber: s.number,
        protocol: { id: start.data.protocol.id, hash: start.data.protocol.hash, name: start.data.protocol.name },
        sites: treatedChannels(start.data),
        side: start.data.side ?? null,
        screeningAnswers: start.data.screening.answers,
        acknowledged: start.data.screening.acknowledgements.map((a) => a.id),
      });
    }
    return ok(null);
  }

  /** Record again every session whose journal changed since it was last recorded. Returns how many. */
  reconcile(): number {
    const rows = this.#db.all('SELECT journal_file, journal_bytes FROM sessions');
    let n = 0;
    for (const r of rows) {
      const file = path.join(this.dataDir, str(r['journal_file']));
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        continue; // a missing journal is reported by the course report, never guessed at here
      }
      if (size !== num(r['journal_bytes']) && this.recordSession(file).ok) n++;
    }
    return n;
  }

  /** Used by recordSession and the rebuild: the facts of one journal into the store, in one transaction. */
  #ingest(rel: string, linked: JournalDigest, facts: CourseSessionFacts): Result<CourseSession> {
    const c = facts.course;
    const existing = this.getCourse(c.courseId);
    if (existing && existing.patientRef !== facts.patientRef) {
      return fail('JOURNAL_MISMATCH', `${rel} is a session of course ${c.courseId} for patient ${facts.patientRef}, but the course is ${existing.patientRef}'s`);
    }
    const other = this.#db.get('SELECT session_id, course_id FROM sessions WHERE (course_id = ? AND number = ? AND session_id != ?) OR (session_id = ? AND course_id != ?)', [
      c.courseId,
      c.sessionNumber,
      facts.sessionId,
      facts.sessionId,
      c.courseId,
    ]);
    if (other) return fail('JOURNAL_MISMATCH', `${rel}: session ${facts.sessionId} as number ${c.sessionNumber} of ${c.courseId} conflicts with session ${str(other['session_id'])} of ${str(other['course_id'])}`);
    const now = this.#iso();
    this.#tx('record session', () => {
      if (!this.#db.get('SELECT 1 AS x FROM patients WHERE ref = ?', [facts.patientRef])) {
        this.#db.run('INSERT INTO patients (ref, labels, created_at) VALUES (?, ?, ?)', [facts.patientRef, '[]', facts.startedAt]);
      }
      if (!existing) {
        this.#db.run(
          `INSERT INTO courses (id, patient_ref, indication, protocol_id, protocol_hash, protocol_name, planned_sessions, interval_days, start_date, status, status_reason, milestones, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [c.courseId, facts.patientRef, c.course.indication, facts.protocol.id, facts.protocol.hash, facts.protocol.name, c.course.plannedSessions, c.course.intervalDays, c.course.startDate, c.course.status, c.course.statusReason ?? null, JSON.stringify(c.course.milestones), facts.startedAt, now],
        );
      } else if (existing.status === 'planned') {
        this.#db.run("UPDATE courses SET status = 'active', updated_at = ? WHERE id = ?", [now, c.courseId]);
      }
      this.#db.run(
        `INSERT INTO sessions (session_id, course_id, number, journal_file, journal_bytes, journal_sha256, protocol_id, protocol_hash, started_at, ended_at, end_reason, stimulation_s)
         VALUES (:id, :course, :number, :file, :bytes, :sha, :pid, :phash, :start, :end, :reason, :stim)
         ON CONFLICT (session_id) DO UPDATE SET journal_file = :file, journal_bytes = :bytes, journal_sha256 = :sha, protocol_id = :pid, protocol_hash = :phash,
           started_at = :start, ended_at = :end, end_reason = :reason, stimulation_s = :stim`,
        {
          ':id': facts.sessionId,
          ':course': c.courseId,
          ':number': c.sessionNumber,
          ':file': rel,
          ':bytes': linked.bytes,
          ':sha': linked.sha256,
          ':pid': facts.protocol.id,
          ':phash': facts.protocol.hash,
          ':start': facts.startedAt,
          ':end': facts.endedAt,
          ':reason': facts.endReason,
          ':stim': facts.stimulationS,
        },
      );
      this.#db.run('DELETE FROM outcomes WHERE session_id = ?', [facts.sessionId]);
      this.#db.run('DELETE FROM adverse_effects WHERE session_id = ?', [facts.sessionId]);
      for (const o of facts.outcomes) {
        this.#db.run(
          `INSERT INTO outcomes (session_id, journal_n, timepoint, instrument_id, instrument_version, instrument_hash, scores, items, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [facts.sessionId, o.n, o.timepoint, o.instrumentId, o.instrumentVersion, o.instrumentHash, JSON.stringify(o.scores), o.items === undefined ? null : JSON.stringify(o.items), o.recordedAt],
        );
      }
      const adverse = facts.adverseEffects;
      if (adverse) {
        // An answered "none" is a row of kind 'none', so "none" and "not asked" stay different.
        const effects = adverse.effects.length > 0 ? adverse.effects : [{ kind: 'none', severity: 'none' }];
        effects.forEach((e, i) => {
          this.#db.run('INSERT INTO adverse_effects (session_id, journal_n, position, kind, severity, text, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
            facts.sessionId,
            adverse.n,
            i,
            e.kind,
            e.severity,
            'text' in e && e.text !== undefined ? e.text : null,
            adverse.recordedAt,
          ]);
        });
      }
      this.#db.run('UPDATE courses SET updated_at = ? WHERE id = ?', [now, c.courseId]);
    });
    const session = this.getCourse(c.courseId)?.sessions.find((s) => s.sessionId === facts.sessionId);
    return session ? ok(session) : fail('SESSION_UNKNOWN', `session ${facts.sessionId} was not recorded`);
  }

  /** Internal to rebuild.ts: ingest facts already read. */
  ingestFacts(rel: string, linked: JournalDigest, facts: CourseSessionFacts): Result<CourseSession> {
    return this.#ingest(rel, linked, facts);
  }

  #relative(journalFile: string): string | undefined {
    const sessions = path.resolve(this.dataDir, 'sessions');
    const abs = path.resolve(this.dataDir, journalFile);
    if (path.dirname(abs) !== sessions) return undefined;
    return `sessions/${path.basename(abs)}`;
  }

  #detail(course: Course): CourseDetail {
    const notes = this.#db.all('SELECT at, text FROM course_notes WHERE course_id = ? ORDER BY id', [course.id]).map((r) => ({ at: str(r['at']), text: str(r['text']) }));
    const milestoneSet = milestoneNumbers(course.plannedSessions, course.milestones);
    const sessions = this.#db.all('SELECT * FROM sessions WHERE course_id = ? ORDER BY number', [course.id]).map((r): CourseSession => {
      const id = str(r['session_id']);
      const outcomes = this.#db.all('SELECT * FROM outcomes WHERE session_id = ? ORDER BY journal_n', [id]).map((o) => ({
        journalN: num(o['journal_n']),
        timepoint: str(o['timepoint']) as StoredOutcome['timepoint'],
        instrumentId: str(o['instrument_id']),
        instrumentVersion: str(o['instrument_version']),
        instrumentHash: str(o['instrument_hash']),
        scores: JSON.parse(str(o['scores'])) as Record<string, number>,
        items: o['items'] === null ? null : (JSON.parse(str(o['items'])) as { activity: string; rating: number }[]),
        recordedAt: str(o['recorded_at']),
      }));
      const adverseRows = this.#db.all('SELECT * FROM adverse_effects WHERE session_id = ? ORDER BY position', [id]);
      const adverseEffects =
        adverseRows.length === 0
          ? null
          : adverseRows
              .filter((a) => a['kind'] !== 'none')
              .map((a) => ({ kind: str(a['kind']), severity: str(a['severity']), ...(a['text'] === null ? {} : { text: str(a['text']) }) }) as AdverseEffect);
      return {
        sessionId: id,
        number: num(r['number']),
        journalFile: str(r['journal_file']),
        journal: { bytes: num(r['journal_bytes']), sha256: str(r['journal_sha256']) },
        protocolId: str(r['protocol_id']),
        protocolHash: str(r['protocol_hash']),
        startedAt: strOrNull(r['started_at']),
        endedAt: strOrNull(r['ended_at']),
        endReason: strOrNull(r['end_reason']),
        stimulationS: r['stimulation_s'] === null ? null : num(r['stimulation_s']),
        milestone: milestoneSet.has(num(r['number'])),
        outcomes,
        adverseEffects,
      };
    });
    const last = sessions.at(-1);
    const closed = course.status === 'completed' || course.status === 'stopped';
    const from = last?.startedAt?.slice(0, 10) ?? null;
    const nextDue = closed || sessions.length >= course.plannedSessions ? null : from === null ? course.startDate : addDays(from, course.intervalDays);
    return { ...course, notes, sessions, sessionsDone: sessions.length, nextDue };
  }
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const IDENTIFYING_WORDS: Readonly<Record<IdentifyingKind, string>> = Object.freeze({ date: 'a date', phone: 'a phone number', email: 'an e-mail address', name: 'a name' });

/**
 * Why labels may not be stored: the label alphabet, then the same identifying-text heuristics as
 * notes and references (src/domain/privacy.ts: dates, phone numbers, e-mail addresses, a title and
 * a name), and seven digits or more (a phone number or a date written without separators).
 */
export function labelsProblem(labels: readonly string[]): string | undefined {
  if (labels.length > MAX_LABELS) return `at most ${MAX_LABELS} labels`;
  for (const l of labels) {
    if (!LABEL_PATTERN.test(l)) return `"${l}" is not a label: 1-32 letters, digits, spaces, "_" or "-" (labels group patients, e.g. "knee" or "trial-A"; never a name or contact detail)`;
    const found = findIdentifying(l)[0];
    if (found) return `"${l}" looks like ${IDENTIFYING_WORDS[found.kind]} ("${found.text}"): labels group patients and never identify one`;
    if ((l.match(/[0-9]/g) ?? []).length >= 7) return `"${l}" looks like contact details or a date: labels group patients and never identify one`;
  }
  return undefined;
}


function noteProblem(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return 'a note must not be empty';
  if (t.length > 2000) return 'a note must be at most 2000 characters';
  return undefined;
}

export { StoreError, COURSE_ID_PATTERN };
