import { describe, expect, it } from 'vitest';
import {
  ASYM_RATIO,
  cardWarningText,
  validityView,
  warningText,
  withoutReference,
  FORBIDDEN_REGIONS,
  NUMERIC_FIELDS,
  REGIONS,
  SIDES,
  WAVEFORMS,
  copyId,
  duplicateProtocol,
  exportFileName,
  fieldKey,
  formatPath,
  frequencyMode,
  getAt,
  numericField,
  parseImport,
  parseNumber,
  parsePath,
  pathLabel,
  placeMessages,
  pulseOutline,
  rangeText,
  setAt,
  setFrequencyMode,
  sidesFor,
  siteChoices,
  siteEntry,
  siteParts,
  nextSite,
  sourcesSummary,
  stepValue,
} from '../../../electron/renderer/protocol-model.js';
import { MIDLINE_REGIONS, REGION_SITES } from '../../../src/domain/protocols/sites.js';
import { FORMAT_LIMITS, HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import { FORBIDDEN_REGIONS as CORE_FORBIDDEN, REGIONS as CORE_REGIONS, SIDES as CORE_SIDES } from '../../../src/domain/protocols/schema.js';
import { WAVEFORMS as CORE_WAVEFORMS } from '../../../src/domain/stimulation.js';
import { validateProtocol } from '../../../src/domain/protocols/validate.js';
import { BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { MODEL } from '../../../src/simulator/limits.js';

describe('the editor ranges mirror the core limits (display hints must not drift)', () => {
  const L = HARD_LIMITS;
  it.each([
    ['electrode.diameterMm', L.needleDiameterMinMm.value, L.needleDiameterMaxMm.value],
    ['electrode.insertedLengthMm', L.needleInsertedLengthMinMm.value, L.needleInsertedLengthMaxMm.value],
    ['channels[i].channel', 1, FORMAT_LIMITS.maxChannel],
    ['phases[i].durationMin', 0, L.sessionMaxMin.value],
    ['phases[i].frequencyHz', L.frequencyMinHz.value, L.frequencyMaxHz.value],
    ['phases[i].pulseWidthUs', L.pulseWidthMinUs.value, L.pulseWidthMaxUs.value],
    ['phases[i].amplitude.maxMa', 0, L.amplitudeMaxMa.value],
    ['phases[i].amplitude.rampMaPerS', 0, L.amplitudeRiseMaxMaPerS.value],
    ['phases[i].pattern.lowHz', L.frequencyMinHz.value, L.frequencyMaxHz.value],
    ['phases[i].pattern.highHz', L.frequencyMinHz.value, L.frequencyMaxHz.value],
    ['phases[i].pattern.dwellS', FORMAT_LIMITS.dwellMinS, FORMAT_LIMITS.dwellMaxS],
    ['phases[i].pattern.burstRateHz', L.frequencyMinHz.value, L.frequencyMaxHz.value],
    ['phases[i].pattern.intraBurstHz', L.frequencyMinHz.value, L.frequencyMaxHz.value],
    ['phases[i].pattern.pulsesPerBurst', FORMAT_LIMITS.pulsesPerBurstMin, FORMAT_LIMITS.pulsesPerBurstMax],
  ] as const)('%s is %d..%d', (key, min, max) => {
    const f = NUMERIC_FIELDS[key];
    expect([f.min, f.max]).toEqual([min, max]);
  });

  it('has exactly the numeric fields of the format', () => {
    expect(Object.keys(NUMERIC_FIELDS)).toHaveLength(14);
  });

  it('offers the core regions, sides and waveforms, and knows which regions are forbidden', () => {
    expect([...REGIONS].sort()).toEqual([...CORE_REGIONS].sort());
    expect([...SIDES].sort()).toEqual([...CORE_SIDES].sort());
    expect([...WAVEFORMS]).toEqual([...CORE_WAVEFORMS]);
    expect([...FORBIDDEN_REGIONS].sort()).toEqual([...CORE_FORBIDDEN].sort());
  });

  it('offers midline only where the core allows it, and each region\'s listed sites', () => {
    for (const region of CORE_REGIONS) {
      expect(sidesFor(region).includes('midline'), region).toBe(MIDLINE_REGIONS.includes(region));
      expect(siteChoices(region)).toEqual(REGION_SITES[region]);
    }
    expect(sidesFor('shoulder')).toEqual(['affected', 'left', 'right']);
    expect(siteChoices('toString')).toEqual([]);
    expect(siteChoices(undefined)).toEqual([]);
  });

  it('edits a site as a listed name with an optional note, in the form the core validates', () => {
    expect(siteParts('medial joint line')).toEqual({ site: 'medial joint line', note: '' });
    expect(siteParts({ site: 'vastus medialis', note: 'distal third' })).toEqual({ site: 'vastus medialis', note: 'distal third' });
    expect(siteEntry('vastus medialis', '  ')).toBe('vastus medialis');
    expect(siteEntry('vastus medialis', 'distal third')).toEqual({ site: 'vastus medialis', note: 'distal third' });
    expect(nextSite('knee', ['medial tibial plateau (periosteum)'])).toBe('medial femoral condyle (periosteum)');
    // Every built-in's sites are choices of their region, so a duplicate opens without a foreign value.
    for (const json of Object.values(BUILT_IN_FILES)) {
      for (const c of (json as { channels: { region: string; sites: unknown[] }[] }).channels) {
        for (const entry of c.sites) expect(siteChoices(c.region)).toContain(siteParts(entry).site);
      }
    }
    const file = duplicateProtocol(BUILT_IN_FILES['knee-oa-periosteal.json'], new Set());
    const channels = file.channels as { sites: unknown[] }[];
    channels[0]!.sites[1] = siteEntry(siteParts(channels[0]!.sites[1]).site, 'behind the knee, towards the chest');
    const r = validateProtocol(file);
    expect(!r.ok && r.errors.map((e) => e.path)).toEqual(['channels[0].sites[1].note']);
  });

  it('counts "verified" as verified only for a built-in; a user protocol\'s is its author\'s claim (the words: evidence.test.ts)', () => {
    const source = { verified: ['indication', 'phases[0].durationMin'], unverified: ['electrode.diameterMm'] };
    expect(sourcesSummary({ builtIn: true, sources: [source] })).toBe('Sources: 1 (2 verified, 1 unverified values)');
    expect(sourcesSummary({ builtIn: false, sources: [source] })).toBe('Sources: 1 (2 values the author marks as checked, 1 unverified)');
  });

  it('draws the asymmetric waveform with the simulator ratio', () => {
    expect(ASYM_RATIO).toBe(MODEL.asymRatio);
  });
});

describe('paths', () => {
  it('parses and formats the notation of the core validation', () => {
    expect(parsePath('phases[0].amplitude.maxMa')).toEqual(['phases', 0, 'amplitude', 'maxMa']);
    expect(parsePath('')).toEqual([]);
    expect(parsePath('phases[x]')).toBeUndefined();
    expect(formatPath(['sources', 1, 'verified', 2])).toBe('sources[1].verified[2]');
    expect(fieldKey('phases[12].pattern.lowHz')).toBe('phases[i].pattern.lowHz');
  });

  it('gets, sets (creating containers) and deletes in place', () => {
    const file: Record<string, unknown> = { phases: [{ amplitude: { maxMa: 10 } }] };
    expect(getAt(file, 'phases[0].amplitude.maxMa')).toBe(10);
    expect(getAt(file, 'phases[3].amplitude.maxMa')).toBeUndefined();
    setAt(file, 'phases[0].amplitude.maxMa', 12);
    setAt(file, 'electrode.diameterMm', 0.3);
    expect(file).toEqual({ phases: [{ amplitude: { maxMa: 12 } }], electrode: { diameterMm: 0.3 } });
    setAt(file, 'phases[0].amplitude.maxMa', undefined);
    expect(getAt(file, 'phases[0].amplitude')).toEqual({});
    setAt(file, 'phases[0]', undefined);
    expect(file.phases).toEqual([]);
    expect(() => setAt(file, '', 1)).toThrow(/not a field path/);
  });

  it('names paths in words for the error summary', () => {
    expect(pathLabel('phases[0].amplitude.maxMa')).toBe('Phase 1 › Maximum amplitude');
    expect(pathLabel('channels[1].region')).toBe('Channel entry 2 › Region');
    expect(pathLabel('sources[0].verified[2]')).toBe('Source 1 › Fields you checked › item 3');
    expect(pathLabel('channels[0].sites[1]')).toBe('Channel entry 1 › Needle sites › item 2');
    expect(pathLabel('phases[1]')).toBe('Phase 2');
    expect(pathLabel('name')).toBe('Name');
    expect(pathLabel('')).toBe('The file');
  });
});

describe('numeric fields', () => {
  const amp = NUMERIC_FIELDS['phases[i].amplitude.maxMa'];
  const pw = NUMERIC_FIELDS['phases[i].pulseWidthUs'];

  it('says the allowed range with the unit', () => {
    expect(rangeText(pw)).toBe('50–600 µs');
    expect(rangeText(amp)).toBe('above 0, up to 20 mA');
    expect(numericField('phases[3].pulseWidthUs')).toBe(pw);
    expect(numericField('name')).toBeUndefined();
  });

  it('steps onto round numbers and stays in range', () => {
    expect(stepValue(amp, 10, 1)).toBe(10.5);
    expect(stepValue(amp, 10.2, 1)).toBe(10.5);
    expect(stepValue(amp, 10.2, -1)).toBe(10);
    expect(stepValue(amp, 20, 1)).toBe(20);
    expect(stepValue(amp, 0.5, -1)).toBe(0.5); // never 0: the field must be above 0
    expect(stepValue(amp, undefined, 1)).toBe(0.5);
    expect(stepValue(pw, 600, 1)).toBe(600);
    expect(stepValue(pw, 45, 1)).toBe(50);
    expect(stepValue(NUMERIC_FIELDS['phases[i].amplitude.rampMaPerS'], 0.3, 1)).toBe(0.4);
  });

  it('parses typed numbers (a decimal comma too); NaN when not a number', () => {
    expect(parseNumber(' 2.5 ')).toBe(2.5);
    expect(parseNumber('2,5')).toBe(2.5);
    expect(parseNumber('')).toBeUndefined();
    expect(parseNumber('12abc')).toBeNaN();
    expect(parseNumber('.5')).toBe(0.5);
  });
});

describe('validation messages beside their fields', () => {
  it('places a message at its field, at the nearest shown parent, or in the summary', () => {
    const shown = new Set(['phases[0].amplitude.maxMa', 'sources[0].verified', 'phases']);
    const { byPath, unplaced } = placeMessages(
      [
        { path: 'phases[0].amplitude.maxMa', message: 'too high' },
        { path: 'sources[0].verified[3]', message: 'not a field' },
        { path: 'phases', message: 'too long in total' },
        { path: '', message: 'not a protocol' },
        { path: 'aftercare', message: 'missing' },
      ],
      shown,
    );
    expect(Object.fromEntries(byPath)).toEqual({
      'phases[0].amplitude.maxMa': ['too high'],
      'sources[0].verified': ['not a field'],
      phases: ['too long in total'],
    });
    expect(unplaced.map((m) => m.message)).toEqual(['not a protocol', 'missing']);
  });
});

describe('frequency modes', () => {
  it('switches a phase between steady and the patterns, keeping the frequency', () => {
    const phase: Record<string, unknown> = { frequencyHz: 4 };
    expect(frequencyMode(phase)).toBe('steady');
    setFrequencyMode(phase, 'dense-disperse');
    expect(phase).toEqual({ pattern: { kind: 'dense-disperse', lowHz: 4, highHz: 100, dwellS: 3 } });
    setFrequencyMode(phase, 'burst');
    expect(frequencyMode(phase)).toBe('burst');
    expect(phase.pattern).toMatchObject({ kind: 'burst', burstRateHz: 4 });
    setFrequencyMode(phase, 'steady');
    expect(phase).toEqual({ frequencyHz: 4 });
  });
});

describe('copies, export and import', () => {
  it('duplicates a built-in under a free id, and the copy validates', () => {
    const knee = BUILT_IN_FILES['knee-oa-periosteal.json'];
    expect(knee).toBeDefined();
    const copy = duplicateProtocol(knee, new Set(['knee-oa-periosteal', 'knee-oa-periosteal-custom']));
    expect(copy.id).toBe('knee-oa-periosteal-custom-2');
    expect(copy.name).toBe('Periosteal EDN for knee osteoarthritis (customised)');
    expect(validateProtocol(copy).ok).toBe(true);
    expect((knee as { id: string }).id).toBe('knee-oa-periosteal'); // the original is untouched
  });

  it('keeps ids within 64 characters', () => {
    expect(copyId('a'.repeat(64), new Set()).length).toBeLessThanOrEqual(64);
  });

  it('names export files after the id, and reads imports', () => {
    expect(exportFileName({ id: 'knee-oa-short' })).toBe('knee-oa-short.edn-protocol.json');
    expect(exportFileName({ id: '../../etc/passwd' })).toBe('protocol.edn-protocol.json');
    expect(parseImport('{"id":"x"}', 'a.json')).toEqual({ ok: true, file: { id: 'x' } });
    const bad = parseImport('{', 'a.json');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/^a\.json is not a protocol file \(not valid JSON/);
  });
});

describe('the waveform preview', () => {
  it('outlines a symmetric pulse: equal and opposite phases', () => {
    const { x, y } = pulseOutline('biphasic-symmetric', 250, 10);
    expect(x).toEqual([-75, 0, 0, 250, 250, 500, 500, 575]);
    expect(y).toEqual([0, 0, -10, -10, 10, 10, 0, 0]);
  });

  it('outlines an asymmetric pulse with the same charge in both phases', () => {
    const { x, y } = pulseOutline('biphasic-asymmetric', 200, 8);
    const cathodic = (x[3]! - x[2]!) * y[2]!;
    const anodic = (x[5]! - x[4]!) * y[4]!;
    expect(cathodic + anodic).toBeCloseTo(0, 9);
    expect(y[4]).toBe(2);
  });
});

describe('the editor status and the library card name every warning (issue 16 section 5)', () => {
  const rms = { path: 'phases[0].amplitude.maxMa', message: "RMS current density 5.2 mA/cm² at 8 mA is above 2 mA/cm²: the electrode needs the operator's special attention [docs/CLINICAL.md#rms-current-density]" };
  const shannon = { path: 'phases[1].pulseWidthUs', message: 'Shannon k 1.63 at 10 mA is above 1.5: the charge density is getting close to the 1.85 threshold [docs/CLINICAL.md#charge-density-shannon]' };

  it('a clean file reads "Valid: ready to save." (unsaved) or "Valid and saved." (saved)', () => {
    expect(validityView({ valid: true, errors: [], warnings: [] }, false)).toEqual({ state: 'valid', text: 'Valid: ready to save.', warnings: [] });
    expect(validityView({ valid: true, errors: [], warnings: [] }, true).text).toBe('Valid and saved.');
  });

  it('a valid file with a warning never reads like a clean one: the count, where and what, without the source reference', () => {
    const v = validityView({ valid: true, errors: [], warnings: [rms] }, false);
    expect(v.state).toBe('warned');
    expect(v.text).toBe("Valid, 1 warning: Phase 1 › Maximum amplitude: RMS current density 5.2 mA/cm² at 8 mA is above 2 mA/cm²: the electrode needs the operator's special attention.");
    expect(v.warnings).toEqual([rms]);
    expect(validityView({ valid: true, errors: [], warnings: [rms] }, true).text).toMatch(/^Valid and saved, 1 warning: Phase 1 › Maximum amplitude: RMS/);
  });

  it('n warnings are counted and each is named in order; a repeated one counts once', () => {
    const v = validityView({ valid: true, errors: [], warnings: [rms, shannon, rms] }, false);
    expect(v.text).toMatch(/^Valid, 2 warnings: Phase 1 › Maximum amplitude: RMS current density .*; Phase 2 › Pulse width per phase: Shannon k 1\.63 at 10 mA is above 1\.5: the charge density is getting close to the 1\.85 threshold\.$/);
    expect(v.warnings).toEqual([rms, shannon]);
  });

  it('an invalid file says how many problems, and how many warnings besides', () => {
    const err = { path: 'id', message: 'must be lower-case words' };
    expect(validityView({ valid: false, errors: [err], warnings: [] }, false)).toEqual({ state: 'invalid', text: 'One problem to fix before saving.', warnings: [] });
    expect(validityView({ valid: false, errors: [err, err], warnings: [shannon] }, false).text).toBe('2 problems to fix before saving, and 1 warning.');
  });

  it('withoutReference drops only a trailing [reference]', () => {
    expect(withoutReference('above 1.5 [docs/CLINICAL.md#x]')).toBe('above 1.5');
    expect(withoutReference('see [1] for more')).toBe('see [1] for more');
    expect(warningText(shannon)).toBe('Phase 2 › Pulse width per phase: Shannon k 1.63 at 10 mA is above 1.5: the charge density is getting close to the 1.85 threshold');
  });

  it('the library card line: nothing without warnings, "Warning: ..." with one, "n warnings: ..." with more', () => {
    expect(cardWarningText([])).toBeUndefined();
    expect(cardWarningText([rms])).toBe("Warning: Phase 1 › Maximum amplitude: RMS current density 5.2 mA/cm² at 8 mA is above 2 mA/cm²: the electrode needs the operator's special attention. Check it before using the protocol.");
    expect(cardWarningText([rms, shannon, rms])).toMatch(/^2 warnings: Phase 1 › .*; Phase 2 › .*\. Check it before using the protocol\.$/);
  });
});
