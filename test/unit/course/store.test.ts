/**
 * The course store on a real SQLite file in a temp directory: patients, courses from a protocol's
 * schedule, sessions linked to their journals, outcomes and adverse effects taken from the
 * journals, status rules, one writer, stale locks, corruption (a clear error, nothing lost: rebuild
 * from the journals), and the v1 -> v2 migration from a frozen v1 file.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'node-sqlite3-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { CourseStore, LATEST_VERSION, STORE_FILE, type CourseStore as Store, checkLink, milestoneNumbers, rebuildFromJournals } from '../../../src/course/index.js';
import { KNEE, writeCourseSession } from '../../fixtures/course/course-session.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const NOW = new Date('2025-03-14T09:00:00.000Z');
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-course-'));
  dirs.push(d);
  return d;
}
function open(dataDir: string): Store {
  const r = CourseStore.open(dataDir, { now: () => NOW });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  stores.push(r.store);
  return r.store;
}
function close(store: Store): void {
  stores.splice(stores.indexOf(store), 1);
  store.close();
}
function value<T>(r: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** A course on the knee protocol with `n` sessions run (NPRS before/after, bruising on the second). */
function kneeCourse(dataDir: string, store: Store, n: number) {
  value(store.addPatient('PT-0042', ['knee']));
  return kneeCourseFor(dataDir, store, n);
}

/** The same, for a patient PT-0042 already in the store. */
function kneeCourseFor(dataDir: string, store: Store, n: number) {
  const course = value(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, startDate: '2025-03-14' }));
  const written = [];
  for (let i = 0; i < n; i++) {
    const sessionId = `S-KNEE-${i + 1}`;
    const wallStartMs = Date.UTC(2025, 2, 14 + 4 * i, 9, 30);
    const file = path.join(dataDir, 'sessions', `${new Date(wallStartMs).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${sessionId}.jsonl`);
    const began = value(store.beginSession(course.id, sessionId, file, KNEE));
    const w = writeCourseSession(dataDir, {
      sessionId,
      patientRef: 'PT-0042',
      course: began.record,
      wallStartMs,
      nprsBefore: 7 - i,
      nprsAfter: 5 - i,
      adverse: i === 1 ? [{ kind: 'bruising', severity: 'mild' }] : [],
    });
    expect(w.path).toBe(file);
    value(store.recordSession(w.path));
    written.push(w);
  }
  return { course: store.getCourse(course.id)!, written };
}

describe('patients', () => {
  it('are pseudonymous references with optional labels; names, contact details and dates are refused', () => {
    const store = open(tempDir());
    expect(value(store.addPatient('PT-0042', ['knee', 'trial-A']))).toEqual({ ref: 'PT-0042', labels: ['knee', 'trial-A'], createdAt: NOW.toISOString(), courses: 0 });
    expect(store.addPatient('Jane Smith')).toMatchObject({ ok: false, error: { code: 'PATIENT_REF_INVALID' } });
    expect(store.addPatient('PT-0042')).toEqual({ ok: false, error: { code: 'PATIENT_EXISTS', message: 'patient PT-0042 already exists' } });
    expect(store.addPatient('PT-0043', ['jane@example.org'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID' } });
    expect(store.addPatient('PT-0043', ['born 19800101'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID', message: '"born 19800101" looks like a date ("born"): labels group patients and never identify one' } });
    // The notes' heuristics (src/domain/privacy.ts) apply to labels too: a title and a name, a phone number, a date.
    expect(store.addPatient('PT-0043', ['Mrs Jones'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID', message: '"Mrs Jones" looks like a name ("Mrs Jones"): labels group patients and never identify one' } });
    expect(store.addPatient('PT-0043', ['555-1234'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID', message: expect.stringMatching(/^"555-1234" looks like a phone number/) as unknown } });
    expect(store.addPatient('PT-0043', ['12-03-1955'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID', message: expect.stringMatching(/^"12-03-1955" looks like a date/) as unknown } });
    expect(store.addPatient('PT-0043', ['jones 07700900123'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID' } });
    value(store.addPatient('XY-0099'));
    expect(store.listPatients().map((p) => p.ref)).toEqual(['PT-0042', 'XY-0099']);
    expect(store.listPatients('pt-00').map((p) => p.ref)).toEqual(['PT-0042']);
    expect(value(store.setLabels('XY-0099', ['back', 'trial-B'])).labels).toEqual(['back', 'trial-B']);
    expect(store.setLabels('XY-0099', ['Dr Who'])).toMatchObject({ ok: false, error: { code: 'LABEL_INVALID' } });
    expect(store.setLabels('ZZ-0001', ['knee'])).toMatchObject({ ok: false, error: { code: 'PATIENT_UNKNOWN' } });
    expect(store.getPatient('XY-0099')?.labels).toEqual(['back', 'trial-B']);
  });

  it('are found by a part of their reference or of one of their labels, an exact reference first', () => {
    const store = open(tempDir());
    value(store.addPatient('PT-0042', ['knee', 'trial-A']));
    value(store.addPatient('PT-0007', ['back']));
    value(store.addPatient('KN-0001'));
    expect(store.listPatients('TRIAL').map((p) => p.ref)).toEqual(['PT-0042']);
    expect(store.listPatients('kn').map((p) => p.ref)).toEqual(['KN-0001', 'PT-0042']);
    expect(store.listPatients('KN-0001').map((p) => p.ref)).toEqual(['KN-0001']);
    expect(store.listPatients('hip')).toEqual([]);
    // getPatient is by reference only: a label that reads like a reference finds nobody.
    value(store.setLabels('PT-0007', ['PT-9999']));
    expect(store.getPatient('PT-9999')).toBeUndefined();
    expect(store.listPatients('PT-9999').map((p) => p.ref)).toEqual(['PT-0007']);
  });
});

describe('courses', () => {
  it('take their planned sessions and interval from the protocol schedule, unless given', () => {
    const store = open(tempDir());
    value(store.addPatient('PT-0042'));
    const c = value(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE }));
    expect(c).toMatchObject({ plannedSessions: 10, intervalDays: 4, startDate: '2025-03-14', status: 'planned', indication: KNEE.indication, protocol: { id: KNEE.id, hash: KNEE.hash }, sessionsDone: 0, nextDue: '2025-03-14' });
    expect(c.id).toMatch(/^C20250314-[0-9A-Z]{6}$/);
    const own = value(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, plannedSessions: 6, intervalDays: 7, startDate: '2025-04-01', note: 'right knee' }));
    expect([own.plannedSessions, own.intervalDays, own.notes.map((n) => n.text)]).toEqual([6, 7, ['right knee']]);
    expect(store.listCourses('PT-0042').map((x) => x.id)).toEqual([own.id, c.id]);
  });

  it('refuse what they cannot plan, naming what is missing', () => {
    const store = open(tempDir());
    value(store.addPatient('PT-0042'));
    // A protocol whose schedule is the older text form: no planned numbers.
    const textOnly = { protocol: { ...KNEE, schedule: 'weekly' } };
    expect(store.startCourse({ patientRef: 'PT-0042', protocol: textOnly.protocol })).toEqual({
      ok: false,
      error: { code: 'PLAN_MISSING', message: 'protocol knee-oa-periosteal has no planned schedule: give the planned number of sessions and the interval in days' },
    });
    expect(value(store.startCourse({ patientRef: 'PT-0042', protocol: textOnly.protocol, plannedSessions: 6, intervalDays: 7 })).plannedSessions).toBe(6);
    expect(store.startCourse({ patientRef: 'PT-0099', protocol: KNEE })).toMatchObject({ ok: false, error: { code: 'PATIENT_UNKNOWN', message: 'no patient PT-0099: add the patient first (edn patients add PT-0099)' } });
    expect(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, plannedSessions: 0 })).toMatchObject({ ok: false, error: { code: 'PLAN_INVALID' } });
    expect(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, startDate: '2025-02-30' })).toMatchObject({ ok: false, error: { code: 'DATE_INVALID' } });
    expect(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, milestones: [12] })).toMatchObject({ ok: false, error: { code: 'PLAN_INVALID', message: 'milestone 12 is not a session of this course (1-10)' } });
  });

  it('are stopped only with a reason, and a closed course runs no session', () => {
    const store = open(tempDir());
    value(store.addPatient('PT-0042'));
    const c = value(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE }));
    expect(store.setStatus(c.id, 'stopped')).toMatchObject({ ok: false, error: { code: 'STATUS_INVALID', message: 'say why the course is stopped (a reason is required)' } });
    expect(value(store.setStatus(c.id, 'stopped', 'pain resolved'))).toMatchObject({ status: 'stopped', statusReason: 'pain resolved', nextDue: null });
    expect(store.beginSession(c.id, 'S-1', path.join(store.dataDir, 'sessions', 'x.jsonl'), KNEE)).toMatchObject({ ok: false, error: { code: 'COURSE_CLOSED' } });
    expect(value(store.addNote(c.id, 'patient to call back')).notes.map((n) => n.text)).toEqual(['patient to call back']);
    expect(store.setStatus('C20990101-XXXXXX', 'completed')).toMatchObject({ ok: false, error: { code: 'COURSE_UNKNOWN' } });
  });

  it('milestones: first, middle and last by default, or as configured', () => {
    expect([...milestoneNumbers(10, ['first', 'middle', 'last'])].sort((a, b) => a - b)).toEqual([1, 5, 10]);
    expect([...milestoneNumbers(6, ['first', 3, 'last'])].sort((a, b) => a - b)).toEqual([1, 3, 6]);
  });
});

describe('sessions of a course', () => {
  it('are numbered, linked to their journals, and carry the outcomes and adverse effects the journals hold', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    const { course, written } = kneeCourse(dataDir, store, 3);
    expect(course.status).toBe('active');
    expect(course.sessions.map((s) => [s.number, s.milestone, s.endReason])).toEqual([
      [1, true, 'completed'],
      [2, false, 'completed'],
      [3, false, 'completed'],
    ]);
    const s2 = course.sessions[1]!;
    expect(s2.outcomes.map((o) => [o.timepoint, o.instrumentId, o.scores])).toEqual([
      ['before', 'nprs', { score: 6 }],
      ['after', 'nprs', { score: 4 }],
    ]);
    expect(s2.adverseEffects).toEqual([{ kind: 'bruising', severity: 'mild' }]);
    expect(course.sessions[0]!.adverseEffects).toEqual([]); // asked: none
    expect(s2.journalFile).toBe(`sessions/${path.basename(written[1]!.path)}`);
    expect(checkLink(written[1]!.path, s2.journal)).toBe('unchanged');
    expect(s2.journal.bytes).toBe(fs.statSync(written[1]!.path).size);
    // 2025-03-22 (the third session) + 4 days
    expect([course.sessionsDone, course.nextDue]).toEqual([3, '2025-03-26']);
    // Recording again changes nothing.
    value(store.recordSession(written[1]!.path));
    expect(store.getCourse(course.id)).toEqual(course);
  });

  it('the next session starts from the last one: protocol, sites and screening answers, to confirm again', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    value(store.addPatient('PT-0042'));
    const empty = value(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE }));
    expect(value(store.lastSessionPrefill(empty.id))).toBeNull();
    const { course } = kneeCourseFor(dataDir, store, 2);
    const prefill = value(store.lastSessionPrefill(course.id))!;
    expect([prefill.fromSession, prefill.sessionNumber, prefill.protocol.id, prefill.protocol.hash]).toEqual(['S-KNEE-2', 2, KNEE.id, KNEE.hash]);
    expect(prefill.sites.map((c) => [c.channel, c.region, c.side])).toEqual([
      [1, 'knee', 'affected'],
      [2, 'knee', 'affected'],
    ]);
    expect(prefill.screeningAnswers.patientRef).toBe('PT-0042');
    expect(Object.values(prefill.screeningAnswers.answers).every((a) => a === false)).toBe(true);
    expect(store.lastSessionPrefill('C20990101-XXXXXX')).toMatchObject({ ok: false, error: { code: 'COURSE_UNKNOWN' } });
  });

  it('a session killed mid-way keeps its number; its journal is recorded again when the store is next opened', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    value(store.addPatient('PT-0042'));
    const c = value(store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, startDate: '2025-03-14' }));
    const file = path.join(dataDir, 'sessions', '20250314T093000Z-S-CUT.jsonl');
    const began = value(store.beginSession(c.id, 'S-CUT', file, KNEE));
    writeCourseSession(dataDir, { sessionId: 'S-CUT', patientRef: 'PT-0042', course: began.record, wallStartMs: Date.UTC(2025, 2, 14, 9, 30), nprsBefore: 6, cutAfterRecords: 12 });
    close(store); // the app died before recordSession
    const again = open(dataDir);
    const session = again.getCourse(c.id)!.sessions[0]!;
    expect([session.number, session.endedAt, session.outcomes.map((o) => o.scores['score'])]).toEqual([1, null, [6]]);
    expect(value(again.beginSession(c.id, 'S-NEXT', path.join(dataDir, 'sessions', 'y.jsonl'), KNEE)).number).toBe(2);
  });

  it('a journal that does not belong is refused, naming why', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    const { course } = kneeCourse(dataDir, store, 1);
    const other = writeCourseSession(dataDir, {
      sessionId: 'S-OTHER',
      patientRef: 'PT-0077',
      course: {
        courseId: course.id,
        sessionNumber: 2,
        milestone: false,
        course: { patientRef: 'PT-0077', indication: course.indication, protocolId: KNEE.id, plannedSessions: 10, intervalDays: 4, startDate: course.startDate, status: 'active', milestones: ['first'] },
      },
      wallStartMs: Date.UTC(2025, 3, 1),
    });
    const refused = store.recordSession(other.path);
    expect(refused.ok ? '' : `${refused.error.code}: ${refused.error.message}`).toContain(`JOURNAL_MISMATCH: sessions/${path.basename(other.path)} is a session of course ${course.id} for patient PT-0077, but the course is PT-0042's`);
    expect(store.recordSession(path.join(dataDir, '..', 'elsewhere.jsonl'))).toMatchObject({ ok: false, error: { code: 'JOURNAL_MISMATCH' } });
  });
});

describe('one writer', () => {
  it('a second open is refused while the first is open, and allowed after it closes', () => {
    const dataDir = tempDir();
    const first = open(dataDir);
    const second = CourseStore.open(dataDir);
    expect(second.ok).toBe(false);
    expect(second.ok ? '' : `${second.error.code}: ${second.error.message}`).toMatch(/^STORE_LOCKED: the course store .*courses\.db is open in this process/);
    close(first);
    open(dataDir);
  });

  it('the lock of a process that was killed is stale and cleared', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    value(store.addPatient('PT-0042'));
    close(store);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const file = path.join(dataDir, STORE_FILE);
    fs.writeFileSync(`${file}.owner`, JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), since: '2025-03-14T08:00:00.000Z' }));
    fs.mkdirSync(`${file}.lock`);
    const again = open(dataDir);
    expect(again.listPatients().map((p) => p.ref)).toEqual(['PT-0042']);
  });
});

describe('damage', () => {
  it('a file that is not a database gives a clear error and is left as it is', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, STORE_FILE);
    fs.writeFileSync(file, 'this is not SQLite '.repeat(300));
    const r = CourseStore.open(dataDir);
    expect(r.ok ? '' : r.error.code).toBe('STORE_CORRUPT');
    expect(r.ok ? '' : r.error.message).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('this is not SQLite '.repeat(300));
    expect(fs.existsSync(`${file}.owner`)).toBe(false);
  });

  it('a damaged store is rebuilt from the journals: every session, outcome and adverse effect comes back', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    const { course } = kneeCourse(dataDir, store, 3);
    close(store);
    const file = path.join(dataDir, STORE_FILE);
    const bytes = fs.readFileSync(file);
    bytes.fill(0x5a, 0, 100); // the header and more
    fs.writeFileSync(file, bytes);
    const refused = CourseStore.open(dataDir);
    expect(refused.ok ? '' : refused.error.code).toBe('STORE_CORRUPT');

    const rebuilt = rebuildFromJournals(dataDir, { now: () => NOW });
    if (!rebuilt.ok) throw new Error(rebuilt.error.message);
    stores.push(rebuilt.store);
    expect(rebuilt.report).toMatchObject({ journals: 3, withoutCourse: 0, sessions: 3, courses: 1, patients: 1, skipped: [] });
    expect(rebuilt.report.movedAside).toEqual([`${file}.damaged-20250314T090000Z`]);
    expect(fs.readFileSync(rebuilt.report.movedAside[0]!)).toEqual(bytes);
    const back = rebuilt.store.getCourse(course.id)!;
    const strip = (c: typeof course) => c.sessions.map((s) => ({ ...s, outcomes: s.outcomes, adverseEffects: s.adverseEffects }));
    expect(strip(back)).toEqual(strip(course));
    expect([back.plannedSessions, back.intervalDays, back.startDate, back.patientRef, back.status]).toEqual([10, 4, '2025-03-14', 'PT-0042', 'active']);
  });
});

describe('schema versions', () => {
  it('a version 1 file (frozen fixture) is migrated to the latest version with every row kept', () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, STORE_FILE);
    const db = new sqlite3.Database(file);
    db.exec(fs.readFileSync(path.resolve(import.meta.dirname, '../../fixtures/course/store-v1.sql'), 'utf8'));
    db.close();
    const store = open(dataDir);
    expect([store.openedVersion, LATEST_VERSION]).toEqual([1, 2]);
    expect(store.listPatients().map((p) => [p.ref, p.labels])).toEqual([
      ['PT-0042', ['knee']],
      ['PT-0043', []],
    ]);
    const knee = store.getCourse('C20250314-7KQ2MD')!;
    expect(knee).toMatchObject({ plannedSessions: 10, intervalDays: 4, status: 'active', milestones: ['first', 'middle', 'last'], notes: [{ text: 'Left knee; exercise programme as well.' }] });
    expect(knee.sessions[0]).toMatchObject({ number: 1, milestone: true, endReason: 'completed', adverseEffects: [{ kind: 'bruising', severity: 'mild' }] });
    expect(knee.sessions[0]!.outcomes.map((o) => [o.timepoint, o.scores])).toEqual([
      ['before', { score: 7 }],
      ['after', { score: 4 }],
    ]);
    expect(store.getCourse('C20250101-AAAAAA')).toMatchObject({ status: 'stopped', statusReason: 'moved away' });
  });

  it('a file of a newer version is refused, untouched', () => {
    const dataDir = tempDir();
    const store = open(dataDir);
    close(store);
    const db = new sqlite3.Database(path.join(dataDir, STORE_FILE));
    db.get('PRAGMA locking_mode=EXCLUSIVE');
    db.exec('PRAGMA user_version = 99');
    db.close();
    const r = CourseStore.open(dataDir);
    expect(r.ok ? '' : `${r.error.code}: ${r.error.message}`).toMatch(/^STORE_NEWER: .* has schema version 99; this version of the app reads up to 2/);
  });
});
