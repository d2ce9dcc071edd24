import { describe, expect, it } from 'vitest';
import {
  type Acknowledgement,
  type ScreeningAnswers,
  type ScreenedProtocol,
  clearanceCovers,
  evaluateScreening,
  isScreeningCleared,
  parseScreeningAnswers,
  patientRefProblem,
  screeningTemplate,
} from '../../../src/domain/screening.js';
import { builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { patientRefRule } from '../../../src/domain/privacy.js';

const KNEE: ScreenedProtocol = { id: 'knee-test', hash: 'a'.repeat(64), channels: [{ region: 'knee', side: 'left' }, { region: 'thigh', side: 'left' }, { region: 'knee', side: 'left' }] };
const BACK: ScreenedProtocol = { id: 'back-test', hash: 'b'.repeat(64), channels: [{ region: 'low-back', side: 'affected' }] };

/** Every question answered "no" for the protocol. */
function allNo(protocol: ScreenedProtocol, patientRef = 'PT-0042'): ScreeningAnswers {
  const t = screeningTemplate(protocol);
  const no = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? false : v])) as T;
  return { ...t, patientRef, answers: no(t.answers), sites: t.sites.map(no) };
}
const evaluate = (answers: ScreeningAnswers, protocol: ScreenedProtocol = KNEE, acknowledgements: Acknowledgement[] = []) =>
  evaluateScreening(answers, { protocol, acknowledgements });

describe('screening template', () => {
  it('has every answer null, and the protocol’s distinct sites', () => {
    const t = screeningTemplate(KNEE);
    expect(t.patientRef).toBeNull();
    expect(t.protocolId).toBe('knee-test');
    expect(Object.values(t.answers).every((v) => v === null)).toBe(true);
    expect(t.sites.map((s) => `${s.region}/${s.side}`)).toEqual(['knee/left', 'thigh/left']);
    expect(t.sites.every((s) => [s.activeInfection, s.malignancy, s.metalImplant, s.impairedSensation].every((v) => v === null))).toBe(true);
  });

  it('asks about pregnancy only where it matters (abdomen, pelvis, low back), and always without a protocol', () => {
    expect('pregnancy' in screeningTemplate(KNEE).answers).toBe(false);
    expect(screeningTemplate(BACK).answers.pregnancy).toBeNull();
    expect(screeningTemplate().answers.pregnancy).toBeNull();
    expect(screeningTemplate().sites).toEqual([]);
  });

  it('round-trips through the answers schema', () => {
    const t = screeningTemplate(BACK);
    expect(parseScreeningAnswers(JSON.parse(JSON.stringify(t)))).toEqual({ ok: true, answers: t, warnings: [] });
  });
});

describe('evaluateScreening', () => {
  it('clears a patient with every answer "no", tied to the protocol version', () => {
    const r = evaluate(allNo(KNEE));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(isScreeningCleared(r.cleared)).toBe(true);
    expect(r.cleared).toMatchObject({ patientRef: 'PT-0042', protocolId: 'knee-test', protocolHash: KNEE.hash });
    expect(r.record.status).toBe('cleared');
    expect(clearanceCovers(r.cleared, KNEE)).toBe(true);
    expect(clearanceCovers(r.cleared, { id: 'knee-test', hash: 'c'.repeat(64) })).toBe(false);
  });

  it('blocks on any unanswered question: null means unanswered', () => {
    const a = allNo(KNEE);
    const r = evaluate({ ...a, answers: { ...a.answers, needlePhobia: null } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe('blocked');
    expect(r.blocking.map((f) => [f.id, f.kind, f.path])).toEqual([['needlePhobia', 'unanswered', 'answers.needlePhobia']]);
    expect(evaluate(screeningTemplate(KNEE)).ok).toBe(false);
  });

  it.each([
    ['implantedElectronicDevice', 'FDA 21 CFR 890.5850'],
    ['bloodBorneInfection', 'PRACTICE'],
  ] as const)('blocks on the absolute contraindication %s, citing %s', (key, cite) => {
    const a = allNo(KNEE);
    const r = evaluate({ ...a, answers: { ...a.answers, [key]: true } }, KNEE, [{ id: key, by: 'dr-1', at: '2025-01-01T10:00:00Z' }]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.blocking).toEqual([expect.objectContaining({ id: key, kind: 'absolute' })]);
    expect(r.blocking[0]!.message).toContain(cite);
    expect(r.blocking[0]!.message).toContain('cannot start');
  });

  it('asks per treated site: infection or malignancy at one site blocks', () => {
    const a = allNo(KNEE);
    const sites = a.sites.map((s) => (s.region === 'thigh' ? { ...s, malignancy: true } : s));
    const r = evaluate({ ...a, sites });
    expect(!r.ok && r.blocking.map((f) => [f.id, f.path])).toEqual([['malignancy@thigh/left', 'sites[1].malignancy']]);
    const infected = evaluate({ ...a, sites: a.sites.map((s) => ({ ...s, activeInfection: s.region === 'knee' })) });
    expect(!infected.ok && infected.blocking.map((f) => f.id)).toEqual(['activeInfection@knee/left']);
  });

  it('blocks when a treated site is not screened, and when the answers are for another protocol', () => {
    const a = allNo(KNEE);
    const r = evaluate({ ...a, sites: a.sites.filter((s) => s.region !== 'thigh') });
    expect(!r.ok && r.blocking.map((f) => f.id)).toEqual(['site@thigh/left']);
    const other = evaluate({ ...a, protocolId: 'other' });
    expect(!other.ok && other.blocking.map((f) => [f.id, f.kind])).toEqual([['protocolId', 'mismatch']]);
    const sideSwapped = evaluate({ ...a, sites: a.sites.map((s) => ({ ...s, side: 'right' as const })) });
    expect(!sideSwapped.ok && sideSwapped.blocking.map((f) => f.id)).toEqual(['site@knee/left', 'site@thigh/left']);
  });

  it('blocks pregnancy for low-back sites and requires the answer there', () => {
    const a = allNo(BACK);
    expect(evaluate(a, BACK).ok).toBe(true);
    const pregnant = evaluate({ ...a, answers: { ...a.answers, pregnancy: true } }, BACK);
    expect(!pregnant.ok && pregnant.blocking.map((f) => [f.id, f.kind])).toEqual([['pregnancy', 'absolute']]);
    expect(!pregnant.ok && pregnant.blocking[0]!.message).toContain('low-back');
    const { pregnancy: _omitted, ...withoutPregnancy } = a.answers;
    const unasked = evaluate({ ...a, answers: withoutPregnancy }, BACK);
    expect(!unasked.ok && unasked.blocking.map((f) => [f.id, f.kind])).toEqual([['pregnancy', 'unanswered']]);
  });

  it('does not block pregnancy for a knee protocol', () => {
    const a = allNo(KNEE);
    expect(evaluate({ ...a, answers: { ...a.answers, pregnancy: true } }).ok).toBe(true);
  });

  it('needs an explicit, attributed acknowledgement for each relative contraindication', () => {
    const a = allNo(KNEE);
    const answers = { ...a, answers: { ...a.answers, bleedingRisk: true }, sites: a.sites.map((s) => (s.region === 'knee' ? { ...s, metalImplant: true } : s)) };
    const pending = evaluate(answers);
    expect(pending.ok).toBe(false);
    if (pending.ok) return;
    expect(pending.status).toBe('needs-acknowledgement');
    expect(pending.blocking).toEqual([]);
    expect(pending.pending.map((f) => f.id)).toEqual(['bleedingRisk', 'metalImplant@knee/left']);
    expect(pending.pending[0]!.message).toContain('MUNOZ2022');

    const one = evaluate(answers, KNEE, [{ id: 'bleedingRisk', by: 'dr-1', at: '2025-01-01T10:00:00Z' }]);
    expect(!one.ok && one.pending.map((f) => f.id)).toEqual(['metalImplant@knee/left']);
    const anonymous = evaluate(answers, KNEE, [{ id: 'bleedingRisk', by: ' ', at: '2025-01-01' }, { id: 'metalImplant@knee/left', by: 'dr-1', at: '' }]);
    expect(!anonymous.ok && anonymous.pending.length).toBe(2);

    const acks = [
      { id: 'bleedingRisk', by: 'dr-1', at: '2025-01-01T10:00:00Z' },
      { id: 'metalImplant@knee/left', by: 'dr-1', at: '2025-01-01T10:00:05Z' },
      { id: 'needlePhobia', by: 'dr-1', at: '2025-01-01T10:00:06Z' },
    ];
    const all = evaluate(answers, KNEE, acks);
    expect(all.ok).toBe(true);
    expect(all.record.acknowledgements).toEqual(acks.slice(0, 2));
    expect(all.record.findings.map((f) => f.kind)).toEqual(['relative', 'relative']);
  });

  it('H8 never lets an acknowledgement clear an absolute contraindication', () => {
    const a = allNo(KNEE);
    const r = evaluate({ ...a, answers: { ...a.answers, implantedElectronicDevice: true } }, KNEE, [{ id: 'implantedElectronicDevice', by: 'dr-1', at: 'now' }]);
    expect(r.ok).toBe(false);
  });

  it('blocks a protocol with a channel over a forbidden region (defence in depth)', () => {
    const head: ScreenedProtocol = { ...KNEE, channels: [{ region: 'head', side: 'left' }] };
    const r = evaluate(allNo(head), head);
    expect(!r.ok && r.blocking.map((f) => f.id)).toEqual(['region@head']);
  });

  it('blocks without a patient reference', () => {
    const r = evaluate({ ...allNo(KNEE), patientRef: null });
    expect(!r.ok && r.blocking.map((f) => f.id)).toEqual(['patientRef']);
  });

  it('records the screening as frozen, serializable data, cleared or not', () => {
    const r = evaluate(screeningTemplate(KNEE));
    expect(Object.isFrozen(r.record)).toBe(true);
    expect(Object.isFrozen(r.record.findings[0])).toBe(true);
    expect(JSON.parse(JSON.stringify(r.record))).toEqual(r.record);
    expect(r.record).toMatchObject({ format: 'edn-screening-record/1', status: 'blocked', protocolId: 'knee-test', protocolHash: KNEE.hash });
  });

  it('H8 issues ScreeningCleared only through evaluation', () => {
    const r = evaluate(allNo(KNEE));
    if (!r.ok) throw new Error('not cleared');
    expect(isScreeningCleared({ ...r.cleared })).toBe(false);
    expect(isScreeningCleared({ patientRef: 'PT-1', protocolId: 'x', protocolHash: 'y', record: r.record })).toBe(false);
    expect(clearanceCovers({ ...r.cleared }, KNEE)).toBe(false);
  });

  it('works with a built-in protocol directly', () => {
    const back = builtInProtocol('low-back-mtrp')!.protocol;
    const t = screeningTemplate(back);
    expect(t.sites.map((s) => s.region)).toEqual(['low-back']);
    expect(t.answers.pregnancy).toBeNull();
    expect(evaluate(allNo(back), back).ok).toBe(true);
  });
});

describe('pseudonymous patient references', () => {
  it.each(['PT-0042', 'KNEE-0042', 'LB-7731', 'X-1'])('accepts %s', (ref) => {
    expect(patientRefProblem(ref)).toBeUndefined();
    expect(parseScreeningAnswers({ ...screeningTemplate(), patientRef: ref }).ok).toBe(true);
  });

  it.each([
    ['John Smith', 'not a pseudonymous reference'],
    ['john-smith', 'looks like a name'],
    ['JohnSmith', 'looks like a name'],
    ['john.smith@example.org', 'not a pseudonymous reference'],
    ['+31612345678', 'not a pseudonymous reference'],
    ['0612345678', 'phone number or a date'],
    ['555-123-4567', 'phone number or a date'],
    ['1980-05-12', 'phone number or a date'],
    ['P1', 'not a pseudonymous reference'],
    ['P'.repeat(32) + '1', 'not a pseudonymous reference'],
    // Issue 9 item 11: these passed the old rule.
    ['JohnSmith1', 'does not follow the patient reference rule: use a pseudonymous code such as "PT-0042" (1-4 capital letters, a dash and 1-6 digits)'],
    ['Smith-1955-03-12', 'looks like it holds a date ("1955-03-12")'],
    ['MaryJones-DOB19800101', 'looks like it holds a date ("DOB")'],
    ['tel-07700900123', 'looks like it holds a phone number ("07700900123")'],
    ['abc1', 'does not follow the patient reference rule'],
  ])('refuses %s (%s)', (ref, reason) => {
    const parsed = parseScreeningAnswers({ ...screeningTemplate(), patientRef: ref });
    expect(!parsed.ok && parsed.errors.map((e) => e.path)).toEqual(['patientRef']);
    expect(!parsed.ok && parsed.errors[0]!.message).toContain(reason);
  });

  it('reads back, with the base rule only, what older versions recorded', () => {
    for (const ref of ['JohnSmith1', 'abc1', 'X9-2024-07', '7Q3']) expect(patientRefProblem(ref)).toBeUndefined();
  });
});

describe('parseScreeningAnswers', () => {
  it('drops unknown fields with a warning each, and still refuses non-boolean answers and a wrong format', () => {
    const t = screeningTemplate(BACK);
    const bad = { ...t, format: 'edn-screening/2', comment: 'x', answers: { ...t.answers, needlePhobia: 'no', pregnacy: true }, sites: [{ ...t.sites[0]!, extra: 1 }] };
    const r = parseScreeningAnswers(bad);
    expect(!r.ok && r.errors.map((e) => e.path).sort()).toEqual(['answers.needlePhobia', 'format']);
    expect(!r.ok && r.errors.find((e) => e.path === 'answers.needlePhobia')!.message).toContain('null means unanswered');
    expect(r.warnings.map((w) => w.path)).toEqual(['comment', 'answers.pregnacy', 'sites[0].extra']);
    expect(r.warnings[1]!.message).toBe('unknown field "pregnacy" was dropped (did you mean "pregnancy"?): it is not part of edn-screening/1 and is not recorded');
  });

  it('H27 never keeps what is not part of the format: a 200 kB $schema or an unknown field does not reach the record', () => {
    const answers = { ...allNo(KNEE), $schema: 'x'.repeat(200_000), padding: 'y'.repeat(1000) };
    const r = parseScreeningAnswers(answers);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect('$schema' in r.answers).toBe(false);
    expect('padding' in r.answers).toBe(false);
    const outcome = evaluate(r.answers);
    expect(JSON.stringify(outcome.record).length).toBeLessThan(5000);
  });

  it('an unknown answer never clears: the question it misspells stays unanswered', () => {
    const a = allNo(BACK);
    const { pregnancy: _p, ...rest } = a.answers;
    const r = parseScreeningAnswers({ ...a, answers: { ...rest, pregnacy: false } });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const outcome = evaluate(r.answers, BACK);
    expect(!outcome.ok && outcome.blocking.map((f) => f.id)).toEqual(['pregnancy']);
  });

  it('refuses notes that identify the patient, naming what was found', () => {
    const r = parseScreeningAnswers({ ...allNo(KNEE), notes: 'Mrs Jones, call 07700 900123' });
    expect(!r.ok && r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'notes: notes contains what looks like a name, "Mrs Jones" at character 1; a phone number, "07700 900123" at character 17: session records must not identify the patient (a name, a date of birth or a phone number does; the record already carries the pseudonymous reference and the session\'s date and time): take it out and record it in the clinic\'s own patient file',
    ]);
    expect(parseScreeningAnswers({ ...allNo(KNEE), notes: 'Left knee worse after stairs; VAS 7/10' }).ok).toBe(true);
  });

  it('applies a clinic\'s own reference rule', () => {
    const rule = patientRefRule({ pattern: '^KNEE-[0-9]{4}$', example: 'KNEE-0042' });
    if (!rule.ok) throw new Error(rule.message);
    const withRef = (ref: string) => parseScreeningAnswers({ ...screeningTemplate(), patientRef: ref }, { patientRefRule: rule.rule });
    expect(withRef('KNEE-0042').ok).toBe(true);
    const refused = withRef('PT-0042');
    expect(!refused.ok && refused.errors[0]!.message).toContain('"PT-0042" does not follow the patient reference rule: use a pseudonymous code such as "KNEE-0042" (the clinic\'s pattern ^KNEE-[0-9]{4}$)');
    // Dates and phone numbers stay refused whatever the clinic's pattern allows.
    const loose = patientRefRule({ pattern: '^[A-Z]{2}-[0-9]{1,12}$', example: 'AB-0001' });
    if (!loose.ok) throw new Error(loose.message);
    const phone = parseScreeningAnswers({ ...screeningTemplate(), patientRef: 'TL-07700900123' }, { patientRefRule: loose.rule });
    expect(!phone.ok && phone.errors[0]!.message).toContain('looks like it holds a phone number');
  });
});
