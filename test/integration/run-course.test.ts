/**
 * `edn run --sim ... --course COURSE --nprs-before N [--nprs-after N]` as a child process (issue 14,
 * section 3): a session of a treatment course records the course and the patient's pain before and
 * after in its own journal and in the course store; a course that does not fit the session is
 * refused before anything is sent; and a run killed with SIGKILL mid-session leaves the course
 * store consistent, the cut session recovered from its journal when the store is next opened.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CourseStore } from '../../src/course/index.js';
import { type JournalRecordOf, readJournal } from '../../src/session/journal.js';
import { type EdnJsonLine, runEdn, startEdn, stopAllEdn } from '../support/edn-process.js';
import { screeningAnswers, shortProtocol, shortProtocolFile } from '../support/short-protocol.js';

const PATIENT = 'PT-0042';
/** 3 s of stimulation: a whole session in a few seconds. */
const SHORT = { id: 'knee-oa-short', durationMin: 0.05 } as const;
/** 60 s: long enough to be killed during stimulation. */
const LONG = { id: 'knee-oa-bench', durationMin: 1 } as const;

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edn-run-course-'));
});
afterEach(async () => {
  const left = await stopAllEdn();
  rmSync(dir, { recursive: true, force: true });
  expect(left).toEqual([]);
  expect(existsSync(dir)).toBe(false);
});

interface Setup {
  readonly protocol: string;
  readonly screening: string;
  readonly dataDir: string;
  readonly courseId: string;
}

/** Protocol and screening files, and a course for PT-0042 on that protocol in a fresh store. */
function setup(options: typeof SHORT | typeof LONG, patient = PATIENT): Setup {
  const protocol = join(dir, `${options.id}.json`);
  writeFileSync(protocol, JSON.stringify(shortProtocolFile(options), null, 2));
  const screening = join(dir, `screening-${patient}.json`);
  writeFileSync(screening, JSON.stringify(screeningAnswers(shortProtocol(options), patient), null, 2));
  const dataDir = join(dir, 'data');
  const opened = CourseStore.open(dataDir);
  if (!opened.ok) throw new Error(opened.error.message);
  try {
    expect(opened.store.addPatient(PATIENT).ok).toBe(true);
    const course = opened.store.startCourse({ patientRef: PATIENT, protocol: shortProtocol(options) });
    if (!course.ok) throw new Error(course.error.message);
    return { protocol, screening, dataDir, courseId: course.value.id };
  } finally {
    opened.store.close();
  }
}

function runArgs(s: Setup, extra: readonly string[]): string[] {
  return ['run', '--sim', '--protocol', s.protocol, '--screening', s.screening, '--target-ma', '1', '--side', 'right', '--data-dir', s.dataDir, '--json', '--course', s.courseId, ...extra];
}

function course(s: Setup) {
  const opened = CourseStore.open(s.dataDir);
  if (!opened.ok) throw new Error(opened.error.message);
  try {
    return opened.store.getCourse(s.courseId)!;
  } finally {
    opened.store.close();
  }
}

const nprsOf = (outcomes: readonly { timepoint: string; instrumentId: string; scores: Readonly<Record<string, number>> }[], timepoint: string) =>
  outcomes.filter((o) => o.instrumentId === 'nprs' && o.timepoint === timepoint).map((o) => o.scores['score']);

describe('edn run --course', () => {
  it('a completed session of a course: the course and NPRS before/after in its journal and in the course store', async () => {
    const s = setup(SHORT);
    const run = await runEdn(runArgs(s, ['--nprs-before', '6', '--nprs-after', '3']));
    expect(run.exit, run.stderr).toEqual({ code: 0, signal: null });
    const events = run.events();
    expect(events.find((e) => e.event === 'course')).toEqual({ event: 'course', courseId: s.courseId, sessionNumber: 1, milestone: true });
    const end = events.find((e) => e.event === 'end') as EdnJsonLine & { journal: string; reason: string };
    expect(end.reason).toBe('completed');

    const read = readJournal({ path: end.journal });
    expect(read.chainIntact).toBe(true);
    expect(read.problems).toEqual([]);
    const types = read.records.map((r) => r.type);
    // the course right after the screening's records and before any output; NPRS after follows the end record
    expect(types.indexOf('course')).toBeGreaterThan(types.indexOf('session-start'));
    expect(types.indexOf('course')).toBeLessThan(types.indexOf('amplitude'));
    const outcomes = read.records.filter((r): r is JournalRecordOf<'outcome'> => r.type === 'outcome');
    expect(outcomes.map((o) => [o.data.timepoint, o.data.scores['score']])).toEqual([['before', 6], ['after', 3]]);
    expect(read.records.indexOf(outcomes[1]!)).toBeGreaterThan(types.indexOf('session-end'));

    const c = course(s);
    expect(c.status).toBe('active');
    expect(c.sessions).toHaveLength(1);
    const session = c.sessions[0]!;
    expect(session.endReason).toBe('completed');
    expect(nprsOf(session.outcomes, 'before')).toEqual([6]);
    expect(nprsOf(session.outcomes, 'after')).toEqual([3]);
  }, 60_000);

  it('refused before anything is sent: another patient\'s course, a closed course, an unknown course; NPRS out of range is a usage error', async () => {
    const s = setup(SHORT);
    const other = join(dir, 'screening-other.json');
    writeFileSync(other, JSON.stringify(screeningAnswers(shortProtocol(SHORT), 'PT-0077'), null, 2));
    const wrongPatient = await runEdn(['run', '--sim', '--protocol', s.protocol, '--screening', other, '--target-ma', '1', '--side', 'right', '--data-dir', s.dataDir, '--json', '--course', s.courseId, '--nprs-before', '5']);
    expect(wrongPatient.exit).toEqual({ code: 1, signal: null });
    expect(wrongPatient.events()).toEqual([{ event: 'refused', message: `course ${s.courseId} is patient ${PATIENT}'s, the screening is PT-0077's` }]);

    const unknown = await runEdn(runArgs({ ...s, courseId: 'C20990101-NOPE00' }, ['--nprs-before', '5']));
    expect(unknown.exit).toEqual({ code: 1, signal: null });
    expect(unknown.events()).toEqual([{ event: 'refused', message: expect.stringMatching(/^no course C20990101-NOPE00/) as unknown }]);

    const outOfRange = await runEdn(runArgs(s, ['--nprs-before', '11']));
    expect(outOfRange.exit).toEqual({ code: 2, signal: null });
    expect(outOfRange.stderr).toMatch(/--nprs-before 11: 11 is outside 0-10/);
    const missing = await runEdn(runArgs(s, []));
    expect(missing.exit).toEqual({ code: 2, signal: null });
    expect(missing.stderr).toMatch(/--course needs --nprs-before/);

    const opened = CourseStore.open(s.dataDir);
    if (!opened.ok) throw new Error(opened.error.message);
    expect(opened.store.setStatus(s.courseId, 'stopped', 'moved away').ok).toBe(true);
    opened.store.close();
    const closed = await runEdn(runArgs(s, ['--nprs-before', '5']));
    expect(closed.exit).toEqual({ code: 1, signal: null });
    expect(closed.events()).toEqual([{ event: 'refused', message: `course ${s.courseId} is stopped (moved away)` }]);
    // nothing of any of these reached a journal or the course
    expect(existsSync(join(s.dataDir, 'sessions'))).toBe(false);
    expect(course(s).sessions).toEqual([]);
  }, 60_000);

  it('SIGKILL during stimulation: the store stays consistent, the cut session is recovered from its journal, the next session is number 2', async () => {
    const s = setup(LONG);
    const run = startEdn(runArgs(s, ['--nprs-before', '7', '--nprs-after', '2']));
    await run.nextEvent((e) => e.event === 'state' && e.state === 'running', 'running', 30_000);
    run.child.kill('SIGKILL');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Opening the store reconciles: the session recorded from what its journal holds.
    const c = course(s);
    expect(c.sessions).toHaveLength(1);
    const cut = c.sessions[0]!;
    expect(cut.number).toBe(1);
    expect(cut.endReason).toBeNull();
    expect(cut.startedAt).not.toBeNull();
    expect(nprsOf(cut.outcomes, 'before')).toEqual([7]);
    expect(nprsOf(cut.outcomes, 'after')).toEqual([]);

    // The store passes SQLite's checks and takes the next session.
    const next = setupNext(s);
    const again = await runEdn(runArgs(next, ['--nprs-before', '5']));
    expect(again.exit, again.stderr).toEqual({ code: 0, signal: null });
    expect(again.events().find((e) => e.event === 'course')).toMatchObject({ sessionNumber: 2 });
    expect(course(s).sessions.map((x) => x.number)).toEqual([1, 2]);
  }, 90_000);
});

/** The same course, with a short protocol file of the same id for a quick second session. */
function setupNext(s: Setup): Setup {
  const protocol = join(dir, 'knee-oa-bench-short.json');
  writeFileSync(protocol, JSON.stringify(shortProtocolFile({ id: LONG.id, durationMin: 0.05 }), null, 2));
  return { ...s, protocol };
}
