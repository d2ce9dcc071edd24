/**
 * Rebuild the course store from the session journals: the answer to a lost or damaged
 * `courses.db`. Every journal in `<dataDir>/sessions/` that has a `course` record gives back its
 * patient, its course (as its latest session recorded it), the session, its outcomes and its
 * adverse effects. The old store file, if any, is moved aside (never deleted): labels, course
 * notes and status changes after a course's last session are only there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CourseSessionFacts, type JournalDigest, courseFactsOf, readJournalFile } from './journal-link.js';
import type { StoreError } from './sqlite.js';
import { CourseStore, STORE_FILE, type StoreOptions } from './store.js';

/** A journal's file name (journal.ts): `<UTC yyyymmddThhmmssZ>-<sessionId>.jsonl`. */
const JOURNAL_NAME = /^\d{8}T\d{6}Z-[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.jsonl$/;

export interface RebuildReport {
  /** Where the previous store file was moved, if there was one. */
  readonly movedAside: readonly string[];
  readonly journals: number;
  /** Journals of sessions outside any course. */
  readonly withoutCourse: number;
  readonly sessions: number;
  readonly courses: number;
  readonly patients: number;
  /** Journals that could not be used, and why (nothing else is lost because of them). */
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

/**
 * Move the existing store aside, create a new one and fill it from the journals. Returns the new
 * store (open: the caller closes it) and what was done, or a StoreError when the new store cannot
 * be created (for example because another process has the store open).
 */
export function rebuildFromJournals(dataDir: string, options: StoreOptions = {}): { ok: true; store: CourseStore; report: RebuildReport } | { ok: false; error: StoreError } {
  const file = path.join(dataDir, STORE_FILE);
  if (fs.existsSync(`${file}.owner`)) {
    // Opening would tell a live owner from a stale one; moving files under a live owner must not happen.
    const probe = CourseStore.open(dataDir, options);
    if (!probe.ok && probe.error.code === 'STORE_LOCKED') return { ok: false, error: probe.error };
    if (probe.ok) probe.store.close();
  }
  const stamp = (options.now ?? (() => new Date()))().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const movedAside: string[] = [];
  for (const suffix of ['', '-wal', '-journal']) {
    const from = `${file}${suffix}`;
    if (!fs.existsSync(from)) continue;
    const to = `${file}.damaged-${stamp}${suffix}`;
    fs.renameSync(from, to);
    movedAside.push(to);
  }
  fs.rmSync(`${file}.lock`, { recursive: true, force: true });

  const opened = CourseStore.open(dataDir, options);
  if (!opened.ok) return opened;
  const store = opened.store;

  const dir = path.join(dataDir, 'sessions');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => JOURNAL_NAME.test(n)).sort();
  } catch {
    // no sessions directory: nothing to rebuild from
  }
  const skipped: { file: string; reason: string }[] = [];
  const found: { rel: string; digest: JournalDigest; facts: CourseSessionFacts }[] = [];
  let withoutCourse = 0;
  for (const name of names) {
    const rel = `sessions/${name}`;
    let read: ReturnType<typeof readJournalFile>;
    try {
      read = readJournalFile(path.join(dir, name));
    } catch (e) {
      skipped.push({ file: rel, reason: `cannot be read: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    const facts = courseFactsOf(read.read);
    if (facts.kind === 'none') withoutCourse++;
    else if (facts.kind === 'invalid') skipped.push({ file: rel, reason: facts.reason });
    else found.push({ rel, digest: read.digest, facts: facts.facts });
  }
  // Each course is created from its latest session's record (the newest state the journals hold),
  // then the other sessions are added.
  found.sort((a, b) => (a.facts.course.courseId < b.facts.course.courseId ? -1 : a.facts.course.courseId > b.facts.course.courseId ? 1 : b.facts.course.sessionNumber - a.facts.course.sessionNumber));
  let sessions = 0;
  for (const f of found) {
    const r = store.ingestFacts(f.rel, f.digest, f.facts);
    if (r.ok) sessions++;
    else skipped.push({ file: f.rel, reason: r.error.message });
  }
  return {
    ok: true,
    store,
    report: { movedAside, journals: names.length, withoutCourse, sessions, courses: store.listCourses().length, patients: store.listPatients().length, skipped },
  };
}
