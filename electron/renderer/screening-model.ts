/**
 * The screening questionnaire as the UI shows it, as pure functions: one item per answer the
 * template asks for (patient questions once, site questions once per treated site), answers
 * written back into the template by path, findings placed beside their question.
 */
import type { CallOutput } from '../../src/app/contract.js';
import { getAt, setAt } from './protocol-model.js';
import { type TreatedSide, regionText, sidedRegionText } from '../../src/domain/protocols/treated-side.js';

export type ScreeningForm = CallOutput<'screeningForm'>;
export type Question = ScreeningForm['questions'][number];
export type Finding = CallOutput<'submitScreening'>['findings'][number];

export interface ScreeningItem {
  /** Path of the answer in the answers file ("answers.bleedingRisk", "sites[0].metalImplant"). */
  readonly path: string;
  readonly question: Question;
  /** For site questions: which site, in words ("knee (affected)"). */
  readonly site?: string;
}

export interface ScreeningGroup {
  readonly title: string;
  readonly items: readonly ScreeningItem[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The answer key of a question id ("activeInfection", also when written "site.activeInfection"). */
function answerKey(id: string): string {
  return id.slice(id.lastIndexOf('.') + 1);
}

/**
 * The questionnaire in the order it is asked: about the patient, then per treated site. A site on
 * the affected side is named by the side chosen ("right knee"; bilateral: "knee (both sides)"),
 * or "knee (affected side)" until one is.
 */
export function screeningGroups(form: ScreeningForm, side?: TreatedSide): ScreeningGroup[] {
  const template = isRecord(form.template) ? form.template : {};
  const sites = Array.isArray(template.sites) ? template.sites.filter(isRecord) : [];
  const patient = form.questions.filter((q) => q.scope === 'patient');
  const perSite = form.questions.filter((q) => q.scope === 'site');
  const groups: ScreeningGroup[] = [{ title: 'About the patient', items: patient.map((q) => ({ path: `answers.${answerKey(q.id)}`, question: q })) }];
  sites.forEach((site, i) => {
    const region = typeof site.region === 'string' ? site.region : 'site';
    const label = typeof site.side === 'string' ? siteLabel(region, site.side, side) : region.replace(/-/g, ' ');
    groups.push({ title: `At the ${label}`, items: perSite.map((q) => ({ path: `sites[${i}].${answerKey(q.id)}`, question: q, site: label })) });
  });
  return groups.filter((g) => g.items.length > 0);
}

function siteLabel(region: string, side: string, chosen: TreatedSide | undefined): string {
  if (side !== 'affected' || chosen === undefined) return sidedRegionText(region, side);
  return chosen === 'bilateral' ? `${regionText(region)} (both sides)` : sidedRegionText(region, chosen);
}

/** The side choice in words, as the radio buttons read. */
export const SIDE_CHOICE_TEXT: Readonly<Record<TreatedSide, string>> = { left: 'Left', right: 'Right', bilateral: 'Bilateral (both sides)' };

/** The answers file: the template with the patient reference and every answer given (null = unanswered). */
export function buildAnswers(form: ScreeningForm, patientRef: string, answers: ReadonlyMap<string, boolean | null>): unknown {
  const file = structuredClone(isRecord(form.template) ? form.template : {});
  const ref = patientRef.trim();
  file.patientRef = ref === '' ? null : ref;
  for (const group of screeningGroups(form)) {
    for (const item of group.items) setAt(file, item.path, answers.get(item.path) ?? null);
  }
  return file;
}

/** How many answers are still unanswered. */
export function unanswered(form: ScreeningForm, answers: ReadonlyMap<string, boolean | null>): number {
  return screeningGroups(form)
    .flatMap((g) => g.items)
    .filter((item) => {
      const a = answers.get(item.path);
      return a === undefined || a === null;
    }).length;
}

/** Findings by the path of the answer they are about ("answers.implantedElectronicDevice"). */
export function findingsByPath(findings: readonly Finding[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  for (const f of findings) out.set(f.path, [...(out.get(f.path) ?? []), f]);
  return out;
}

/** What the clinician must do about a screening result, in words. */
export function screeningVerdict(status: CallOutput<'submitScreening'>['status'], findings: readonly Finding[]): string {
  const absolute = findings.filter((f) => f.kind === 'absolute').length;
  const open = findings.filter((f) => f.kind === 'unanswered' || f.kind === 'mismatch').length;
  const relative = findings.filter((f) => f.kind === 'relative').length;
  switch (status) {
    case 'cleared':
      return 'Screening cleared: check the electrodes, then start.';
    case 'blocked':
      if (absolute > 0) return `Session blocked: ${absolute === 1 ? 'an absolute contraindication' : `${absolute} absolute contraindications`}. Stimulation must not be given.`;
      return `Screening incomplete: ${open === 1 ? 'one item needs' : `${open} items need`} an answer.`;
    case 'needs-acknowledgement':
      return `${relative === 1 ? 'A relative contraindication needs' : `${relative} relative contraindications need`} your explicit acknowledgement before the start.`;
  }
}

/** Read back an answer from a file (for tests and re-display). */
export function answerAt(file: unknown, path: string): boolean | null | undefined {
  const v = getAt(file, path);
  return v === true || v === false || v === null ? v : undefined;
}
