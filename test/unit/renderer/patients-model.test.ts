import { describe, expect, it } from 'vitest';
import { amplitudeColumns, courseProgress, licensedScoreProblem, nprsColumns, reportSessions, stepDecimals, timeline, type Course } from '../../../electron/renderer/screens/patients-model.js';

const session = (n: number, over: Partial<Course['sessions'][number]> = {}): Course['sessions'][number] => ({
  sessionId: `S${n}`,
  number: n,
  journalFile: `sessions/S${n}.jsonl`,
  startedAt: `2025-03-1${n}T10:00:00.000Z`,
  endedAt: `2025-03-1${n}T10:20:00.000Z`,
  endReason: 'completed',
  milestone: n === 1,
  nprsBefore: 7 - n,
  nprsAfter: 4 - n,
  adverseEffects: [],
  measures: [],
  ...over,
});

const course: Course = {
  id: 'C20250314-7KQ2MD',
  patientRef: 'PT-0042',
  indication: 'knee OA',
  protocol: { id: 'knee-oa-periosteal', hash: 'a'.repeat(64), name: 'Periosteal EDN for knee osteoarthritis' },
  plannedSessions: 10,
  intervalDays: 4,
  startDate: '2025-03-11',
  status: 'active',
  statusReason: null,
  milestones: ['first', 'middle', 'last'],
  sessionsDone: 2,
  nextDue: '2025-03-20',
  // Out of order on purpose: the timeline is oldest first.
  sessions: [session(2, { adverseEffects: [{ kind: 'other', severity: 'moderate', text: 'dizziness' }], endReason: null, endedAt: null }), session(1, { adverseEffects: null })],
};

const reportJson = JSON.stringify({
  sessions: [
    { sessionId: 'S1', protocolId: 'knee-oa-periosteal', channels: [{ channel: 1, maxMa: 4.5, chargeUc: 1350 }, { channel: 2, maxMa: 3, chargeUc: null }], stops: [] },
    { sessionId: 'S2', protocolId: 'knee-oa-short', channels: [{ channel: 2, maxMa: 2.5, chargeUc: 600 }, { channel: 'x' }], stops: ['00:12 E-stop (button)'] },
    { protocolId: 'no id: dropped' },
  ],
});

describe('the course timeline', () => {
  it('joins the contract course with the report by session id, oldest first, saying what was not asked or not ended', () => {
    const rows = timeline(course, reportSessions(reportJson));
    expect(rows.map((r) => r.number)).toEqual([1, 2]);
    expect(rows[0]).toMatchObject({ protocol: 'Periosteal EDN for knee osteoarthritis', nprsBefore: 6, nprsAfter: 3, adverse: null, stops: [], ended: 'completed', milestone: true });
    expect(rows[0]!.channels).toEqual([
      { channel: 1, maxMa: 4.5, chargeUc: 1350 },
      { channel: 2, maxMa: 3, chargeUc: null },
    ]);
    // Another protocol than the course's is named by its id; a malformed channel is dropped.
    expect(rows[1]).toMatchObject({ protocol: 'knee-oa-short', adverse: ['other: dizziness (moderate)'], stops: ['00:12 E-stop (button)'], ended: 'not ended', channels: [{ channel: 2, maxMa: 2.5, chargeUc: 600 }] });
  });

  it('gives each session its milestone measures in words: GROC signed, PSFS mean, a licensed instrument by name and version with each score’s range', () => {
    const measured: Course = {
      ...course,
      sessions: [
        session(1, {
          measures: [
            { instrumentId: 'groc', name: 'Global Rating of Change', version: '1', scores: [{ id: 'score', name: 'Score', value: 3, min: -7, max: 7, unit: 'points' }] },
            { instrumentId: 'psfs', name: 'Patient-Specific Functional Scale', version: '1', scores: [{ id: 'mean', name: 'Mean', value: 5.5, min: 0, max: 10, unit: 'points' }] },
            {
              instrumentId: 'womac',
              name: 'WOMAC Osteoarthritis Index',
              version: 'LK3.1 (Likert)',
              scores: [
                { id: 'total', name: 'Total', value: 40, min: 0, max: 96, unit: 'points' },
                { id: 'pain', name: 'Pain', value: 9, min: 0, max: 20, unit: 'points' },
              ],
            },
            { instrumentId: 'odi', name: 'Oswestry Disability Index', version: '2.1a', scores: [{ id: 'total', name: 'Total', value: 24, min: 0, max: 100, unit: '%' }] },
          ],
        }),
        session(2, { measures: [{ instrumentId: 'groc', name: 'Global Rating of Change', version: '1', scores: [{ id: 'score', name: 'Score', value: -2, min: -7, max: 7, unit: 'points' }] }] }),
      ],
    };
    expect(timeline(measured, undefined).map((r) => r.measures)).toEqual([
      ['GROC +3', 'PSFS mean 5.5', 'WOMAC Osteoarthritis Index (LK3.1 (Likert)): Total 40 (0-96), Pain 9 (0-20)', 'Oswestry Disability Index (2.1a): Total 24 % (0-100)'],
      ['GROC -2'],
    ]);
  });

  it('keeps the rows the contract gave when the report cannot be read', () => {
    expect(reportSessions('not json')).toEqual([]);
    expect(reportSessions('{"sessions": 3}')).toEqual([]);
    const rows = timeline(course, undefined);
    expect(rows.map((r) => [r.nprsBefore, r.nprsAfter, r.channels, r.stops])).toEqual([
      [6, 3, null, null],
      [5, 2, null, null],
    ]);
  });

  it('gives the chart columns: NPRS before/after and the highest amplitude per channel, gaps as null', () => {
    const rows = timeline(course, reportSessions(reportJson));
    expect(nprsColumns(rows)).toEqual([
      [1, 2],
      [6, 5],
      [3, 2],
    ]);
    expect(amplitudeColumns(rows)).toEqual({
      channels: [1, 2],
      columns: [
        [1, 2],
        [4.5, null],
        [3, 2.5],
      ],
    });
  });

  it('says the progress of a course, and why there is no next date once it is closed', () => {
    expect(courseProgress(course)).toBe('2 of 10 sessions done; next due 2025-03-20');
    expect(courseProgress({ ...course, status: 'stopped', statusReason: 'moved away', nextDue: null })).toBe('2 of 10 sessions done; stopped: moved away');
    expect(courseProgress({ ...course, status: 'completed', plannedSessions: 1, nextDue: null })).toBe('2 of 1 session done; completed');
  });
});

describe('a licensed instrument’s score as typed at a milestone', () => {
  const womacTotal = { min: 0, max: 96, step: 1, unit: 'points' };
  const koosPain = { min: 0, max: 100, step: 0.1, unit: 'points' };
  it('is refused when not a number, out of its range or off its step, saying the range', () => {
    expect(licensedScoreProblem(Number.NaN, womacTotal)).toBe('give a number, 0-96 points.');
    expect(licensedScoreProblem(97, womacTotal)).toBe('97 is outside its range, 0-96 points.');
    expect(licensedScoreProblem(-1, womacTotal)).toBe('-1 is outside its range, 0-96 points.');
    expect(licensedScoreProblem(40.5, womacTotal)).toBe('40.5 is not in steps of 1 (0-96 points).');
    expect(licensedScoreProblem(45.25, koosPain)).toBe('45.25 is not in steps of 0.1 (0-100 points).');
  });
  it('is accepted at both ends of its range and on its step, without floating-point dust refusing 0.1 steps', () => {
    for (const v of [0, 38, 96]) expect(licensedScoreProblem(v, womacTotal)).toBeUndefined();
    for (const v of [0, 45.3, 0.7, 99.9, 100]) expect(licensedScoreProblem(v, koosPain)).toBeUndefined();
    expect([stepDecimals(1), stepDecimals(0.1), stepDecimals(0.25)]).toEqual([0, 1, 2]);
  });
});
