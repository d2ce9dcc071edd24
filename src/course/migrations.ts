/**
 * The course store's schema, versioned with SQLite's `user_version`. Each migration takes the
 * database from version i to i + 1 inside one transaction (with the version bump), so a crash mid-
 * migration leaves the old version intact. A file of a version newer than LATEST is refused
 * (STORE_NEWER), never guessed at. The test suite opens a frozen v1 database (test/fixtures/course/
 * store-v1.sql) and checks that every row survives the upgrade.
 */
import { type Sqlite, StoreError } from './sqlite.js';

/** The statements of each migration; MIGRATIONS[0] creates version 1 from an empty file. */
export const MIGRATIONS: readonly (readonly string[])[] = [
  // v1: patients, courses, their sessions (each linked to its journal), outcomes, adverse effects.
  [
    `CREATE TABLE patients (
       ref TEXT PRIMARY KEY,
       labels TEXT NOT NULL DEFAULT '[]',
       created_at TEXT NOT NULL
     ) STRICT`,
    `CREATE TABLE courses (
       id TEXT PRIMARY KEY,
       patient_ref TEXT NOT NULL REFERENCES patients(ref),
       indication TEXT NOT NULL,
       protocol_id TEXT NOT NULL,
       protocol_hash TEXT NOT NULL,
       protocol_name TEXT NOT NULL,
       planned_sessions INTEGER NOT NULL CHECK (planned_sessions >= 1),
       interval_days INTEGER NOT NULL CHECK (interval_days >= 1),
       start_date TEXT NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('planned', 'active', 'completed', 'stopped')),
       status_reason TEXT,
       created_at TEXT NOT NULL,
       updated_at TEXT NOT NULL
     ) STRICT`,
    `CREATE TABLE course_notes (
       id INTEGER PRIMARY KEY,
       course_id TEXT NOT NULL REFERENCES courses(id),
       at TEXT NOT NULL,
       text TEXT NOT NULL
     ) STRICT`,
    `CREATE TABLE sessions (
       session_id TEXT PRIMARY KEY,
       course_id TEXT NOT NULL REFERENCES courses(id),
       number INTEGER NOT NULL,
       journal_file TEXT NOT NULL,
       journal_bytes INTEGER NOT NULL,
       journal_sha256 TEXT NOT NULL,
       protocol_id TEXT NOT NULL,
       protocol_hash TEXT NOT NULL,
       started_at TEXT,
       ended_at TEXT,
       end_reason TEXT,
       stimulation_s REAL,
       UNIQUE (course_id, number)
     ) STRICT`,
    `CREATE TABLE outcomes (
       session_id TEXT NOT NULL REFERENCES sessions(session_id),
       journal_n INTEGER NOT NULL,
       timepoint TEXT NOT NULL CHECK (timepoint IN ('before', 'after', 'milestone')),
       instrument_id TEXT NOT NULL,
       instrument_version TEXT NOT NULL,
       instrument_hash TEXT NOT NULL,
       scores TEXT NOT NULL,
       items TEXT,
       recorded_at TEXT NOT NULL,
       PRIMARY KEY (session_id, journal_n)
     ) STRICT`,
    `CREATE TABLE adverse_effects (
       session_id TEXT NOT NULL REFERENCES sessions(session_id),
       journal_n INTEGER NOT NULL,
       position INTEGER NOT NULL,
       kind TEXT NOT NULL,
       severity TEXT NOT NULL,
       text TEXT,
       recorded_at TEXT NOT NULL,
       PRIMARY KEY (session_id, journal_n, position)
     ) STRICT`,
  ],
  // v2: configurable milestones per course (which sessions ask for GROC, PSFS and licensed
  // scores; until now always the first, middle and last), and the index the patient's course
  // list uses.
  [
    `ALTER TABLE courses ADD COLUMN milestones TEXT NOT NULL DEFAULT '["first","middle","last"]'`,
    `CREATE INDEX courses_by_patient ON courses (patient_ref, start_date)`,
  ],
];

export const LATEST_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Sqlite): number {
  return Number(db.get('PRAGMA user_version')?.['user_version'] ?? 0);
}

/** Bring the database to LATEST_VERSION. Returns the version it had. Throws StoreError (STORE_NEWER). */
export function migrate(db: Sqlite, upTo: number = LATEST_VERSION): number {
  const from = schemaVersion(db);
  if (from > LATEST_VERSION) {
    throw new StoreError('STORE_NEWER', `${db.file} has schema version ${from}; this version of the app reads up to ${LATEST_VERSION}: update the app (the file is left as it is)`, db.file);
  }
  for (let v = from; v < upTo; v++) {
    db.transaction(() => {
      for (const sql of MIGRATIONS[v]!) db.exec(sql);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
  return from;
}
