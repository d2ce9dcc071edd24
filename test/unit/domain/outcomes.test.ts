/**
 * Instruments as data: the built-ins validate, a clinic's own file validates the same way (errors
 * with paths and lines), licensed instruments hold no items, recorded values are checked against
 * the instrument, and changes are judged against the MCID in the direction of improvement.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AdverseEffectSchema,
  BUILT_IN_INSTRUMENTS,
  BUILT_IN_INSTRUMENT_FILES,
  type Instrument,
  builtInInstrument,
  describeAdverseEffect,
  formatInstrumentError,
  instrumentJsonSchema,
  parseInstrumentText,
  recordOutcome,
  scoreChange,
  validateInstrument,
} from '../../../src/domain/outcomes/index.js';

const LIBRARY = path.resolve(import.meta.dirname, '../../../src/domain/outcomes/library');
const get = (id: string): Instrument => {
  const i = builtInInstrument(id);
  if (!i) throw new Error(`no built-in ${id}`);
  return i;
};
const clinicFile = () => ({
  format: 'edn-instrument/1',
  id: 'clinic-knee-score',
  name: 'Clinic knee score',
  version: '2',
  licence: 'free',
  form: { kind: 'single', prompt: 'How is your knee?' },
  scores: [{ id: 'score', name: 'Knee', min: 0, max: 20, step: 1, direction: 'higher-is-better', mcid: 3 }],
  sources: [{ key: 'CLINIC', citation: 'Our clinic, 2025.', verified: [], unverified: ['scores[0].mcid'] }],
});
function errors(json: unknown): string[] {
  const r = validateInstrument(json);
  return r.ok ? [] : r.errors.map(formatInstrumentError);
}

describe('built-in instruments', () => {
  it('every file in the library is loaded, and each validates with its file name as id', () => {
    expect(Object.keys(BUILT_IN_INSTRUMENT_FILES).sort()).toEqual(readdirSync(LIBRARY).filter((f) => f.endsWith('.json')).sort());
    expect(BUILT_IN_INSTRUMENTS.map((i) => i.id)).toEqual(['nprs', 'groc', 'psfs', 'womac', 'koos', 'ffi', 'odi']);
    for (const i of BUILT_IN_INSTRUMENTS) expect(i.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('NPRS: 0-10, lower is better, LOINC 72514-3, MCID 2 marked unverified', () => {
    const nprs = get('nprs');
    const score = nprs.scores[0]!;
    expect([score.min, score.max, score.step, score.direction]).toEqual([0, 10, 1, 'lower-is-better']);
    expect(score.codes).toEqual([{ system: 'http://loinc.org', code: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' }]);
    expect(score.mcid).toBe(2);
    expect(nprs.sources.find((s) => s.unverified.includes('scores[0].mcid'))?.key).toBe('FARRAR2001');
  });

  it('GROC -7..+7 and PSFS 0-10 (mean of up to 5 activities) are free; no other instrument carries a code', () => {
    expect([get('groc').scores[0]!.min, get('groc').scores[0]!.max]).toEqual([-7, 7]);
    const psfs = get('psfs');
    expect(psfs.form).toMatchObject({ kind: 'patient-items', maxItems: 5, scoring: 'mean' });
    for (const i of BUILT_IN_INSTRUMENTS.filter((x) => x.id !== 'nprs')) expect(i.scores.every((s) => s.codes === undefined), i.id).toBe(true);
  });

  it('licensed instruments are score-only: name, version and ranges, never the items', () => {
    for (const id of ['womac', 'koos', 'ffi', 'odi']) {
      const i = get(id);
      expect(i.licence, id).toBe('licensed');
      expect(i.form, id).toEqual({ kind: 'score-only' });
      expect(i.version.length, id).toBeGreaterThan(0);
      expect(JSON.stringify(BUILT_IN_INSTRUMENT_FILES[`${id}.json`])).not.toMatch(/"items"|"prompt"/);
    }
    expect(get('womac').scores.map((s) => [s.id, s.max])).toEqual([['total', 96], ['pain', 20], ['stiffness', 8], ['function', 68]]);
  });
});

describe('a clinic instrument file', () => {
  it('validates like the built-ins', () => {
    const r = validateInstrument(clinicFile());
    expect(r.ok).toBe(true);
  });

  it.each([
    [(f: Record<string, unknown>) => ({ ...f, format: 'edn-instrument/2' }), 'format: "edn-instrument/2" is not a supported format; this version reads "edn-instrument/1"'],
    [(f: Record<string, unknown>) => ({ ...f, licence: 'licensed' }), 'form.kind: a licensed instrument records only its scores: form must be "score-only", not "single" (the items\' text is not reproduced)'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, scores: [{ ...f.scores[0]!, max: 0 }] }), 'scores[0].max: 0 is not above min 0'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, scores: [{ ...f.scores[0]!, mcid: 30 }] }), 'scores[0].mcid: 30 is more than the whole range (20)'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, scores: [{ ...f.scores[0]!, direction: 'up' }] }), 'scores[0].direction: "up" is not a direction; allowed: lower-is-better, higher-is-better'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, scores: [{ ...f.scores[0]!, mcdi: 3 }] }), 'scores[0].mcdi: unknown field "mcdi" (did you mean "mcid"?); allowed here: id, name, min, max, step, unit, direction, mcid, codes'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, scores: [f.scores[0]!, { ...f.scores[0]!, id: 'other' }] }), 'scores: a single form gives one score, not 2'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, sources: [{ ...f.sources[0]!, unverified: ['scores[1].mcid'] }] }), 'sources[0].unverified[0]: "scores[1].mcid" is not a field of this instrument (write paths like "scores[0].mcid")'],
    [(f: ReturnType<typeof clinicFile>) => ({ ...f, scores: [{ ...f.scores[0]!, codes: [{ system: 'loinc', code: 'x', display: 'y' }] }] }), 'scores[0].codes[0].system: "loinc" is not a code system URL (e.g. "http://loinc.org")'],
  ])('refuses %#: %s', (change, message) => {
    expect(errors(change(clinicFile() as never))).toEqual([message]);
  });

  it('errors from text carry the line of the field', () => {
    const text = JSON.stringify({ ...clinicFile(), scores: [{ ...clinicFile().scores[0]!, max: -1 }] }, null, 2);
    const r = parseInstrumentText(text, 'k.json');
    const e = r.ok ? undefined : r.errors[0];
    expect(e?.path).toBe('scores[0].max');
    expect(text.split('\n')[(e?.line ?? 0) - 1]).toContain('"max": -1');
    const broken = parseInstrumentText('{"format": ', 'k.json');
    expect(broken.ok ? '' : formatInstrumentError(broken.errors[0]!)).toMatch(/^k\.json is not valid JSON/);
  });

  it('has a JSON Schema for editors', () => {
    const schema = instrumentJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['format', 'id', 'name', 'version', 'licence', 'form', 'scores', 'sources']));
  });
});

describe('recording an outcome', () => {
  it('NPRS: a whole number from 0 to 10', () => {
    const ok = recordOutcome(get('nprs'), { scores: { score: 6 } });
    expect(ok).toEqual({ ok: true, value: { instrumentId: 'nprs', instrumentVersion: '11-point (0-10)', instrumentHash: get('nprs').hash, scores: { score: 6 } } });
    expect(recordOutcome(get('nprs'), { scores: { score: 11 } })).toEqual({ ok: false, problems: [{ path: 'scores.score', message: '11 is outside 0-10, the range of Numeric Pain Rating Scale Pain now' }] });
    expect(recordOutcome(get('nprs'), { scores: { score: 4.5 } })).toMatchObject({ ok: false, problems: [{ message: '4.5 is not on the 1 steps of Numeric Pain Rating Scale Pain now' }] });
    expect(recordOutcome(get('nprs'), {})).toMatchObject({ ok: false, problems: [{ path: 'scores.score', message: 'Numeric Pain Rating Scale Pain now is missing' }] });
  });

  it('PSFS: 1-5 named activities, each rated 0-10; the score is their mean', () => {
    const r = recordOutcome(get('psfs'), { items: [{ activity: 'stairs', rating: 3 }, { activity: 'kneeling', rating: 4 }, { activity: 'walking 1 km', rating: 6 }] });
    expect(r.ok && r.value.scores).toEqual({ mean: 4.33 });
    const bad = recordOutcome(get('psfs'), { items: [{ activity: 'stairs', rating: 12 }, { activity: 'Stairs', rating: 2 }] });
    expect(bad.ok ? [] : bad.problems.map((p) => p.path)).toEqual(['items[0].rating', 'items[1].activity']);
    expect(recordOutcome(get('psfs'), { items: [] })).toMatchObject({ ok: false, problems: [{ path: 'items', message: 'Patient-Specific Functional Scale takes 1-5 activities, not 0' }] });
  });

  it('licensed score-only: any of its scores, each in its own range, and nothing else', () => {
    expect(recordOutcome(get('womac'), { scores: { total: 40, pain: 9 } })).toMatchObject({ ok: true, value: { scores: { total: 40, pain: 9 } } });
    const bad = recordOutcome(get('womac'), { scores: { total: 97, stiff: 2 } });
    expect(bad.ok ? [] : bad.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'scores.stiff: WOMAC Osteoarthritis Index has no score "stiff"; its scores: total, pain, stiffness, function',
      'scores.total: 97 is outside 0-96, the range of WOMAC Osteoarthritis Index Total',
    ]);
    expect(recordOutcome(get('odi'), { scores: {} })).toMatchObject({ ok: false, problems: [{ path: 'scores' }] });
  });

  it('a change is judged against the MCID in the direction of improvement', () => {
    const nprs = get('nprs').scores[0]!;
    expect(scoreChange(nprs, 7, 4)).toMatchObject({ change: -3, improvement: 3, mcid: 2, clinicallyImportant: true, text: 'improved by 3 points (MCID 2: clinically important)' });
    expect(scoreChange(nprs, 5, 4)).toMatchObject({ improvement: 1, clinicallyImportant: false, text: 'improved by 1 point (MCID 2: below the MCID)' });
    expect(scoreChange(nprs, 3, 5)).toMatchObject({ improvement: -2, clinicallyImportant: false, text: 'worsened by 2 points (MCID 2: below the MCID)' });
    const psfs = get('psfs').scores[0]!;
    expect(scoreChange(psfs, 3, 6)).toMatchObject({ improvement: 3, mcid: null, clinicallyImportant: null, text: 'improved by 3 points (no MCID recorded for this score)' });
    expect(scoreChange(get('odi').scores[0]!, 40, 40).text).toBe('unchanged (no MCID recorded for this score)');
  });
});

describe('adverse effects', () => {
  it('have a kind and a severity; "other" needs words', () => {
    expect(AdverseEffectSchema.parse({ kind: 'bruising', severity: 'mild' })).toEqual({ kind: 'bruising', severity: 'mild' });
    expect(describeAdverseEffect({ kind: 'vasovagal', severity: 'moderate' })).toBe('vasovagal reaction (moderate)');
    expect(AdverseEffectSchema.safeParse({ kind: 'other', severity: 'mild' }).error?.issues[0]?.message).toBe('say what happened (text) for an adverse effect of kind "other"');
    expect(AdverseEffectSchema.safeParse({ kind: 'rash', severity: 'mild' }).error?.issues[0]?.message).toBe('"rash" is not an adverse effect; allowed: soreness, bruising, bleeding, vasovagal, needle-bent, other');
    expect(describeAdverseEffect({ kind: 'other', severity: 'mild', text: 'dizziness' })).toBe('other: dizziness (mild)');
  });
});
