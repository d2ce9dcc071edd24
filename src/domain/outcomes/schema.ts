/**
 * The instrument file format, "edn-instrument/1": an outcome measure as data, so a clinic can add
 * its own beside the built-ins (library/*.json, the same format). Validated like protocols: zod
 * strict objects (a misspelt field is an error), messages that name the field and the bound, and
 * `sources[]` that say which values were checked against which source (the protocols' SourceSchema).
 *
 * An instrument has one or more `scores` (NPRS: one; WOMAC: the total and its subscales; KOOS: its
 * five subscales), each with its range, step, direction of improvement and, where published, the
 * minimal clinically important difference. How the clinician obtains them is the `form`:
 *   single          one rating (NPRS, GROC): the score is the rating;
 *   patient-items   the patient names up to N activities and rates each (PSFS): the score is their mean;
 *   score-only      the clinician scores a form elsewhere (licensed instruments) and records only the
 *                   scores: the file never holds the items' text, and a licensed instrument must be
 *                   score-only.
 * Codes (LOINC) are listed only where verified; without one, exports use the name as text.
 */
import * as z from 'zod';
import { SourceSchema } from '../protocols/schema.js';
import { pathExists } from '../protocols/paths.js';
import { REGIONS } from '../protocols/sites.js';

export const INSTRUMENT_FORMAT = 'edn-instrument/1';

/** Bounds of the format (not safety limits): they catch typos, not clinical choices. */
export const INSTRUMENT_LIMITS = Object.freeze({ scoreAbsMax: 10_000, scoresMax: 12, patientItemsMax: 10 });

const describe = (input: unknown): string =>
  input === null ? 'null' : Array.isArray(input) ? 'a list' : typeof input === 'string' ? `"${input.slice(0, 40)}"` : typeof input === 'object' ? 'an object' : `${typeof input} ${JSON.stringify(input) ?? ''}`;

const typed = (expected: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `required field is missing (${expected})` : `expected ${expected}, got ${describe(iss.input)}`;

function text(what: string, max = 200) {
  return z
    .string({ error: typed(what) })
    .regex(/\S/, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` });
}

const id = (example: string) =>
  z
    .string({ error: typed(`an id such as "${example}"`) })
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: (iss) => `"${String(iss.input)}" is not an id: lower-case letters and digits in words joined by single dashes` })
    .max(64, { error: 'must be at most 64 characters' });

const bound = () =>
  z
    .number({ error: typed('a number') })
    .min(-INSTRUMENT_LIMITS.scoreAbsMax, { error: `must be at least -${INSTRUMENT_LIMITS.scoreAbsMax}` })
    .max(INSTRUMENT_LIMITS.scoreAbsMax, { error: `must be at most ${INSTRUMENT_LIMITS.scoreAbsMax}` });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: (iss) => (iss.input === undefined ? `required field is missing (one of: ${values.join(', ')})` : `${describe(iss.input)} is not ${what}; allowed: ${values.join(', ')}`) });

export const DIRECTIONS = ['lower-is-better', 'higher-is-better'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const CodeSchema = z
  .strictObject({
    system: z.url({ error: (iss) => `${describe(iss.input)} is not a code system URL (e.g. "http://loinc.org")` }),
    code: text('a code', 64),
    display: text('the display text', 300),
  })
  .meta({ description: 'A verified code for the score (e.g. LOINC); list none rather than a guess.' });

export const ScoreSchema = z
  .strictObject({
    id: id('total'),
    name: text('a name', 120),
    min: bound(),
    max: bound(),
    step: z.number({ error: typed('a number') }).positive({ error: 'must be above 0' }).meta({ description: 'The resolution of the score, e.g. 1 for whole points.' }),
    unit: text('a unit', 20).optional().meta({ description: 'e.g. "points" or "%" (points when absent).' }),
    direction: oneOf(DIRECTIONS, 'a direction').meta({ description: 'Which way is better.' }),
    mcid: z
      .number({ error: typed('a number of points') })
      .positive({ error: 'must be above 0' })
      .optional()
      .meta({ description: 'Minimal clinically important difference, in the score\'s points, where published (name its source).' }),
    codes: z.array(CodeSchema, { error: typed('a list of codes') }).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.max <= s.min) ctx.addIssue({ code: 'custom', path: ['max'], message: `${s.max} is not above min ${s.min}` });
    else if (s.mcid !== undefined && s.mcid > s.max - s.min) ctx.addIssue({ code: 'custom', path: ['mcid'], message: `${s.mcid} is more than the whole range (${s.max - s.min})` });
  })
  .meta({ description: 'One score of the instrument: its range, step, direction and MCID.' });

export const FormSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('single'),
        prompt: text('the question asked', 300),
        anchors: z.strictObject({ min: text('the words at the lowest value', 120), max: text('the words at the highest value', 120) }).optional(),
      }),
      z.strictObject({
        kind: z.literal('patient-items'),
        prompt: text('the question asked', 300),
        minItems: z.number().int().min(1, { error: 'must be at least 1' }).max(INSTRUMENT_LIMITS.patientItemsMax),
        maxItems: z.number().int().min(1, { error: 'must be at least 1' }).max(INSTRUMENT_LIMITS.patientItemsMax, { error: `must be at most ${INSTRUMENT_LIMITS.patientItemsMax}` }),
        itemStep: z.number({ error: typed('a number') }).positive({ error: 'must be above 0' }).meta({ description: 'The resolution of one rating, e.g. 1 for whole points; ratings share the score\'s range.' }),
        scoring: z.literal('mean', { error: 'only "mean" scoring is supported' }),
      }),
      z.strictObject({ kind: z.literal('score-only') }),
    ],
    { error: (iss) => `${describe((iss.input as { kind?: unknown } | undefined)?.kind)} is not a form kind; allowed: single, patient-items, score-only` },
  )
  .meta({ description: 'How the scores are obtained: one rating, patient-named items, or scores from a form used elsewhere.' });

export const InstrumentSchema = z
  .strictObject({
    $schema: z.string().optional(),
    format: z.literal(INSTRUMENT_FORMAT, {
      error: (iss) => (iss.input === undefined ? `required field is missing (must be "${INSTRUMENT_FORMAT}")` : `${describe(iss.input)} is not a supported format; this version reads "${INSTRUMENT_FORMAT}"`),
    }),
    id: id('nprs').meta({ description: 'Unique id, e.g. "nprs".' }),
    name: text('a name'),
    version: text('the version of the instrument', 80).meta({ description: 'e.g. "LK3.1": a score is only comparable within one version.' }),
    licence: oneOf(['free', 'licensed'] as const, 'a licence').meta({ description: 'licensed: record only the scores (form score-only), never the items\' text.' }),
    description: text('a description', 2000).optional(),
    regions: z
      .array(oneOf(REGIONS, 'a body region'), { error: typed('a list of body regions') })
      .max(REGIONS.length)
      .optional()
      .meta({ description: 'The body regions the instrument is made for (the protocols\' regions, e.g. "knee"): a course whose protocol treats one of them offers it first. Absent: offered for any course.' }),
    form: FormSchema,
    scores: z.array(ScoreSchema, { error: typed('a list of scores') }).min(1, { error: 'needs at least one score' }).max(INSTRUMENT_LIMITS.scoresMax),
    sources: z.array(SourceSchema, { error: typed('a list of sources') }).min(1, { error: 'needs at least one source' }),
  })
  .superRefine((ins, ctx) => {
    if (ins.licence === 'licensed' && ins.form.kind !== 'score-only') {
      ctx.addIssue({ code: 'custom', path: ['form', 'kind'], message: `a licensed instrument records only its scores: form must be "score-only", not "${ins.form.kind}" (the items' text is not reproduced)` });
    }
    if (ins.form.kind !== 'score-only' && ins.scores.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['scores'], message: `a ${ins.form.kind} form gives one score, not ${ins.scores.length}` });
    }
    if (ins.form.kind === 'patient-items' && ins.form.minItems > ins.form.maxItems) {
      ctx.addIssue({ code: 'custom', path: ['form', 'minItems'], message: `${ins.form.minItems} is above maxItems ${ins.form.maxItems}` });
    }
    const ids = new Map<string, number>();
    ins.scores.forEach((s, i) => {
      const first = ids.get(s.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['scores', i, 'id'], message: `"${s.id}" is already the id of scores[${first}]` });
      else ids.set(s.id, i);
    });
    ins.sources.forEach((source, i) => {
      for (const list of ['verified', 'unverified'] as const) {
        source[list].forEach((p, j) => {
          if (!pathExists(ins, p)) ctx.addIssue({ code: 'custom', path: ['sources', i, list, j], message: `"${p}" is not a field of this instrument (write paths like "scores[0].mcid")` });
        });
      }
    });
  })
  .meta({ title: 'EDN outcome instrument', description: `An outcome measure, format ${INSTRUMENT_FORMAT}.` });

export type InstrumentFile = z.output<typeof InstrumentSchema>;
export type InstrumentScore = z.output<typeof ScoreSchema>;
export type InstrumentForm = z.output<typeof FormSchema>;

/** The JSON Schema of the instrument format (draft 2020-12), for editors. */
export function instrumentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(InstrumentSchema, { io: 'input', target: 'draft-2020-12' });
}
