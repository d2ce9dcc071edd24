/**
 * The protocol file format, "edn-protocol/1": zod strict objects, so an unknown or misspelt field
 * is an error rather than silently ignored. Ranges come from the hard limits (limits.ts) and read
 * the same as the guard's messages. Cross-field rules that need the charge physics (Shannon k,
 * energy, burst timing) are not here: validate.ts runs the guard on every phase after this schema.
 *
 * The README ("Writing a protocol") explains every field for people who author protocols.
 */
import * as z from 'zod';
import { FORMAT_LIMITS, HARD_LIMITS, type Limit, deepFreeze } from '../safety/limits.js';
import { hardMaxMessage, hardRangeMessage } from '../safety/messages.js';
import { WAVEFORMS } from '../stimulation.js';
import { pathExists } from './paths.js';
import { ALL_SITES, FORBIDDEN_REGIONS, FORBIDDEN_REGION_SOURCE, REGIONS, SIDES, SITE_NAME_MAX, SITE_NOTE_MAX, placementProblems } from './sites.js';
import { bilateralProblem } from './treated-side.js';
import { type UnitName, UNIT_SYMBOL, formatNumber, withUnit } from '../units.js';

export const PROTOCOL_FORMAT = 'edn-protocol/1';

export { REGIONS, type Region, FORBIDDEN_REGIONS, FORBIDDEN_REGION_SOURCE, SIDES, type Side, MIDLINE_REGIONS, REGION_SITES, ALL_SITES, type SiteEntry } from './sites.js';

// ---- field builders ------------------------------------------------------------------------------

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'string') return `"${input.length > 40 ? `${input.slice(0, 40)}...` : input}"`;
  if (typeof input === 'number' || typeof input === 'boolean') return `${typeof input} ${input}`;
  return typeof input === 'object' ? 'an object' : typeof input;
}

function typeError(expected: string) {
  return (iss: { input?: unknown }) =>
    iss.input === undefined ? `required field is missing (${expected})` : `expected ${expected}, got ${describeInput(iss.input)}`;
}

/**
 * The error of an object field that is missing or not an object ("required field is missing (the
 * needle ...)" rather than zod's "expected object, received undefined"). Only for that issue: an
 * unknown key or a bad field inside keeps its own message.
 */
function objectError(expected: string) {
  const message = typeError(expected);
  return (iss: { code?: string; input?: unknown }) => (iss.code === 'invalid_type' ? message(iss) : undefined);
}

/** A number in a unit; missing and non-numbers get messages that name the unit. */
function quantity(unit: UnitName) {
  const symbol = UNIT_SYMBOL[unit];
  return z.number({ error: typeError(symbol ? `a number in ${symbol}` : 'a number') });
}

/** At most `decimals` decimals: what the wire protocol can carry exactly. */
function resolution<T extends z.ZodNumber>(schema: T, decimals: number, unit: UnitName) {
  const scale = 10 ** decimals;
  return schema.refine((x) => Math.abs(x * scale - Math.round(x * scale)) < 1e-6, {
    error: (iss) => `${String(iss.input)} ${UNIT_SYMBOL[unit]} has more than ${decimals} decimals: the device works in steps of ${formatNumber(1 / scale, decimals)} ${UNIT_SYMBOL[unit]}`,
  });
}

/** A number within a [min, max] pair of hard limits. */
function hardRanged(min: Limit, max: Limit, what: string) {
  return quantity(min.unit)
    .min(min.value, { error: (iss) => hardRangeMessage(Number(iss.input), 'below', min, max, what) })
    .max(max.value, { error: (iss) => hardRangeMessage(Number(iss.input), 'above', min, max, what) });
}

/** A number above 0 and at most a hard limit. */
function positiveUpTo(max: Limit, what: string) {
  return quantity(max.unit)
    .positive({ error: (iss) => `${withUnit(Number(iss.input), max.unit)} is not valid: must be above 0 (up to ${withUnit(max.value, max.unit)})` })
    .max(max.value, { error: (iss) => hardMaxMessage(Number(iss.input), max, what) });
}

function text(what: string, maxLength = 200) {
  return z
    .string({ error: typeError(what) })
    .regex(/\S/, { error: 'must not be empty' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` });
}

/** A list of `what`s; `atLeastOne` refuses an empty list. */
function list<T extends z.ZodType>(item: T, what: string, atLeastOne = true) {
  const array = z.array(item, { error: typeError(`a list of ${what}s`) });
  return atLeastOne ? array.min(1, { error: `needs at least one ${what}` }) : array;
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) =>
      iss.input === undefined ? `required field is missing (one of: ${values.join(', ')})` : `${describeInput(iss.input)} is not ${what}; allowed: ${values.join(', ')}`,
  });
}

const L = HARD_LIMITS;

const frequency = () => resolution(hardRanged(L.frequencyMinHz, L.frequencyMaxHz, 'frequency'), 3, 'Hz');

// ---- the schema ----------------------------------------------------------------------------------

export const SourceSchema = z
  .strictObject({
    key: z
      .string({ error: typeError('a source key such as "DUNNING2018KNEE"') })
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/, { error: 'must be a short key of letters, digits, dots, dashes (e.g. "DUNNING2018KNEE")' })
      .meta({ description: 'Short key of the source, as in the references of docs/CLINICAL.md (e.g. DUNNING2018KNEE).' }),
    citation: text('the citation', 500).meta({ description: 'Authors, title, journal, year, volume and pages.' }),
    doi: z
      .string({ error: typeError('a DOI such as "10.1097/AJP.0000000000000634"') })
      .regex(/^10\.[0-9]{4,9}\/\S+$/, { error: (iss) => `"${String(iss.input)}" is not a DOI (10.<registrant>/<suffix>, without https://doi.org/)` })
      .optional()
      .meta({ description: 'DOI without the https://doi.org/ prefix.' }),
    registry: z
      .string({ error: typeError('a trial registry id such as "NCT04804228"') })
      .regex(/^[A-Za-z][A-Za-z0-9-]{2,31}$/, { error: (iss) => `"${String(iss.input)}" is not a trial registry id (e.g. NCT04804228)` })
      .optional()
      .meta({ description: 'Trial registry id, e.g. NCT04804228.' }),
    pmcid: z
      .string({ error: typeError('a PubMed Central id such as "PMC6250299"') })
      .regex(/^PMC[0-9]{4,9}$/, { error: (iss) => `"${String(iss.input)}" is not a PubMed Central id (e.g. PMC6250299)` })
      .optional()
      .meta({ description: 'PubMed Central id, e.g. PMC6250299.' }),
    verified: list(z.string({ error: typeError('a field path') }), 'field path', false).meta({
      description: 'Paths of the fields whose values were checked against this source, e.g. "phases[0].pulseWidthUs".',
    }),
    unverified: list(z.string({ error: typeError('a field path') }), 'field path', false).meta({
      description: 'Paths of the fields that are defaults the clinician confirms: NOT figures from this source.',
    }),
    note: text('a note', 1000).optional().meta({ description: 'How the values were read, e.g. "pulse duration recorded as per-phase".' }),
  }, { error: objectError('a source: an object with key, citation, verified and unverified') })
  .meta({ description: 'One source the protocol relies on, and which of its values it verifies.' });

export const ElectrodeSchema = z
  .strictObject({
    kind: z.literal('needle', { error: (iss) => `${describeInput(iss.input)} is not a supported electrode; only "needle" is` }),
    diameterMm: resolution(hardRanged(L.needleDiameterMinMm, L.needleDiameterMaxMm, 'needle diameter'), 3, 'mm').meta({
      description: `Needle diameter in mm (${L.needleDiameterMinMm.value}-${L.needleDiameterMaxMm.value}), e.g. 0.30.`,
    }),
    insertedLengthMm: resolution(hardRanged(L.needleInsertedLengthMinMm, L.needleInsertedLengthMaxMm, 'inserted needle length'), 1, 'mm').meta({
      description: 'Length of needle inside the tissue in mm: the conductive area is pi x diameter x inserted length.',
    }),
  }, { error: objectError('the needle: an object with kind, diameterMm and insertedLengthMm') })
  .meta({ description: 'The needle in use; the charge density limit (Shannon k) is computed for it.' });

/** A listed site's name (which region lists it is checked with the channel, sites.ts). */
export const SiteNameSchema = text('a site name', SITE_NAME_MAX).meta({ description: 'One of the sites listed for the channel\'s region, e.g. "medial tibial plateau (periosteum)".' });

/** A listed site with free text beside it: where on the site, or how it is found. */
export const SiteWithNoteSchema = z
  .strictObject({
    site: SiteNameSchema,
    note: text('a note beside the site', SITE_NOTE_MAX).meta({ description: 'Free text beside the listed site, e.g. "distal third"; never a forbidden area.' }),
  })
  .meta({ description: 'A listed site with a note beside it.' });

export const SiteEntrySchema = z.union([SiteNameSchema, SiteWithNoteSchema], {
  error: (iss) => {
    if (typeof iss.input === 'object' && iss.input !== null && !Array.isArray(iss.input)) {
      const missing = ['site', 'note'].filter((k) => !Object.hasOwn(iss.input as object, k));
      return `a site with a note needs both "site" (a listed site) and "note"${missing.length > 0 ? `: "${missing.join('" and "')}" is missing` : ''}`;
    }
    return iss.input === undefined ? 'required field is missing (a site name)' : `expected a site name or {"site": ..., "note": ...}, got ${describeInput(iss.input)}`;
  },
});

export const ChannelSchema = z
  .strictObject({
    channel: quantity('channel')
      .int({ error: (iss) => `${String(iss.input)} is not a channel number (a whole number 1-${FORMAT_LIMITS.maxChannel})` })
      .min(1, { error: (iss) => `${String(iss.input)} is not a channel number: channels are numbered from 1` })
      .max(FORMAT_LIMITS.maxChannel, { error: (iss) => `channel ${String(iss.input)} is above ${FORMAT_LIMITS.maxChannel}, the highest channel the wire format can address` })
      .meta({ description: `Output channel, 1-${FORMAT_LIMITS.maxChannel}, as labelled on the device.` }),
    region: oneOf(REGIONS, 'a region').meta({ description: 'Body region of both needles of the channel.' }),
    side: oneOf(SIDES, 'a side').meta({ description: '"affected" means the side chosen for the patient at the session.' }),
    sites: list(SiteEntrySchema, 'site name').meta({
      description: 'Needle sites: each one of the region\'s listed sites (edn validate lists them), or {"site": <listed site>, "note": <free text>}.',
    }),
  }, { error: objectError('a channel: an object with channel, region, side and sites') })
  .superRefine((channel, ctx) => {
    // The region decides which sites are listed and whether "midline" is a side (sites.ts).
    for (const p of placementProblems(channel)) ctx.addIssue({ code: 'custom', path: [...p.path], message: p.message });
  })
  .meta({ description: 'One output channel: a pair of needles in one region.' });

export const DenseDisperseSchema = z.strictObject({
  kind: z.literal('dense-disperse'),
  lowHz: frequency().meta({ description: 'The low ("disperse") frequency, Hz.' }),
  highHz: frequency().meta({ description: 'The high ("dense") frequency, Hz; must be above lowHz.' }),
  dwellS: resolution(
    quantity('s')
      .min(FORMAT_LIMITS.dwellMinS, { error: (iss) => `${String(iss.input)} s is below the ${FORMAT_LIMITS.dwellMinS} s shortest dwell` })
      .max(FORMAT_LIMITS.dwellMaxS, { error: (iss) => `${String(iss.input)} s is above the ${FORMAT_LIMITS.dwellMaxS} s longest dwell` }),
    3,
    's',
  ).meta({ description: `Seconds spent at each frequency before switching (${FORMAT_LIMITS.dwellMinS}-${FORMAT_LIMITS.dwellMaxS}).` }),
});

export const BurstSchema = z.strictObject({
  kind: z.literal('burst'),
  burstRateHz: frequency().meta({ description: 'Bursts per second, Hz.' }),
  intraBurstHz: frequency().meta({ description: 'Pulse frequency inside a burst, Hz.' }),
  pulsesPerBurst: quantity('pulses')
    .int({ error: (iss) => `${String(iss.input)} is not a whole number of pulses` })
    .min(FORMAT_LIMITS.pulsesPerBurstMin, { error: (iss) => `${String(iss.input)} pulses per burst is below ${FORMAT_LIMITS.pulsesPerBurstMin}` })
    .max(FORMAT_LIMITS.pulsesPerBurstMax, { error: (iss) => `${String(iss.input)} pulses per burst is above ${FORMAT_LIMITS.pulsesPerBurstMax}` })
    .meta({ description: 'Pulses in one burst; they must fit in one burst period.' }),
});

export const FilePatternSchema = z
  .discriminatedUnion('kind', [DenseDisperseSchema, BurstSchema], {
    error: (iss) => `unknown pattern kind ${describeInput((iss.input as { kind?: unknown } | undefined)?.kind)}; allowed: dense-disperse, burst (for a steady frequency use frequencyHz instead of pattern)`,
  })
  .meta({ description: 'A frequency pattern; for a steady frequency write frequencyHz instead.' });

export const AmplitudeSchema = z
  .strictObject({
    maxMa: resolution(positiveUpTo(L.amplitudeMaxMa, 'ceiling for needle electrodes'), 3, 'mA').meta({
      description: `Highest amplitude the clinician may titrate to, mA peak (at most ${L.amplitudeMaxMa.value}; the needle's Shannon k must stay below ${L.shannonKBlock.value} at it).`,
    }),
    rampMaPerS: resolution(positiveUpTo(L.amplitudeRiseMaxMaPerS, 'maximum amplitude rise (raise slowly so the patient is not startled and needles are not bent)'), 3, 'mA/s').meta({
      description: `How fast the amplitude may rise, mA/s (at most ${L.amplitudeRiseMaxMaPerS.value}); decreases are always immediate.`,
    }),
    titration: text('a titration rule', 300).optional().meta({ description: 'How to titrate, e.g. "strong but comfortable".' }),
  }, { error: objectError('the amplitude: an object with maxMa and rampMaPerS') })
  .meta({ description: 'Amplitude limits: the clinician titrates between 0 and maxMa.' });

export const PhaseSchema = z
  .strictObject({
    name: text('a phase name', 80).meta({ description: 'Short name of the phase, e.g. "stimulation".' }),
    durationMin: resolution(positiveUpTo(L.sessionMaxMin, 'maximum session length'), 4, 'min')
      .refine((m) => Math.abs(m * 60 - Math.round(m * 60)) < 1e-6, { error: (iss) => `${String(iss.input)} min is not a whole number of seconds` })
      .meta({ description: `Duration of the phase in minutes; all phases together at most ${L.sessionMaxMin.value}.` }),
    waveform: oneOf(WAVEFORMS, 'a charge-balanced biphasic waveform').meta({ description: 'Charge-balanced biphasic only: net DC is always zero.' }),
    frequencyHz: frequency().optional().meta({ description: `Steady pulse frequency, Hz (${L.frequencyMinHz.value}-${L.frequencyMaxHz.value}). Give this or pattern.` }),
    pattern: FilePatternSchema.optional(),
    pulseWidthUs: hardRanged(L.pulseWidthMinUs, L.pulseWidthMaxUs, 'pulse width per phase')
      .int({ error: (iss) => `${String(iss.input)} µs is not a whole number of µs` })
      .meta({ description: `Width of ONE phase of the biphasic pulse, µs (${L.pulseWidthMinUs.value}-${L.pulseWidthMaxUs.value}).` }),
    amplitude: AmplitudeSchema,
    notes: text('notes', 1000).optional().meta({ description: 'Free text for the clinician.' }),
  }, { error: objectError('a phase: an object with name, durationMin, waveform, pulseWidthUs and amplitude') })
  .superRefine((phase, ctx) => {
    if (phase.frequencyHz === undefined && phase.pattern === undefined) {
      ctx.addIssue({ code: 'custom', path: ['frequencyHz'], message: 'required field is missing: give frequencyHz (steady) or pattern (dense-disperse or burst)' });
    }
    if (phase.frequencyHz !== undefined && phase.pattern !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'give either frequencyHz or pattern, not both' });
    }
  })
  .meta({ description: 'One phase of the session: a steady frequency or a pattern, for a duration.' });

/**
 * Bounds of a course schedule. Not safety limits (no current depends on them): they only catch a
 * typo such as 100 sessions or a 0-day interval. A course longer than a year or sessions further
 * apart than a quarter are outside what the format describes.
 */
export const SCHEDULE_LIMITS = deepFreeze({ sessionsMax: 52, intervalDaysMax: 90, weeksMax: 52 } as const);

/**
 * The planned course: how many sessions, how many days apart, over how many weeks. A course started
 * from the protocol takes its planned number of sessions and its interval from here. The older
 * form, free text alone (e.g. "weekly"), is still read: such a protocol has no planned numbers and
 * a course from it asks for them.
 */
export const ScheduleSchema = z
  .strictObject({
    sessions: quantity('none')
      .int({ error: (iss) => `${String(iss.input)} is not a whole number of sessions` })
      .min(1, { error: (iss) => `${String(iss.input)} sessions: a course has at least 1` })
      .max(SCHEDULE_LIMITS.sessionsMax, { error: (iss) => `${String(iss.input)} sessions is above ${SCHEDULE_LIMITS.sessionsMax}, the most a course in this format plans` })
      .meta({ description: 'Planned number of sessions (where a source gives a range, its upper end, e.g. "up to 10").' }),
    intervalDays: quantity('none')
      .int({ error: (iss) => `${String(iss.input)} days is not a whole number of days` })
      .min(1, { error: (iss) => `${String(iss.input)} days: sessions are at least 1 day apart` })
      .max(SCHEDULE_LIMITS.intervalDaysMax, { error: (iss) => `${String(iss.input)} days is above ${SCHEDULE_LIMITS.intervalDaysMax}, the longest interval this format plans` })
      .meta({ description: 'Planned days from one session to the next (the next due date of a course).' }),
    weeks: quantity('none')
      .int({ error: (iss) => `${String(iss.input)} is not a whole number of weeks` })
      .min(1, { error: (iss) => `${String(iss.input)} weeks: a course lasts at least 1 week` })
      .max(SCHEDULE_LIMITS.weeksMax, { error: (iss) => `${String(iss.input)} weeks is above ${SCHEDULE_LIMITS.weeksMax}` })
      .optional()
      .meta({ description: 'Optional: over how many weeks the sessions are spread.' }),
    text: text('the schedule in words', 300).optional().meta({ description: 'The schedule as the source words it, e.g. "1-2 sessions a week for 6 weeks; up to 10 sessions".' }),
  })
  .superRefine((s, ctx) => {
    if (s.weeks !== undefined && (s.sessions - 1) * s.intervalDays > s.weeks * 7) {
      ctx.addIssue({
        code: 'custom',
        path: ['intervalDays'],
        message: `${s.sessions} sessions ${s.intervalDays} days apart take ${(s.sessions - 1) * s.intervalDays} days, more than the ${s.weeks} weeks (${s.weeks * 7} days) of the schedule`,
      });
    }
  })
  .meta({ description: 'The planned course: sessions, the interval between them, and over how many weeks.' });

const idSchema = z
  .string({ error: typeError('an id such as "knee-oa-periosteal"') })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: (iss) => `"${String(iss.input)}" is not an id: lower-case letters and digits in words joined by single dashes` })
  .min(3, { error: 'must be at least 3 characters' })
  .max(64, { error: 'must be at most 64 characters' });

export const ProtocolSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Path or URL of the JSON Schema, for editors (not part of the content hash).' }),
    format: z.literal(PROTOCOL_FORMAT, {
      error: (iss) => (iss.input === undefined ? `required field is missing (must be "${PROTOCOL_FORMAT}")` : `${describeInput(iss.input)} is not a supported format; this version reads "${PROTOCOL_FORMAT}"`),
    }),
    id: idSchema.meta({ description: 'Unique id, e.g. "knee-oa-periosteal".' }),
    name: text('a name').meta({ description: 'Name shown to the clinician.' }),
    indication: text('an indication', 300).meta({ description: 'The condition it treats.' }),
    description: text('a description', 2000).optional().meta({ description: 'Longer free text.' }),
    schedule: z
      .union([text('a schedule', 300), ScheduleSchema], {
        error: (iss) =>
          iss.input === undefined ? undefined : `expected a schedule: an object such as {"sessions": 6, "intervalDays": 7} (or, in the older form, text), got ${describeInput(iss.input)}`,
      })
      .optional()
      .meta({ description: 'The planned course: {"sessions": 6, "intervalDays": 7, "weeks": 6, "text": "weekly for 6 weeks"}; text alone is the older form (no planned numbers).' }),
    sources: list(SourceSchema, 'source'),
    electrode: ElectrodeSchema,
    channels: list(ChannelSchema, 'channel'),
    bilateral: z
      .boolean({ error: typeError('true or false') })
      .optional()
      .meta({
        description:
          'May the session treat both sides (default false)? Only when the "affected" channels come in two halves with the same regions and sites: the first half on the left, the second on the right.',
      }),
    phases: list(PhaseSchema, 'phase').max(FORMAT_LIMITS.maxPhases, {
      error: (iss) => `${(iss.input as readonly unknown[]).length} phases is above the ${FORMAT_LIMITS.maxPhases}-phase maximum of a protocol file`,
    }),
    aftercare: text('the aftercare advice', 2000).meta({ description: 'Advice printed on the session report.' }),
  })
  .superRefine((p, ctx) => {
    channelRules(p.channels, ctx);
    if (p.bilateral === true) {
      const problem = bilateralProblem(p.channels);
      if (problem) ctx.addIssue({ code: 'custom', path: ['bilateral'], message: problem });
    }
    totalDurationRule(p.phases, ctx);
    sourceRules(p, ctx);
  })
  .meta({ title: 'EDN protocol', description: 'An electrical dry needling protocol, format edn-protocol/1.' });

export type ProtocolFile = z.output<typeof ProtocolSchema>;
export type ProtocolFilePhase = z.output<typeof PhaseSchema>;
export type ProtocolChannel = z.output<typeof ChannelSchema>;
export type ProtocolSource = z.output<typeof SourceSchema>;
export type ProtocolSchedule = z.output<typeof ScheduleSchema>;

// ---- cross-field rules ---------------------------------------------------------------------------

type Ctx = z.RefinementCtx;

function channelRules(channels: readonly ProtocolChannel[], ctx: Ctx): void {
  const seen = new Map<number, number>();
  channels.forEach((c, i) => {
    if (FORBIDDEN_REGIONS.includes(c.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['channels', i, 'region'],
        message: `"${c.region}" is not allowed: no current path across the head, over the eyes or mouth, over the front of the neck or carotid sinus, or across the thorax and heart [${FORBIDDEN_REGION_SOURCE}]`,
      });
    }
    const first = seen.get(c.channel);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['channels', i, 'channel'], message: `channel ${c.channel} is already used by channels[${first}]; each channel appears once` });
    } else seen.set(c.channel, i);
  });
}

function totalDurationRule(phases: readonly ProtocolFilePhase[], ctx: Ctx): void {
  const total = phases.reduce((sum, ph) => sum + ph.durationMin, 0);
  const max = L.sessionMaxMin;
  // A single phase over the maximum is already reported at its own durationMin.
  if (total > max.value + 1e-9 && phases.every((ph) => ph.durationMin <= max.value)) {
    ctx.addIssue({ code: 'custom', path: ['phases'], message: `${formatNumber(total)} min in total is above the ${max.value} min maximum session length [${max.source}]` });
  }
}

function sourceRules(p: ProtocolFile, ctx: Ctx): void {
  const keys = new Map<string, number>();
  p.sources.forEach((source, i) => {
    const first = keys.get(source.key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['sources', i, 'key'], message: `"${source.key}" is already the key of sources[${first}]` });
    else keys.set(source.key, i);
    for (const list of ['verified', 'unverified'] as const) {
      source[list].forEach((fieldPath, j) => {
        if (!pathExists(p, fieldPath)) {
          ctx.addIssue({ code: 'custom', path: ['sources', i, list, j], message: `"${fieldPath}" is not a field of this protocol (write paths like "phases[0].pulseWidthUs")` });
        }
      });
    }
    for (const fieldPath of source.verified.filter((f) => source.unverified.includes(f))) {
      ctx.addIssue({ code: 'custom', path: ['sources', i, 'unverified'], message: `"${fieldPath}" is listed as both verified and unverified` });
    }
  });
}

/**
 * The JSON Schema of the protocol file (draft 2020-12), for editors: `edn schema > edn-protocol.schema.json`
 * and `"$schema": "./edn-protocol.schema.json"` in a protocol file give autocompletion and ranges.
 * Cross-field rules (Shannon k, total duration, forbidden regions, which sites a region lists,
 * where `midline` is a side) are only in `edn validate`.
 */
export function protocolJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ProtocolSchema, {
    io: 'input',
    target: 'draft-2020-12',
    // Editors offer the listed sites; which region lists which is checked by edn validate.
    override: (ctx) => {
      if (ctx.zodSchema === SiteNameSchema) ctx.jsonSchema.enum = [...ALL_SITES];
    },
  });
}
