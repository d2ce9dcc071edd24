/**
 * The service's course calls (issue 14): patients, courses started from a protocol's schedule,
 * stopping with a reason, the prefill of the next session; bad payloads are refused naming the
 * field, through the dispatcher with output validation on (so every result matches the contract).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLS, parseInput } from '../../../src/app/contract.js';
import { readJournal } from '../../../src/session/journal.js';
import { answersFrom, serviceHarness } from './service-harness.js';

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

