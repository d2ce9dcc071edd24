/**
 * Screening before any session [docs/CLINICAL.md#contraindications]. Each question's `source` is the
 * section that explains it and the primary sources behind it (keys of docs/CLINICAL.md#references).
 *
 * - Absolute contraindications block the start, with the reason and its source.
 * - Relative ones block until a clinician acknowledges them explicitly; the caller supplies who
 *   and when, and the record carries it into the journal.
 * - Region-aware: pregnancy is asked (and blocks) when a site is on the abdomen, pelvis or low
 *   back; infection, malignancy, metal implants and impaired sensation are asked per treated site.
 * - An answer of null means unanswered, and unanswered blocks: there is no default.
 *
 * The only way to obtain a `ScreeningCleared` value, which the session layer requires before any
 * output, is `evaluateScreening` returning `ok: true`.
 */
import * as z from 'zod';
import { type Region, REGIONS, SIDES, type Side, FORBIDDEN_REGIONS, FORBIDDEN_REGION_SOURCE } from './protocols/schema.js';
import { forbiddenAreaNamed, sideProblem } from './protocols/sites.js';
import { treatedSites } from './protocols/derive.js';
import { formatPath } from './protocols/paths.js';
import { deepFreeze } from './safety/limits.js';
import { suggest } from './protocols/keys.js';
import { DEFAULT_PATIENT_REF_RULE, type PatientRefRule, checkPatientRef, notePrivacyProblem, patientRefBaseProblem } from './privacy.js';

export const SCREENING_FORMAT = 'edn-screening/1';
export const SCREENING_RECORD_FORMAT = 'edn-screening-record/1';

// ---- the questionnaire ---------------------------------------------------------------------------

export type Severity = 'absolute' | 'relative';

export interface Question {
  readonly text: string;
  readonly severity: Severity;
  /** Why a "yes" blocks or needs acknowledgement. */
  readonly reason: string;
  /** The docs/CLINICAL.md section and the primary sources it cites ("docs/CLINICAL.md#...; KEY"). */
  readonly source: string;
}

/** Findings about the answers themselves (unanswered, for another protocol) cite screening as a whole. */
const SCREENING = 'docs/CLINICAL.md#contraindications';
const ABSOLUTE = 'docs/CLINICAL.md#absolute-contraindications';
const RELATIVE = 'docs/CLINICAL.md#relative-contraindications';

/** Asked once per patient. */
export const PATIENT_QUESTIONS = deepFreeze({
  implantedElectronicDevice: {
    text: 'Does the patient have an implanted electronic device (pacemaker, ICD, neurostimulator) or wear a defibrillator?',
    severity: 'absolute',
    reason: 'stimulation currents can interfere with implanted or wearable electronic devices',
    source: `${ABSOLUTE}; FDA 21 CFR 890.5850; FDA 21 CFR 882.5891; IEC 60601-2-10`,
  },
  bloodBorneInfection: {
    text: 'Does the patient have a blood-borne infection that has not yet subsided?',
    severity: 'absolute',
    reason: 'needling waits until a blood-borne infection has subsided',
    source: `${ABSOLUTE}; PRACTICE`,
  },
  bleedingRisk: {
    text: 'Does the patient have a bleeding disorder, or take anticoagulant or antithrombotic medication?',
    severity: 'relative',
    reason: 'needling carries a bleeding risk',
    source: `${RELATIVE}; PRACTICE; MUNOZ2022`,
  },
  needlePhobia: {
    text: 'Does the patient have a needle phobia?',
    severity: 'relative',
    reason: 'needle phobia',
    source: `${RELATIVE}; PRACTICE`,
  },
  uncontrolledEpilepsy: {
    text: 'Does the patient have uncontrolled epilepsy?',
    severity: 'relative',
    reason: 'uncontrolled epilepsy',
    source: RELATIVE,
  },
  unableToGiveFeedback: {
    text: 'Is the patient unable to give feedback on the intensity?',
    severity: 'relative',
    reason: 'the amplitude is titrated on the patient’s feedback',
    source: RELATIVE,
  },
} as const satisfies Record<string, Question>);

/** Asked when a treated site is in one of `PREGNANCY_REGIONS`. */
export const PREGNANCY_QUESTION = deepFreeze({
  text: 'Is the patient pregnant?',
  severity: 'absolute',
  reason: 'no stimulation on the abdomen, pelvis or low back during pregnancy',
  source: `${ABSOLUTE}; PRACTICE`,
} as const satisfies Question);

export const PREGNANCY_REGIONS: readonly Region[] = deepFreeze(['abdomen', 'pelvis', 'low-back'] as const);

/** Asked for every treated site (a region on a side). */
export const SITE_QUESTIONS = deepFreeze({
  activeInfection: {
    text: 'Is there an active infection at this site?',
    severity: 'absolute',
    reason: 'no needling through an active infection',
    source: `${ABSOLUTE}; PRACTICE`,
  },
  malignancy: {
    text: 'Is there a malignancy at this site?',
    severity: 'absolute',
    reason: 'no stimulation over a malignancy',
    source: `${ABSOLUTE}; FDA 21 CFR 890.5850`,
  },
  metalImplant: {
    text: 'Is there a metal implant in this treatment area?',
    severity: 'relative',
    reason: 'a metal implant in the treatment area',
    source: RELATIVE,
  },
  impairedSensation: {
    text: 'Is sensation impaired at this site?',
    severity: 'relative',
    reason: 'impaired sensation at the site (the patient cannot report an excessive intensity there)',
    source: RELATIVE,
  },
} as const satisfies Record<string, Question>);

export type PatientQuestionId = keyof typeof PATIENT_QUESTIONS;
export type SiteQuestionId = keyof typeof SITE_QUESTIONS;

// ---- the answers file ----------------------------------------------------------------------------

/**
 * The base rule for a pseudonymous patient reference (privacy.ts): 3-32 letters, digits and
 * dashes with at least one digit. Journals are read back with it, so it never gets stricter; new
 * references must also follow the clinic's rule (`checkPatientRef`, applied by
 * `parseScreeningAnswers`).
 */
export function patientRefProblem(ref: string): string | undefined {
  return patientRefBaseProblem(ref);
}

const answer = z.boolean({ error: (iss) => `expected true, false or null (null means unanswered), got ${JSON.stringify(iss.input) ?? 'nothing'}` }).nullable();

const patientAnswers = Object.fromEntries(Object.keys(PATIENT_QUESTIONS).map((k) => [k, answer])) as Record<PatientQuestionId, typeof answer>;
const siteAnswers = Object.fromEntries(Object.keys(SITE_QUESTIONS).map((k) => [k, answer])) as Record<SiteQuestionId, typeof answer>;

/** The answers file's schema, with a clinic's rule for new patient references. */
function answersSchema(rule: PatientRefRule) {
  return z
    .strictObject({
      $schema: z.string().optional(),
      format: z.literal(SCREENING_FORMAT),
      patientRef: z
        .string()
        .superRefine((ref, ctx) => {
          const problem = checkPatientRef(ref, rule);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .nullable()
        .meta({ description: `Pseudonymous patient reference, e.g. "${rule.example}" (null: not filled in).` }),
      protocolId: z.string().nullable().meta({ description: 'Id of the protocol screened for (null: not filled in).' }),
      answers: z.strictObject({ ...patientAnswers, pregnancy: answer.optional() }).meta({
        description: 'true, false, or null for unanswered (blocks). pregnancy is asked when a site is on the abdomen, pelvis or low back.',
      }),
      sites: z.array(z.strictObject({ region: z.enum(REGIONS), side: z.enum(SIDES), ...siteAnswers })).meta({
        description: 'One entry per treated site (region and side of the protocol channels).',
      }),
      notes: z
        .string()
        .max(2000)
        .superRefine((notes, ctx) => {
          const problem = notePrivacyProblem(notes, 'notes');
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional()
        .meta({ description: 'Free text; never a name, date, phone number or e-mail address.' }),
    })
    .meta({ title: 'EDN screening answers', description: 'Contraindication screening answers; null means unanswered and blocks a start.' });
}

export const ScreeningAnswersSchema = answersSchema(DEFAULT_PATIENT_REF_RULE);

export type ScreeningAnswers = z.output<typeof ScreeningAnswersSchema>;

export interface AnswersProblem {
  readonly path: string;
  readonly message: string;
}

export type ParsedAnswers =
  | {
      readonly ok: true;
      readonly answers: ScreeningAnswers;
      /** Fields that were not part of the format and were dropped (never stored). */
      readonly warnings: readonly AnswersProblem[];
    }
  | { readonly ok: false; readonly errors: readonly AnswersProblem[]; readonly warnings: readonly AnswersProblem[] };

/** The fields the format knows, per level of the answers file. */
const KNOWN = {
  root: Object.keys(ScreeningAnswersSchema.shape),
  answers: [...Object.keys(PATIENT_QUESTIONS), 'pregnancy'],
  site: ['region', 'side', ...Object.keys(SITE_QUESTIONS)],
};

/**
 * Parse an answers file. Unknown fields are dropped with a warning each (an unknown answer can
 * never clear anything: every question the protocol asks must still be answered), and `$schema`
 * (an editor's hint) is never kept, so nothing outside the format reaches the session record.
 * The patient reference must follow `patientRefRule` (the clinic's, from the settings; the
 * default otherwise) and the notes must not identify the patient (privacy.ts).
 */
export function parseScreeningAnswers(json: unknown, options: { readonly patientRefRule?: PatientRefRule } = {}): ParsedAnswers {
  const warnings: AnswersProblem[] = [];
  const cleaned = dropUnknown(json, warnings);
  const schema = options.patientRefRule === undefined ? ScreeningAnswersSchema : answersSchema(options.patientRefRule);
  const parsed = schema.safeParse(cleaned, { reportInput: true });
  if (parsed.success) return { ok: true, answers: parsed.data, warnings };
  return { ok: false, errors: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })), warnings };
}

function dropUnknown(json: unknown, warnings: AnswersProblem[]): unknown {
  if (!isPlainObject(json)) return json;
  const keep = (obj: Record<string, unknown>, known: readonly string[], at: readonly (string | number)[]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (known.includes(k)) out[k] = v;
      else {
        const guess = suggest(k, known);
        warnings.push({ path: formatPath([...at, k]), message: `unknown field "${k}" was dropped${guess ? ` (did you mean "${guess}"?)` : ''}: it is not part of ${SCREENING_FORMAT} and is not recorded` });
      }
    }
    return out;
  };
  const { $schema: _editorHint, ...rest } = json;
  const root = keep(rest, KNOWN.root, []);
  if (isPlainObject(root.answers)) root.answers = keep(root.answers, KNOWN.answers, ['answers']);
  if (Array.isArray(root.sites)) root.sites = root.sites.map((site: unknown, i) => (isPlainObject(site) ? keep(site, KNOWN.site, ['sites', i]) : site));
  return root;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function screeningJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScreeningAnswersSchema, { io: 'input', target: 'draft-2020-12' });
}

/** The protocol facts screening needs (a validated Protocol satisfies it). */
export interface ScreenedProtocol {
  readonly id: string;
  readonly hash: string;
  /** Sites as they read (a validated Protocol's); when given, screening re-checks them. */
  readonly channels: readonly { readonly region: Region; readonly side: Side; readonly sites?: readonly string[] }[];
}

/** An answers file with every answer null, for the protocol's sites when one is given. */
export function screeningTemplate(protocol?: Omit<ScreenedProtocol, 'hash'>): ScreeningAnswers {
  const patient = Object.fromEntries(Object.keys(PATIENT_QUESTIONS).map((k) => [k, null])) as Record<PatientQuestionId, null>;
  const needsPregnancy = protocol === undefined || asksPregnancy(protocol);
  const site = Object.fromEntries(Object.keys(SITE_QUESTIONS).map((k) => [k, null])) as Record<SiteQuestionId, null>;
  return {
    format: SCREENING_FORMAT,
    patientRef: null,
    protocolId: protocol?.id ?? null,
    answers: needsPregnancy ? { ...patient, pregnancy: null } : patient,
    sites: protocol ? treatedSites(protocol).map((s) => ({ ...s, ...site })) : [],
  };
}

function asksPregnancy(protocol: Pick<ScreenedProtocol, 'channels'>): boolean {
  return protocol.channels.some((c) => PREGNANCY_REGIONS.includes(c.region));
}

// ---- evaluation ----------------------------------------------------------------------------------

export type FindingKind = 'absolute' | 'relative' | 'unanswered' | 'mismatch';

export interface Finding {
  /** Stable id; relative findings are acknowledged by it ("bleedingRisk", "metalImplant@knee/left"). */
  readonly id: string;
  /** Where in the answers file. */
  readonly path: string;
  readonly kind: FindingKind;
  readonly message: string;
  readonly source: string;
}

/** A clinician's acknowledgement of a relative contraindication; who and when come from the caller. */
export interface Acknowledgement {
  readonly id: string;
  readonly by: string;
  readonly at: string;
}

export type ScreeningStatus = 'cleared' | 'blocked' | 'needs-acknowledgement';

/** What the journal keeps of a screening, cleared or not. */
export interface ScreeningRecord {
  readonly format: typeof SCREENING_RECORD_FORMAT;
  readonly status: ScreeningStatus;
  readonly patientRef: string | null;
  readonly protocolId: string;
  readonly protocolHash: string;
  readonly answers: ScreeningAnswers;
  readonly findings: readonly Finding[];
  /** The acknowledgements that covered a relative finding. */
  readonly acknowledgements: readonly Acknowledgement[];
}

declare const clearedBrand: unique symbol;

/** Proof that screening cleared this patient for this protocol version. Only evaluateScreening makes one. */
export interface ScreeningCleared {
  readonly patientRef: string;
  readonly protocolId: string;
  readonly protocolHash: string;
  readonly record: ScreeningRecord;
  readonly [clearedBrand]: true;
}

export type ScreeningOutcome =
  | { readonly ok: true; readonly cleared: ScreeningCleared; readonly record: ScreeningRecord }
  | {
      readonly ok: false;
      readonly status: Exclude<ScreeningStatus, 'cleared'>;
      /** Absolute contraindications, unanswered questions and mismatches. */
      readonly blocking: readonly Finding[];
      /** Relative contraindications still waiting for an acknowledgement. */
      readonly pending: readonly Finding[];
      readonly record: ScreeningRecord;
    };

const issuedClearances = new WeakSet<object>();

/** True only for values evaluateScreening issued. */
export function isScreeningCleared(x: unknown): x is ScreeningCleared {
  return typeof x === 'object' && x !== null && issuedClearances.has(x);
}

/** Does the clearance cover this exact protocol version? */
export function clearanceCovers(cleared: ScreeningCleared, protocol: Pick<ScreenedProtocol, 'id' | 'hash'>): boolean {
  return isScreeningCleared(cleared) && cleared.protocolId === protocol.id && cleared.protocolHash === protocol.hash;
}

export function evaluateScreening(
  answers: ScreeningAnswers,
  ctx: { readonly protocol: ScreenedProtocol; readonly acknowledgements: readonly Acknowledgement[] },
): ScreeningOutcome {
  const findings = [...identityFindings(answers, ctx.protocol), ...patientFindings(answers, ctx.protocol), ...siteFindings(answers, ctx.protocol)];
  const relative = findings.filter((f) => f.kind === 'relative');
  const usedAcks = ctx.acknowledgements.filter((a) => relative.some((f) => f.id === a.id) && a.by.trim() !== '' && a.at.trim() !== '');
  const blocking = findings.filter((f) => f.kind !== 'relative');
  const pending = relative.filter((f) => !usedAcks.some((a) => a.id === f.id));
  const status: ScreeningStatus = blocking.length > 0 ? 'blocked' : pending.length > 0 ? 'needs-acknowledgement' : 'cleared';
  const record: ScreeningRecord = deepFreeze({
    format: SCREENING_RECORD_FORMAT,
    status,
    patientRef: answers.patientRef,
    protocolId: ctx.protocol.id,
    protocolHash: ctx.protocol.hash,
    answers: structuredClone(answers),
    findings,
    acknowledgements: usedAcks.map((a) => ({ id: a.id, by: a.by, at: a.at })),
  });
  if (status !== 'cleared' || answers.patientRef === null) return { ok: false, status: status === 'cleared' ? 'blocked' : status, blocking, pending, record };
  const cleared = deepFreeze({ patientRef: answers.patientRef, protocolId: ctx.protocol.id, protocolHash: ctx.protocol.hash, record }) as unknown as ScreeningCleared;
  issuedClearances.add(cleared);
  return { ok: true, cleared, record };
}

function identityFindings(answers: ScreeningAnswers, protocol: ScreenedProtocol): Finding[] {
  const out: Finding[] = [];
  if (answers.patientRef === null) {
    out.push({ id: 'patientRef', path: 'patientRef', kind: 'unanswered', message: 'no patient reference: fill in a pseudonymous code such as "PT-0042"', source: SCREENING });
  }
  if (answers.protocolId !== protocol.id) {
    const what = answers.protocolId === null ? 'no protocol' : `protocol "${answers.protocolId}"`;
    out.push({ id: 'protocolId', path: 'protocolId', kind: 'mismatch', message: `these answers are for ${what}, not "${protocol.id}": screen for the protocol that will run`, source: SCREENING });
  }
  // Defence in depth: the placement rules of the protocol format (sites.ts), checked again here
  // so a protocol that reached screening by another path still cannot place a channel badly.
  protocol.channels.forEach((c, i) => {
    if (FORBIDDEN_REGIONS.includes(c.region)) {
      out.push({ id: `region@${c.region}`, path: `channels[${i}].region`, kind: 'absolute', message: `the protocol places a channel on the ${c.region}: never allowed`, source: FORBIDDEN_REGION_SOURCE });
    }
    const side = sideProblem(c.region, c.side);
    if (side) out.push({ id: `side@${c.region}/${c.side}`, path: `channels[${i}].side`, kind: 'absolute', message: `the protocol's channel ${i + 1}: ${side}`, source: FORBIDDEN_REGION_SOURCE });
    (c.sites ?? []).forEach((site, j) => {
      const named = forbiddenAreaNamed(site);
      if (named) {
        out.push({ id: `site@${c.region}/${j}`, path: `channels[${i}].sites[${j}]`, kind: 'absolute', message: `the protocol's site "${site}" names ${named.area}: ${named.why}; never allowed`, source: FORBIDDEN_REGION_SOURCE });
      }
    });
  });
  return out;
}

function judge(id: string, path: string, value: boolean | null | undefined, q: Question, where: string): Finding[] {
  if (value === null || value === undefined) {
    return [{ id, path, kind: 'unanswered', message: `unanswered: "${q.text}"${where} (null blocks the start until it is answered)`, source: q.source }];
  }
  if (!value) return [];
  const message =
    q.severity === 'absolute'
      ? `contraindicated${where}: ${q.reason}; the session cannot start [${q.source}]`
      : `relative contraindication${where}: ${q.reason}; a clinician must acknowledge it before the start [${q.source}]`;
  return [{ id, path, kind: q.severity, message, source: q.source }];
}

function patientFindings(answers: ScreeningAnswers, protocol: ScreenedProtocol): Finding[] {
  const out = (Object.keys(PATIENT_QUESTIONS) as PatientQuestionId[]).flatMap((k) => judge(k, `answers.${k}`, answers.answers[k], PATIENT_QUESTIONS[k], ''));
  if (asksPregnancy(protocol)) {
    const regions = [...new Set(protocol.channels.filter((c) => PREGNANCY_REGIONS.includes(c.region)).map((c) => c.region))].join(', ');
    out.push(...judge('pregnancy', 'answers.pregnancy', answers.answers.pregnancy, PREGNANCY_QUESTION, ` (sites on the ${regions})`));
  }
  return out;
}

function siteFindings(answers: ScreeningAnswers, protocol: ScreenedProtocol): Finding[] {
  return treatedSites(protocol).flatMap((site) => {
    const label = `${site.region}/${site.side}`;
    const index = answers.sites.findIndex((s) => s.region === site.region && s.side === site.side);
    const entry = answers.sites[index];
    if (entry === undefined) {
      return [{ id: `site@${label}`, path: 'sites', kind: 'unanswered' as const, message: `the treated site ${site.region} (${site.side}) is not screened: add it to "sites"`, source: SCREENING }];
    }
    return (Object.keys(SITE_QUESTIONS) as SiteQuestionId[]).flatMap((k) => judge(`${k}@${label}`, `sites[${index}].${k}`, entry[k], SITE_QUESTIONS[k], ` at the ${site.region} (${site.side})`));
  });
}
