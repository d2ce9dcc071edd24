/**
 * What a session journal says about its course: the `course` record (the course as it stood when
 * the session began), the outcomes and the adverse effects, with the session's own facts (start,
 * end, protocol). The course store keeps these; it can always take them again from the journals
 * (rebuild), which stay the authoritative record of each session.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { AdverseEffect } from '../domain/outcomes/adverse.js';
import { type JournalReadResult, readJournal } from '../session/journal.js';
import type { JournalRecordOf, RecordData } from '../session/journal-records.js';

export type CourseRecordData = RecordData<'course'>;
export type OutcomeRecordData = RecordData<'outcome'>;

export interface JournalOutcome extends OutcomeRecordData {
  /** The record's number in its journal (its identity: a re-read finds the same n). */
  readonly n: number;
  readonly recordedAt: string;
}

export interface JournalAdverseEffects {
  readonly n: number;
  readonly recordedAt: string;
  readonly effects: readonly AdverseEffect[];
}

/** A journal of a session that belongs to a course. */
export interface CourseSessionFacts {
  readonly sessionId: string;
  readonly patientRef: string;
  readonly course: CourseRecordData;
  readonly protocol: { readonly id: string; readonly hash: string; readonly name: string; readonly indication: string };
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly endReason: string | null;
  readonly stimulationS: number | null;
  readonly outcomes: readonly JournalOutcome[];
  /** The last adverse-effects record (a later one corrects an earlier one); null when never asked. */
  readonly adverseEffects: JournalAdverseEffects | null;
}

export type CourseFactsResult =
  | { readonly kind: 'course'; readonly facts: CourseSessionFacts }
  /** A session outside any course (no course record). */
  | { readonly kind: 'none' }
  /** A journal the store cannot use, and why. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** The course facts of a journal as read. */
export function courseFactsOf(read: JournalReadResult): CourseFactsResult {
  const start = read.records.find((r): r is JournalRecordOf<'session-start'> => r.type === 'session-start');
  const course = read.records.find((r): r is JournalRecordOf<'course'> => r.type === 'course');
  if (!course) return { kind: 'none' };
  if (!start) return { kind: 'invalid', reason: 'it has a course record but no readable session-start record' };
  if (course.data.course.patientRef !== start.data.patientRef) {
    return { kind: 'invalid', reason: `its course record is for patient ${course.data.course.patientRef}, but the session is for ${start.data.patientRef}` };
  }
  if (course.data.course.protocolId !== start.data.protocol.id) {
    return { kind: 'invalid', reason: `its course record names protocol ${course.data.course.protocolId}, but the session ran ${start.data.protocol.id}` };
  }
  const end = read.records.find((r): r is JournalRecordOf<'session-end'> => r.type === 'session-end');
  const adverse = read.records.filter((r): r is JournalRecordOf<'adverse-effects'> => r.type === 'adverse-effects').at(-1);
  return {
    kind: 'course',
    facts: {
      sessionId: start.data.sessionId,
      patientRef: start.data.patientRef,
      course: course.data,
      protocol: { id: start.data.protocol.id, hash: start.data.protocol.hash, name: start.data.protocol.name, indication: start.data.protocol.indication },
      startedAt: start.ts,
      endedAt: end?.ts ?? null,
      endReason: end?.data.reason ?? null,
      stimulationS: end?.data.stimulationS ?? null,
      outcomes: read.records.filter((r): r is JournalRecordOf<'outcome'> => r.type === 'outcome').map((r) => ({ ...r.data, n: r.n, recordedAt: r.ts })),
      adverseEffects: adverse ? { n: adverse.n, recordedAt: adverse.ts, effects: adverse.data.effects } : null,
    },
  };
}

/** A journal's bytes as the store links them: how many, and their SHA-256. */
export interface JournalDigest {
  readonly bytes: number;
  readonly sha256: string;
}

export function digest(bytes: Uint8Array): JournalDigest {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Read a journal file: its bytes' digest and its records. Throws only when the file cannot be read. */
export function readJournalFile(file: string): { readonly digest: JournalDigest; readonly read: JournalReadResult } {
  const bytes = fs.readFileSync(file);
  return { digest: digest(bytes), read: { ...readJournal({ text: bytes }), path: file } };
}

export type LinkCheck =
  /** The journal is as the store recorded it. */
  | 'unchanged'
  /** Records were appended since (the bytes the store recorded are unchanged). */
  | 'grown'
  /** The bytes the store recorded are no longer the journal's beginning: edited or replaced. */
  | 'changed'
  | 'missing';

/** Is the journal still what the store linked (the first `bytes` bytes hash to `sha256`)? */
export function checkLink(file: string, linked: JournalDigest): LinkCheck {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return 'missing';
  }
  if (bytes.length < linked.bytes) return 'changed';
  if (digest(bytes.subarray(0, linked.bytes)).sha256 !== linked.sha256) return 'changed';
  return bytes.length === linked.bytes ? 'unchanged' : 'grown';
}
