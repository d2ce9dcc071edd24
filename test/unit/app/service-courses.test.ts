/**
 * The service's course calls (issue 14): patients, courses started from a protocol's schedule,
 * stopping with a reason, the prefill of the next session; bad payloads are refused naming the
 * field, through the dispatcher with output validation on (so every result matches the contract).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLS, type CallInput, parseInput } from '../../../src/app/contract.js';
import { readJournal } from '../../../src/session/journal.js';
import { answersFrom, serviceHarness } from './service-harness.js';

const WOMAC_FILE = fileURLToPath(new URL('../../../src/domain/outcomes/library/womac.json', import.meta.url));

let h: ReturnType<typeof serviceHarness> | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('course calls', () => {
  it('adds and finds patients; a duplicate or a name-like reference is refused', async () => {
    h = serviceHarness();
    expect(existsSync(path.join(h.dataDir, 'courses.db'))).toBe(false);
    await h.must('addPatient', { ref: 'PT-0042', labels: ['knee'] });
    await h.must('addPatient', { ref: 'PT-0077' });
    expect(existsSync(path.join(h.dataDir, 'courses.db'))).toBe(true);
    expect((await h.must('listPatients', { find: '0042' })).map((p) => p.ref)).toEqual(['PT-0042']);
    expect((await h.must('listPatients', {})).length).toBe(2);
    const dup = await h.call('addPatient', { ref: 'PT-0042' });
    expect(dup.ok ? null : dup.error.code).toBe('ILLEGAL_STATE');
    const named = await h.call('addPatient', { ref: 'Jane Smith' });
    expect(named.ok ? null : named.error.code).toBe('BAD_INPUT');
    expect(named.ok ? '' : named.error.message).toContain('PATIENT_REF_INVALID');
    expect(h.invalidOutputs).toEqual([]);
  });

  it('starts a course on the knee protocol with the plan from its schedule, then stops it with a reason', async () => {
    h = serviceHarness();
    await h.must('addPatient', { ref: 'PT-0042' });
    const course = await h.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', startDate: '2025-03-14' });
    expect(course).toMatchObject({ plannedSessions: 10, intervalDays: 4, status: 'planned', sessionsDone: 0, nextDue: '2025-03-14', protocol: { id: 'knee-oa-periosteal' } });
    const three = await h.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', plannedSessions: 3, intervalDays: 7, milestones: ['first', 'last'] });
    expect(three).toMatchObject({ plannedSessions: 3, intervalDays: 7, milestones: ['first', 'last'] });
    expect((await h.must('listCourses', { patientRef: 'PT-0042' })).map((c) => c.id).sort()).toEqual([course.id, three.id].sort());

    const noReason = await h.call('closeCourse', { courseId: course.id, status: 'stopped', reason: '  ' });
    expect(noReason.ok ? null : noReason.error.code).toBe('BAD_INPUT');
    expect(noReason.ok ? '' : noReason.error.message).toContain('reason');
    const stopped = await h.must('closeCourse', { courseId: course.id, status: 'stopped', reason: 'patient moved away' });
    expect(stopped).toMatchObject({ status: 'stopped', statusReason: 'patient moved away', nextDue: null });

    const prefill = await h.must('coursePrefill', { courseId: three.id });
    expect(prefill.last).toBeNull();
    expect(prefill.course.id).toBe(three.id);
    expect(h.invalidOutputs).toEqual([]);
  });

  it('refuses an unknown patient, protocol or course with NOT_FOUND', async () => {
    h = serviceHarness();
    const r1 = await h.call('listCourses', { patientRef: 'PT-9999' });
    expect(r1.ok ? null : r1.error.code).toBe('NOT_FOUND');
    await h.must('addPatient', { ref: 'PT-0042' });
    const r2 = await h.call('startCourse', { patientRef: 'PT-0042', protocolId: 'no-such-protocol' });
    expect(r2.ok ? null : r2.error.code).toBe('NOT_FOUND');
    const r3 = await h.call('startCourse', { patientRef: 'PT-0001', protocolId: 'knee-oa-periosteal' });
    expect(r3.ok ? null : r3.error.code).toBe('NOT_FOUND');
    const r4 = await h.call('coursePrefill', { courseId: 'C20250314-ABCDEF' });
    expect(r4.ok ? null : r4.error.code).toBe('NOT_FOUND');
  });
});

describe('course schemas', () => {
  it('refuse bad payloads naming the field', () => {
    const bad = [
      ['startCourse', { patientRef: 'PT-1', protocolId: 'knee-oa-periosteal', plannedSessions: 0 }, 'plannedSessions'],
      ['startCourse', { patientRef: 'PT-1', protocolId: 'knee-oa-periosteal', startDate: '14/03/2025' }, 'startDate'],
      ['startCourse', { patientRef: 'PT-1', protocolId: 'knee-oa-periosteal', milestones: ['halfway'] }, 'milestones.0'],
      ['closeCourse', { courseId: 'course-1', status: 'completed' }, 'courseId'],
      ['closeCourse', { courseId: 'C20250314-ABCDEF', status: 'paused' }, 'status'],
      ['addPatient', { ref: 'PT-1', name: 'Jane' }, '(input)'],
    ] as const;
    for (const [call, input, field] of bad) {
      const r = parseInput(call, input);
      expect(r.ok, `${call} ${JSON.stringify(input)}`).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('BAD_INPUT');
        expect(r.error.details?.map((d) => d.path)).toContain(field);
      }
    }
    expect(parseInput('closeCourse', { courseId: 'C20250314-ABCDEF', status: 'stopped', reason: 'pain worse' }).ok).toBe(true);
    expect(Object.keys(CALLS)).toEqual(expect.arrayContaining(['listPatients', 'addPatient', 'listCourses', 'startCourse', 'closeCourse', 'coursePrefill']));
  });

  it('a session of a course: joined after screening, NPRS before in its journal before any output, NPRS after and adverse effects after its end; refusals name why', async () => {
    h = serviceHarness();
    await h.must('addPatient', { ref: 'PT-0042' });
    await h.must('addPatient', { ref: 'PT-0077' });
    const course = await h.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', plannedSessions: 3 });
    const other = await h.must('startCourse', { patientRef: 'PT-0077', protocolId: 'knee-oa-periosteal' });
    expect(await h.call('courseSession', { courseId: course.id, nprsBefore: 6 })).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });

    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
    const wrong = await h.call('courseSession', { courseId: other.id, nprsBefore: 6 });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: `course ${other.id} is patient PT-0077's, the screening is PT-0042's` } });
    expect(await h.call('courseSession', { courseId: course.id, nprsBefore: 11 })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await h.call('courseOutcomes', { nprsAfter: 2 })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE' } });

    expect(await h.must('courseSession', { courseId: course.id, nprsBefore: 6 })).toEqual({ sessionNumber: 1, milestone: true });
    expect(await h.call('courseSession', { courseId: course.id, nprsBefore: 6 })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE', message: expect.stringMatching(/already session 1/) as unknown } });
    expect(await h.call('courseOutcomes', { nprsAfter: 2 })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE', message: expect.stringMatching(/once output is off/) as unknown } });

    await h.must('start', { targetMa: 2 });
    await h.until(() => h!.service.snapshot.state === 'running', 20_000, 'running');
    await h.must('stop', {});
    await h.until(() => h!.service.snapshot.state === 'stopped', 20_000, 'stopped');
    expect(await h.must('courseOutcomes', { nprsAfter: 3, adverseEffects: [{ kind: 'soreness', severity: 'mild' }] })).toBeNull();

    const journal = h.service.snapshot.journal!;
    const types = readJournal({ path: journal }).records.map((r) => r.type);
    expect(types.indexOf('course')).toBeLessThan(types.indexOf('amplitude'));
    expect(types.indexOf('outcome')).toBeLessThan(types.indexOf('amplitude'));
    expect(types.lastIndexOf('outcome')).toBeGreaterThan(types.indexOf('session-end'));
    expect(types.indexOf('adverse-effects')).toBeGreaterThan(types.indexOf('session-end'));

    const [listed] = (await h.must('listCourses', { patientRef: 'PT-0042' })).filter((c) => c.id === course.id);
    expect(listed).toMatchObject({ status: 'active', sessionsDone: 1 });
    expect(listed!.sessions).toEqual([expect.objectContaining({ number: 1, nprsBefore: 6, nprsAfter: 3, adverseEffects: [{ kind: 'soreness', severity: 'mild' }] })]);
    expect(h.invalidOutputs).toEqual([]);
  });

  it('courseMilestone records the GROC and the PSFS after a session of a course, checked against their instruments, into the journal and the report', async () => {
    h = serviceHarness();
    await h.must('addPatient', { ref: 'PT-0042' });
    const course = await h.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', plannedSessions: 3 });
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
    expect(await h.call('courseMilestone', { groc: 3 })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE', message: 'the session on screen is not a session of a course' } });
    await h.must('courseSession', { courseId: course.id, nprsBefore: 7 });
    expect(await h.call('courseMilestone', { groc: 3 })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE', message: expect.stringMatching(/once output is off/) as unknown } });
    await h.must('start', { targetMa: 2 });
    await h.until(() => h!.service.snapshot.state === 'running', 20_000, 'running');
    await h.must('stop', {});
    await h.until(() => h!.service.snapshot.state === 'stopped', 20_000, 'stopped');

    expect(parseInput('courseMilestone', {}).ok).toBe(false);
    expect(parseInput('courseMilestone', { groc: 8 }).ok).toBe(false);
    const twice = await h.call('courseMilestone', { groc: 5, psfs: [{ activity: 'kneeling', rating: 4 }, { activity: 'Kneeling', rating: 6 }] });
    expect(twice).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining('"Kneeling" is named twice') as unknown } });
    // Refused as a whole: the GROC given with it was not written either.
    const journal = h.service.snapshot.journal!;
    const milestones = () => readJournal({ path: journal }).records.filter((r) => r.type === 'outcome' && (r.data as { timepoint: string }).timepoint === 'milestone');
    expect(milestones()).toEqual([]);

    const r = await h.must('courseMilestone', { groc: 5, psfs: [{ activity: 'climbing stairs', rating: 4 }, { activity: 'kneeling', rating: 7 }] });
    expect(r.recorded).toEqual([
      { instrumentId: 'groc', scores: { score: 5 } },
      { instrumentId: 'psfs', scores: { mean: 5.5 } },
    ]);
    expect(milestones().map((m) => (m.data as { instrumentId: string }).instrumentId)).toEqual(['groc', 'psfs']);
    const csv = (await h.must('courseReport', { courseId: course.id, format: 'csv' })).content.trim().split(/\r?\n/);
    const cols = csv[0]!.split(',');
    expect(csv[1]!.split(',')[cols.indexOf('groc.score')]).toBe('5');
    expect(csv[1]!.split(',')[cols.indexOf('psfs.mean')]).toBe('5.5');
    expect(h.invalidOutputs).toEqual([]);
  });

  it('courseReport gives the course report and its CSV and FHIR exports from the store and journals; an unknown course is NOT_FOUND', async () => {
    h = serviceHarness();
    await h.must('addPatient', { ref: 'PT-0042' });
    const course = await h.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', plannedSessions: 3 });
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
    await h.must('courseSession', { courseId: course.id, nprsBefore: 7 });
    await h.must('start', { targetMa: 2 });
    await h.until(() => h!.service.snapshot.state === 'running', 20_000, 'running');
    await h.must('stop', {});
    await h.until(() => h!.service.snapshot.state === 'stopped', 20_000, 'stopped');
    await h.must('courseOutcomes', { nprsAfter: 4, adverseEffects: [{ kind: 'bruising', severity: 'moderate' }] });

    const html = await h.must('courseReport', { courseId: course.id, format: 'html' });
    expect(html.format).toBe('html');
    expect(html.content).toMatch(/^<!DOCTYPE html>/i);
    expect(html.content).toContain('PT-0042');
    expect(html.content).toContain('bruising');
    expect(html.notices).toEqual([]);
    const csv = await h.must('courseReport', { courseId: course.id, format: 'csv' });
    const [header, row] = csv.content.trim().split(/\r?\n/);
    const cols = header!.split(',');
    const cell = (name: string) => row!.split(',')[cols.findIndex((c) => c.includes(name))];
    expect(cell('nprs_before')).toBe('7');
    expect(cell('nprs_after')).toBe('4');
    const fhir = JSON.parse((await h.must('courseReport', { courseId: course.id, format: 'fhir' })).content) as { resourceType: string; entry: { resource: { resourceType: string } }[] };
    expect(fhir.resourceType).toBe('Bundle');
    expect(fhir.entry.map((e) => e.resource.resourceType)).toEqual(expect.arrayContaining(['Patient', 'Procedure', 'Observation', 'AdverseEvent']));
    const missing = await h.call('courseReport', { courseId: 'C20250314-ABCDEF', format: 'md' });
    expect(missing.ok ? null : missing.error.code).toBe('NOT_FOUND');
    expect(h.invalidOutputs).toEqual([]);
  });
});


/** A patient PT-0042 with a 3-session knee course whose first session has ended (output off): the milestone calls are open. */
async function endedFirstSession(harness: ReturnType<typeof serviceHarness>) {
  await harness.must('addPatient', { ref: 'PT-0042' });
  const course = await harness.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', plannedSessions: 3 });
  await harness.must('connect', { path: 'sim' });
  const { template } = await harness.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
  await harness.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
  await harness.must('courseSession', { courseId: course.id, nprsBefore: 6 });
  await harness.must('start', { targetMa: 2 });
  await harness.until(() => harness.service.snapshot.state === 'running', 20_000, 'running');
  await harness.must('stop', {});
  await harness.until(() => harness.service.snapshot.state === 'stopped', 20_000, 'stopped');
  const journal = harness.service.snapshot.journal!;
  const milestones = () =>
    readJournal({ path: journal })
      .records.filter((r) => r.type === 'outcome' && (r.data as { timepoint: string }).timepoint === 'milestone')
      .map((r) => r.data as { instrumentId: string; instrumentVersion: string; scores: Record<string, number> });
  return { course, milestones };
}

describe('licensed instruments at a milestone, patient labels', () => {
  it('courseInstruments lists the score-only instruments, those made for the knee as fitting a knee course, a region-less clinic instrument fitting any', async () => {
    h = serviceHarness();
    const womac = JSON.parse(readFileSync(WOMAC_FILE, 'utf8')) as Record<string, unknown>;
    // The clinic's own score-only instrument, made for no region in particular.
    const own: Record<string, unknown> = { ...womac, id: 'clinic-function', name: 'Clinic function score', version: '2' };
    delete own['regions'];
    mkdirSync(path.join(h.dataDir, 'instruments'), { recursive: true });
    writeFileSync(path.join(h.dataDir, 'instruments', 'clinic-function.json'), JSON.stringify(own));
    await h.must('addPatient', { ref: 'PT-0042' });
    const course = await h.must('startCourse', { patientRef: 'PT-0042', protocolId: 'knee-oa-periosteal', plannedSessions: 3 });
    const list = await h.must('courseInstruments', { courseId: course.id });
    const fits = Object.fromEntries(list.map((i) => [i.id, i.fits]));
    expect(fits).toEqual({ womac: true, koos: true, ffi: false, odi: false, 'clinic-function': true });
    // The instruments asked in the app itself (NPRS, GROC, PSFS) are not offered as forms used elsewhere.
    expect(list.some((i) => ['nprs', 'groc', 'psfs'].includes(i.id))).toBe(false);
    const w = list.find((i) => i.id === 'womac')!;
    expect(w).toMatchObject({ name: 'WOMAC Osteoarthritis Index', version: 'LK3.1 (Likert)', licence: 'licensed' });
    expect(w.scores[0]).toEqual({ id: 'total', name: 'Total', min: 0, max: 96, step: 1, unit: 'points', direction: 'lower-is-better', mcid: null });
    // Names, versions and ranges only: no item text travels (the files hold none).
    expect(JSON.stringify(list)).not.toMatch(/"items"|"text"/);
    const missing = await h.call('courseInstruments', { courseId: 'C20250314-ABCDEF' });
    expect(missing.ok ? null : missing.error.code).toBe('NOT_FOUND');
    expect(h.invalidOutputs).toEqual([]);
  });

  it('courseMilestone refuses a licensed score out of range, of another version, of an unknown or in-app instrument or given twice, naming the field, and writes nothing', async () => {
    h = serviceHarness();
    const { milestones } = await endedFirstSession(h);
    const refusals: [CallInput<'courseMilestone'>, string, RegExp][] = [
      [{ groc: 3, licensed: [{ instrumentId: 'womac', scores: { total: 97 } }] }, 'licensed[0].scores.total', /^licensed\[0\]: 97 is outside 0-96, the range of WOMAC Osteoarthritis Index Total$/],
      [{ licensed: [{ instrumentId: 'womac', scores: { total: 40.5 } }] }, 'licensed[0].scores.total', /40\.5/],
      [{ licensed: [{ instrumentId: 'womac', version: 'VA3.1', scores: { total: 40 } }] }, 'licensed[0].version', /version "LK3.1 \(Likert\)", not "VA3.1"/],
      [{ licensed: [{ instrumentId: 'womac', scores: { global: 40 } }] }, 'licensed[0].scores.global', /no score "global"; its scores: total, pain, stiffness, function/],
      [{ licensed: [{ instrumentId: 'koos', scores: { pain: 50 } }, { instrumentId: 'groc', scores: { score: 2 } }] }, 'licensed[1].instrumentId', /not recorded as a score from a form used elsewhere/],
    ];
    for (const [input, field, reason] of refusals) {
      const r = await h.call('courseMilestone', input);
      expect(r.ok, JSON.stringify(input)).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('BAD_INPUT');
      expect(r.error.details?.map((d) => d.path)).toContain(field);
      expect(r.error.message).toMatch(reason);
    }
    const unknown = await h.call('courseMilestone', { licensed: [{ instrumentId: 'sf-36', scores: { total: 50 } }] });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/^licensed\[0\]\.instrumentId: no instrument "sf-36"; the instruments scored on their own forms: .*womac/) as unknown } });
    const twice = await h.call('courseMilestone', { licensed: [{ instrumentId: 'womac', scores: { total: 40 } }, { instrumentId: 'womac', scores: { pain: 8 } }] });
    expect(twice).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: 'licensed[1].instrumentId: WOMAC Osteoarthritis Index is given twice' } });
    expect(parseInput('courseMilestone', { licensed: [{ instrumentId: 'womac', scores: {} }] }).ok).toBe(false);
    // All or none: the GROC given beside the refused WOMAC total was not written either.
    expect(milestones()).toEqual([]);
    expect(h.invalidOutputs).toEqual([]);
  });

  it('courseMilestone records a licensed total with its instrument version into the journal, the timeline, the CSV and the FHIR Observation', async () => {
    h = serviceHarness();
    const { course, milestones } = await endedFirstSession(h);
    const r = await h.must('courseMilestone', { groc: 2, licensed: [{ instrumentId: 'womac', version: 'LK3.1 (Likert)', scores: { total: 40, pain: 9 } }] });
    expect(r.recorded).toEqual([
      { instrumentId: 'groc', scores: { score: 2 } },
      { instrumentId: 'womac', scores: { total: 40, pain: 9 } },
    ]);
    expect(milestones().map((m) => [m.instrumentId, m.instrumentVersion, m.scores])).toEqual([
      ['groc', expect.any(String), { score: 2 }],
      ['womac', 'LK3.1 (Likert)', { total: 40, pain: 9 }],
    ]);
    const [listed] = await h.must('listCourses', { patientRef: 'PT-0042' });
    expect(listed!.sessions[0]!.measures.find((m) => m.instrumentId === 'womac')).toEqual({
      instrumentId: 'womac',
      name: 'WOMAC Osteoarthritis Index',
      version: 'LK3.1 (Likert)',
      scores: [
        { id: 'total', name: 'Total', value: 40, min: 0, max: 96, unit: 'points' },
        { id: 'pain', name: 'Pain', value: 9, min: 0, max: 20, unit: 'points' },
      ],
    });
    const csv = (await h.must('courseReport', { courseId: course.id, format: 'csv' })).content.trim().split(/\r\n/);
    const cols = csv[0]!.split(',');
    expect([csv[1]!.split(',')[cols.indexOf('womac.total')], csv[1]!.split(',')[cols.indexOf('womac.pain')]]).toEqual(['40', '9']);
    const fhir = JSON.parse((await h.must('courseReport', { courseId: course.id, format: 'fhir' })).content) as { entry: { resource: { resourceType: string; code?: { text?: string; coding?: unknown }; valueInteger?: number } }[] };
    const womacObs = fhir.entry.map((e) => e.resource).filter((x) => x.resourceType === 'Observation' && x.code?.text?.startsWith('WOMAC'));
    expect(womacObs.map((o) => [o.code?.text, o.valueInteger])).toEqual([
      ['WOMAC Osteoarthritis Index (LK3.1 (Likert)): Total, course milestone', 40],
      ['WOMAC Osteoarthritis Index (LK3.1 (Likert)): Pain, course milestone', 9],
    ]);
    // No code was verified for WOMAC: text only.
    expect(womacObs.every((o) => o.code?.coding === undefined)).toBe(true);
    const html = (await h.must('courseReport', { courseId: course.id, format: 'html' })).content;
    expect(html).toContain('WOMAC Osteoarthritis Index');
    expect(h.invalidOutputs).toEqual([]);
  });

  it('setPatientLabels replaces the labels; a name, a date or a contact detail is refused with the reason and changes nothing; an unknown patient is NOT_FOUND', async () => {
    h = serviceHarness();
    await h.must('addPatient', { ref: 'PT-0042', labels: ['knee'] });
    expect((await h.must('setPatientLabels', { ref: 'PT-0042', labels: ['knee', 'trial-A'] })).labels).toEqual(['knee', 'trial-A']);
    const refusals = [
      ['Mrs Jones', /^LABEL_INVALID: "Mrs Jones" looks like a name/],
      ['12-03-1955', /^LABEL_INVALID: "12-03-1955" looks like a date/],
      ['07700 900123', /^LABEL_INVALID: "07700 900123" looks like a phone number/],
      ['jo@example.org', /^LABEL_INVALID: "jo@example.org" is not a label/],
    ] as const;
    for (const [label, reason] of refusals) {
      const r = await h.call('setPatientLabels', { ref: 'PT-0042', labels: ['knee', label] });
      expect(r.ok, label).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('BAD_INPUT');
      expect(r.error.message).toMatch(reason);
    }
    expect((await h.must('listPatients', { find: 'PT-0042' }))[0]!.labels).toEqual(['knee', 'trial-A']);
    expect((await h.must('listPatients', { find: 'TRIAL-a' })).map((p) => p.ref)).toEqual(['PT-0042']);
    expect((await h.must('setPatientLabels', { ref: 'PT-0042', labels: [] })).labels).toEqual([]);
    expect(await h.must('listPatients', { find: 'trial' })).toEqual([]);
    const unknown = await h.call('setPatientLabels', { ref: 'PT-0099', labels: ['knee'] });
    expect(unknown.ok ? null : unknown.error.code).toBe('NOT_FOUND');
    expect(h.invalidOutputs).toEqual([]);
  });

  it('a patient is found by the exact reference only: a part of one, or a label that reads like one, is NOT_FOUND for their courses', async () => {
    h = serviceHarness();
    await h.must('addPatient', { ref: 'PT-0007', labels: ['PT-9999'] });
    await h.must('startCourse', { patientRef: 'PT-0007', protocolId: 'knee-oa-periosteal', plannedSessions: 3 });
    expect((await h.must('listCourses', { patientRef: 'PT-0007' })).length).toBe(1);
    for (const ref of ['PT-9999', 'PT-000', 'pt-0007']) {
      const r = await h.call('listCourses', { patientRef: ref });
      expect(r.ok ? null : r.error.code, ref).toBe('NOT_FOUND');
      const s = await h.call('startCourse', { patientRef: ref, protocolId: 'knee-oa-periosteal' });
      expect(s.ok ? null : s.error.code, ref).toBe('NOT_FOUND');
    }
    // The label-like reference is still free for its own patient.
    await h.must('addPatient', { ref: 'PT-9999' });
    expect(await h.must('listCourses', { patientRef: 'PT-9999' })).toEqual([]);
  });
});
