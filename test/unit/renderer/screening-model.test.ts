import { describe, expect, it } from 'vitest';
import { answerAt, buildAnswers, findingsByPath, screeningGroups, screeningVerdict, unanswered, type ScreeningForm } from '../../../electron/renderer/screening-model.js';
import { PATIENT_QUESTIONS, SITE_QUESTIONS, parseScreeningAnswers, screeningTemplate } from '../../../src/domain/screening.js';

/** A form as the service builds it: the domain's questions and template for a knee protocol. */
function kneeForm(): ScreeningForm {
  const questions: ScreeningForm['questions'] = [
    ...Object.entries(PATIENT_QUESTIONS).map(([id, q]) => ({ id, text: q.text, severity: q.severity, scope: 'patient' as const, source: q.source })),
    ...Object.entries(SITE_QUESTIONS).map(([id, q]) => ({ id, text: q.text, severity: q.severity, scope: 'site' as const, source: q.source })),
  ];
  const template = screeningTemplate({ id: 'knee-oa-periosteal', channels: [{ region: 'knee', side: 'affected' }] });
  return { questions, template, sideChoices: ['left', 'right'] };
}

describe('the questionnaire', () => {
  it('asks patient questions once and site questions per treated site', () => {
    const groups = screeningGroups(kneeForm());
    expect(groups.map((g) => g.title)).toEqual(['About the patient', 'At the knee (affected side)']);
    expect(groups[0]!.items.map((i) => i.path)).toContain('answers.implantedElectronicDevice');
    expect(groups[1]!.items.map((i) => i.path)).toEqual(['sites[0].activeInfection', 'sites[0].malignancy', 'sites[0].metalImplant', 'sites[0].impairedSensation']);
    expect(groups[1]!.items[0]!.site).toBe('knee (affected side)');
  });

  it('names an affected site by the side chosen (H32): "right knee", bilateral "knee (both sides)"', () => {
    expect(screeningGroups(kneeForm(), 'right')[1]!.title).toBe('At the right knee');
    expect(screeningGroups(kneeForm(), 'left')[1]!.items[0]!.site).toBe('left knee');
    expect(screeningGroups(kneeForm(), 'bilateral')[1]!.title).toBe('At the knee (both sides)');
  });

  it('writes the answers into the template: a file the core accepts; unanswered stays null', () => {
    const form = kneeForm();
    const answers = new Map<string, boolean | null>(screeningGroups(form).flatMap((g) => g.items.map((i) => [i.path, false] as [string, boolean])));
    answers.set('answers.implantedElectronicDevice', true);
    answers.delete('sites[0].malignancy');
    expect(unanswered(form, answers)).toBe(1);
    const file = buildAnswers(form, '  PT-0042 ', answers);
    const parsed = parseScreeningAnswers(file);
    expect(parsed.ok).toBe(true);
    expect(answerAt(file, 'answers.implantedElectronicDevice')).toBe(true);
    expect(answerAt(file, 'sites[0].malignancy')).toBeNull();
    expect((file as { patientRef: unknown }).patientRef).toBe('PT-0042');
    expect((buildAnswers(form, ' ', answers) as { patientRef: unknown }).patientRef).toBeNull();
    expect((form.template as { patientRef: unknown }).patientRef).toBeNull(); // the template is untouched
  });
});

describe('findings', () => {
  const f = (kind: 'absolute' | 'relative' | 'unanswered' | 'mismatch', path: string) => ({ id: path, path, kind, message: `${kind} at ${path}`, source: 'CLINICAL.md' });

  it('are placed by the path of their answer', () => {
    const byPath = findingsByPath([f('absolute', 'answers.implantedElectronicDevice'), f('unanswered', 'sites[0].malignancy'), f('relative', 'sites[0].malignancy')]);
    expect(byPath.get('sites[0].malignancy')).toHaveLength(2);
    expect(byPath.get('answers.implantedElectronicDevice')![0]!.kind).toBe('absolute');
  });

  it('make a verdict in words', () => {
    expect(screeningVerdict('cleared', [])).toMatch(/^Screening cleared/);
    expect(screeningVerdict('blocked', [f('absolute', 'a')])).toBe('Session blocked: an absolute contraindication. Stimulation must not be given.');
    expect(screeningVerdict('blocked', [f('absolute', 'a'), f('absolute', 'b')])).toMatch(/2 absolute contraindications/);
    expect(screeningVerdict('blocked', [f('unanswered', 'a'), f('unanswered', 'b')])).toBe('Screening incomplete: 2 items need an answer.');
    expect(screeningVerdict('needs-acknowledgement', [f('relative', 'a')])).toMatch(/^A relative contraindication needs your explicit acknowledgement/);
  });
});
