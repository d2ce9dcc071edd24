// The corpus of invalid protocol files (test/fixtures/protocols/invalid): each must be rejected,
// and one of its errors must name the expected path with the expected reason. The table below
// is the expectation for every file; a file without an entry (or an entry without a file) fails.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProtocolText } from '../../../src/domain/protocols/validate.js';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/protocols/invalid');
const VALID_DIR = path.resolve(import.meta.dirname, '../../fixtures/protocols/valid');

/** file (without .json) -> [expected error path, a fragment of its message]. "" is the file as a whole. */
const EXPECTED: Record<string, [string, string]> = {
  'aftercare-missing': ['aftercare', 'required field is missing'],
  'amplitude-above-ceiling': ['phases[0].amplitude.maxMa', '25 mA is above the 20 mA ceiling for needle electrodes [docs/CLINICAL.md#amplitude]'],
  'amplitude-as-text': ['phases[0].amplitude.maxMa', 'expected a number in mA'],
  'amplitude-missing': ['phases[0].amplitude.maxMa', 'required field is missing'],
  'amplitude-not-an-object': ['phases[0].amplitude', 'expected the amplitude: an object with maxMa and rampMaPerS, got number 5'],
  'amplitude-negative': ['phases[0].amplitude.maxMa', '-5 mA is not valid'],
  'amplitude-too-precise': ['phases[0].amplitude.maxMa', 'more than 3 decimals'],
  'amplitude-zero': ['phases[0].amplitude.maxMa', 'must be above 0'],
  'burst-does-not-fit': ['phases[0].pattern.pulsesPerBurst', 'do not fit in one burst period'],
  'burst-pulses-fractional': ['phases[0].pattern.pulsesPerBurst', 'not a whole number of pulses'],
  'channel-duplicate': ['channels[1].channel', 'already used by channels[0]'],
  'channel-nine': ['channels[0].channel', 'above 8'],
  'channel-zero': ['channels[0].channel', 'numbered from 1'],
  'channels-empty': ['channels', 'at least one channel'],
  'dense-disperse-dwell-too-short': ['phases[0].pattern.dwellS', 'below the 0.1 s shortest dwell'],
  'dense-disperse-high-above-150': ['phases[0].pattern.highHz', '180 Hz is above the 150 Hz maximum frequency'],
  'dense-disperse-low-above-high': ['phases[0].pattern.lowHz', 'must be below highHz'],
  'dense-disperse-missing-dwell': ['phases[0].pattern.dwellS', 'required field is missing'],
  'duration-not-whole-seconds': ['phases[0].durationMin', 'whole number of seconds'],
  'duration-phase-over-60': ['phases[0].durationMin', '61 min is above the 60 min maximum session length [docs/CLINICAL.md#session-length]'],
  'duration-total-over-60': ['phases', '70 min in total is above the 60 min maximum session length'],
  'duration-zero': ['phases[0].durationMin', 'must be above 0'],
  'electrode-missing': ['electrode', 'required field is missing (the needle: an object with kind, diameterMm and insertedLengthMm)'],
  'electrode-not-needle': ['electrode.kind', 'only "needle"'],
  'electrode-too-long': ['electrode.insertedLengthMm', '150 mm is above the 100 mm maximum inserted needle length'],
  'electrode-too-thick': ['electrode.diameterMm', '0.8 mm is above the 0.5 mm maximum needle diameter'],
  'format-missing': ['format', 'required field is missing (must be "edn-protocol/1")'],
  'format-wrong-version': ['format', 'not a format this version reads'],
  'frequency-and-pattern': ['phases[0].pattern', 'either frequencyHz or pattern, not both'],
  'frequency-and-pattern-missing': ['phases[0].frequencyHz', 'give frequencyHz (steady) or pattern'],
  'frequency-too-high': ['phases[0].frequencyHz', '200 Hz is above the 150 Hz maximum frequency (allowed 1-150 Hz) [docs/CLINICAL.md#frequency]'],
  'frequency-too-low': ['phases[0].frequencyHz', '0.5 Hz is below the 1 Hz minimum frequency'],
  'frequency-too-precise': ['phases[0].frequencyHz', 'more than 3 decimals'],
  'id-with-spaces': ['id', 'is not an id'],
  'name-empty': ['name', 'must not be empty'],
  'not-an-object': ['', 'a protocol file is a JSON object'],
  'pattern-continuous-kind': ['phases[0].pattern.kind', 'use frequencyHz instead of pattern'],
  'pattern-unknown-kind': ['phases[0].pattern.kind', 'unknown pattern kind "sweep"'],
  'phase-not-an-object': ['phases[0]', 'expected a phase: an object with name, durationMin, waveform, pulseWidthUs and amplitude, got "stimulation"'],
  'phases-empty': ['phases', 'at least one phase'],
  'pulse-width-fractional': ['phases[0].pulseWidthUs', 'not a whole number of µs'],
  'pulse-width-too-narrow': ['phases[0].pulseWidthUs', '20 µs is below the 50 µs minimum pulse width per phase'],
  'pulse-width-too-wide': ['phases[0].pulseWidthUs', '700 µs is above the 600 µs maximum pulse width per phase'],
  'ramp-too-fast': ['phases[0].amplitude.rampMaPerS', '1.5 mA/s is above the 1 mA/s maximum amplitude rise'],
  'ramp-zero': ['phases[0].amplitude.rampMaPerS', 'must be above 0'],
  'region-anterior-neck': ['channels[1].region', 'IEC 60601-2-10'],
  'region-face': ['channels[0].region', 'IEC 60601-2-10'],
  'region-head': ['channels[0].region', '"head" is not allowed'],
  'region-thorax': ['channels[0].region', 'across the thorax and heart'],
  'region-unknown': ['channels[0].region', '"chest" is not a region'],
  'shannon-at-ceiling': ['phases[0].amplitude.maxMa', 'Shannon k 1.98, at or above the 1.85'],
  'shannon-thin-needle': ['phases[0].amplitude.maxMa', 'Shannon k 1.90, at or above the 1.85 tissue-damage threshold'],
  'side-midline-shoulder': ['channels[0].side', '"midline" is not a side of the shoulder: both needles of a channel there are on one side'],
  'side-unknown': ['channels[0].side', '"both" is not a side'],
  'site-carotid-on-posterior-neck': ['channels[0].sites[0]', '"anterior neck over the carotid sinus" names the front of the neck ("anterior neck"): no current path over the front of the neck or the carotid sinus'],
  'site-chest-on-shoulder': ['channels[0].sites[0]', '"left/right pectoralis major (anterior chest)" names the chest or heart ("pectoralis"): no current path across the thorax and heart'],
  'site-free-text': ['channels[0].sites[0]', '"somewhere near the knee" is not a listed site of the knee; write one of: "medial tibial plateau (periosteum)"'],
  'site-note-crosses-midline': ['channels[0].sites[0].note', '"left and right knee" joins the two sides of the body'],
  'site-note-forbidden-area': ['channels[0].sites[0].note', '"angled towards the throat" names the front of the neck ("throat")'],
  'site-note-missing': ['channels[0].sites[0]', 'a site with a note needs both "site" (a listed site) and "note": "note" is missing'],
  'site-note-unknown-field': ['channels[0].sites[0].depth', 'unknown field "depth"; allowed here: site, note'],
  'site-of-another-region': ['channels[0].sites[0]', '"gluteus medius" is not a listed site of the knee (it is a site of the hip: set the channel\'s region to match)'],
  'sites-empty': ['channels[0].sites', 'at least one site name'],
  'source-doi-url': ['sources[0].doi', 'is not a DOI'],
  'source-duplicate-key': ['sources[1].key', 'already the key of sources[0]'],
  'source-unknown-verified-path': ['sources[0].verified[0]', 'not a field of this protocol'],
  'source-verified-and-unverified': ['sources[0].unverified', 'both verified and unverified'],
  'sources-empty': ['sources', 'at least one source'],
  'syntax-comment': ['', 'comments are not allowed'],
  'syntax-duplicate-key': ['', 'duplicate key "maxMa"'],
  'syntax-trailing-comma': ['', 'trailing comma'],
  'unknown-field-typo': ['phases[0].frequencyHZ', 'did you mean "frequencyHz"?'],
  'unknown-root-field': ['author', 'unknown field "author"'],
  'waveform-monophasic': ['phases[0].waveform', 'not a charge-balanced biphasic waveform'],
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('invalid protocol corpus', () => {
  it('has at least 40 files, each with an expectation, and no expectation without a file', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('H9 H25 %s is rejected at the expected path', (file) => {
    const [expectedPath, fragment] = EXPECTED[file.replace(/\.json$/, '')]!;
    const result = parseProtocolText(readFileSync(path.join(DIR, file), 'utf8'), file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const match = result.errors.find((e) => e.path === expectedPath);
    expect(match, `errors were: ${JSON.stringify(result.errors)}`).toBeDefined();
    expect(match!.message).toContain(fragment);
    for (const e of result.errors) {
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
    }
  });

  it('was derived from a base that is valid (each file breaks one thing)', () => {
    const base = parseProtocolText(readFileSync(path.join(VALID_DIR, 'base.json'), 'utf8'), 'base.json');
    expect(base.ok).toBe(true);
  });
});
