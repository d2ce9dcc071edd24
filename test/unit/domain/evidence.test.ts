// The evidence status of protocol values in words (issue 13 section 4): labels, values with units
// and the status, never field paths, for every built-in and for the shapes user files can take.
import { describe, expect, it } from 'vitest';
import { BUILT_INS, builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { type EvidenceSubject, protocolEvidence, statusWords, valueList } from '../../../src/domain/protocols/evidence.js';
import type { Protocol } from '../../../src/domain/protocols/derive.js';

function builtIn(id: string): Protocol {
  const b = builtInProtocol(id);
  if (!b) throw new Error(`no built-in ${id}`);
  return b.protocol;
}

/** Something that reads like a field path: "phases[0]", "amplitude.maxMa", "durationMin". */
const PATH_LIKE = /\[\d+\]|\b[a-z]+\.[a-z]+[A-Z]|\b[a-z]+(Hz|Us|Ma|Min|Mm|S|MaPerS)\b/;

describe('protocolEvidence over every built-in', () => {
  it.each(BUILT_INS.map((b) => [b.id, b.protocol] as const))('%s: every marked value once, labelled in words, with its status', (_, p) => {
    const ev = protocolEvidence(p, { library: true });
    for (const source of p.sources) {
      for (const path of source.verified) {
        const v = ev.values.find((x) => x.path === path);
        expect([v?.status, v?.sources.includes(source.key)], path).toEqual(['verified', true]);
      }
      for (const path of source.unverified) expect(ev.values.find((v) => v.path === path)?.status, path).toBe('unverified');
    }
    expect(new Set(ev.values.map((v) => v.path)).size).toBe(ev.values.length);
    for (const v of ev.values) {
      expect(v.label, v.path).not.toMatch(PATH_LIKE);
      expect(v.label, v.path).not.toBe(v.path);
    }
    // The built-ins mark every stimulation value (library.test.ts), so nothing is left unmarked.
    expect(ev.values.filter((v) => v.status === 'unmarked')).toEqual([]);
  });

  it.each(BUILT_INS.map((b) => [b.id, b.protocol] as const))('%s: numbers carry their unit; the sentences name no path', (_, p) => {
    const ev = protocolEvidence(p, { library: true });
    const byPath = new Map(ev.values.map((v) => [v.path, v.value]));
    const ph = p.phases[0]!;
    expect(byPath.get('phases[0].pulseWidthUs')).toBe(`${ph.pulseWidthUs} µs per phase`);
    expect(byPath.get('phases[0].durationMin')).toBe(`${ph.durationMin} min`);
    expect(byPath.get('phases[0].amplitude.maxMa')).toBe(`${ph.amplitude.maxMa} mA`);
    expect(byPath.get('phases[0].amplitude.rampMaPerS')).toBe(`${ph.amplitude.rampMaPerS} mA/s`);
    expect(byPath.get('electrode.diameterMm')).toBe(`${p.electrode.diameterMm} mm`);
    for (const g of ev.groups) {
      expect(g.text).not.toMatch(PATH_LIKE);
      expect(g.text.endsWith(statusWords(g.status, g.source, g.values.length))).toBe(true);
    }
    // One group per source and status that has values, in source order, verified first.
    const expected = p.sources.flatMap((s) => [...(s.verified.length > 0 ? [`verified ${s.key}`] : []), ...(s.unverified.length > 0 ? [`unverified ${s.key}`] : [])]);
    expect(ev.groups.map((g) => `${g.status} ${g.source ?? ''}`)).toEqual(expected);
  });

  it('knee-oa-periosteal: the clinician reads the unverified values as defaults to confirm', () => {
    const ev = protocolEvidence(builtIn('knee-oa-periosteal'), { library: true });
    const unverified = ev.groups.find((g) => g.status === 'unverified');
    expect(unverified?.text).toMatch(/^Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min, waveform symmetric biphasic, maximum amplitude 10 mA, amplitude rise 0\.5 mA\/s, titration “strong but comfortable”, needle diameter 0\.3 mm, inserted needle length 40 mm, channel 1 sites “medial tibial plateau \(periosteum\)” and “medial femoral condyle \(periosteum\)”, channel 2 sites /);
    expect(unverified?.text).toMatch(/: defaults you confirm; not verified against DUNNING2018KNEE$/);
    expect(ev.groups.map((g) => g.text)).toContain('Indication: verified against DUNNING2018KNEE');
    expect(ev.groups.map((g) => g.text)).toContain('Planned sessions 10, course length 6 weeks, schedule as the source words it “1-2 sessions a week for 6 weeks, up to 10 sessions”: verified against NCT05365061');
  });

  it('low-back-mtrp: the trial’s stimulation values are verified, the titration and needle are not', () => {
    const ev = protocolEvidence(builtIn('low-back-mtrp'), { library: true });
    expect(ev.groups[0]!.text).toBe('Indication, planned sessions 6, interval between sessions 7 days, course length 6 weeks, schedule as the source words it “6 sessions, weekly for 6 weeks”, frequency 2 Hz, pulse width 250 µs per phase, duration 30 min: verified against LARAPALOMO2022');
    expect(ev.groups[1]!.text).toMatch(/^Waveform symmetric biphasic, maximum amplitude 10 mA, amplitude rise 0\.5 mA\/s, titration “titrated to a strong but comfortable level”, needle diameter 0\.3 mm, inserted needle length 50 mm, /);
  });

  it('dense-disperse-2-100: the pattern is labelled by its parts', () => {
    const ev = protocolEvidence(builtIn('dense-disperse-2-100'), { library: true });
    expect(ev.groups[0]!.text).toBe('Low frequency 2 Hz, high frequency 100 Hz, time at each frequency 3 s, titration “moderate”: verified against HAN');
  });
});

/** A small subject to vary: two phases, one channel, one source. */
function subject(over: Partial<EvidenceSubject> = {}): EvidenceSubject {
  return {
    indication: 'Test indication',
    electrode: { diameterMm: 0.3, insertedLengthMm: 40 },
    phases: [
      { name: 'warm-up', durationMin: 2, waveform: 'biphasic-symmetric', pattern: { kind: 'continuous', frequencyHz: 2 }, pulseWidthUs: 250, amplitude: { maxMa: 5, rampMaPerS: 0.5 } },
      { name: 'main', durationMin: 18, waveform: 'biphasic-asymmetric', pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 3 }, pulseWidthUs: 300, amplitude: { maxMa: 8, rampMaPerS: 0.5, titration: 'moderate' } },
    ],
    channels: [{ channel: 3, region: 'low-back', side: 'left', sites: ['a, first', 'b'] }],
    sources: [{ key: 'SRC', verified: ['phases[1].pattern.highHz'], unverified: ['phases[0].frequencyHz'] }],
    ...over,
  };
}

describe('protocolEvidence over other shapes', () => {
  it('names phases by number when there are several, and channels by their output number', () => {
    const ev = protocolEvidence(subject());
    const label = (path: string) => ev.values.find((v) => v.path === path)?.label;
    expect(label('phases[0].frequencyHz')).toBe('Phase 1 frequency');
    expect(label('phases[1].pattern.highHz')).toBe('Phase 2 high frequency');
    expect(label('channels[0].sites')).toBe('Channel 3 sites');
    expect(ev.values.find((v) => v.path === 'phases[1].waveform')?.value).toBe('asymmetric charge-balanced biphasic');
  });

  it('lists every stimulation value no source marks as a default the clinician confirms, in reading order', () => {
    const ev = protocolEvidence(subject());
    const unmarked = ev.groups.find((g) => g.status === 'unmarked');
    expect(unmarked?.source).toBeUndefined();
    expect(unmarked?.values.map((v) => v.path)).toEqual([
      'phases[0].pulseWidthUs',
      'phases[0].durationMin',
      'phases[0].waveform',
      'phases[0].amplitude.maxMa',
      'phases[0].amplitude.rampMaPerS',
      'phases[1].pattern.lowHz',
      'phases[1].pattern.dwellS',
      'phases[1].pulseWidthUs',
      'phases[1].durationMin',
      'phases[1].waveform',
      'phases[1].amplitude.maxMa',
      'phases[1].amplitude.rampMaPerS',
      'phases[1].amplitude.titration',
      'electrode.diameterMm',
      'electrode.insertedLengthMm',
      'channels[0].sites',
    ]);
    expect(unmarked?.text).toMatch(/^Phase 1 pulse width 250 µs per phase, phase 1 duration 2 min, .*, channel 3 sites “a, first” and “b”: defaults you confirm; no source is given for them$/);
    expect(ev.values.map((v) => v.path).slice(0, 3)).toEqual(['phases[0].frequencyHz', 'phases[0].pulseWidthUs', 'phases[0].durationMin']);
  });

  it('a marked whole (a phase, the needle) covers the values inside it', () => {
    const ev = protocolEvidence(subject({ sources: [{ key: 'SRC', verified: ['phases[0]', 'electrode'], unverified: ['phases[1]', 'channels'] }] }), { library: true });
    expect(ev.groups.map((g) => g.status)).toEqual(['verified', 'unverified']);
    expect(ev.groups[0]!.text).toBe('Phase 1 (all values), needle 0.3 mm x 40 mm inserted: verified against SRC');
    expect(ev.groups[1]!.text).toBe('Phase 2 (all values), channels (all values): defaults you confirm; not verified against SRC');
  });

  it('a value verified by one source is verified, whatever another leaves unchecked', () => {
    const ev = protocolEvidence(subject({ sources: [{ key: 'A', verified: [], unverified: ['phases[0].durationMin'] }, { key: 'B', verified: ['phases[0].durationMin'], unverified: [] }] }), { library: true });
    expect(ev.values.find((v) => v.path === 'phases[0].durationMin')).toMatchObject({ status: 'verified', sources: ['B'] });
    // Each source's own marking still reads as it was written.
    expect(ev.groups.slice(0, 2).map((g) => g.text)).toEqual(['Phase 1 duration 2 min: a default you confirm; not verified against A', 'Phase 1 duration 2 min: verified against B']);
  });

  it('a value the subject does not hold (a record without the titration) is named without a value', () => {
    const s = subject();
    const noTitration = subject({ phases: [s.phases[0]!, { ...s.phases[1]!, amplitude: { maxMa: 8, rampMaPerS: 0.5 } }], sources: [{ key: 'SRC', verified: [], unverified: ['phases[1].amplitude.titration'] }] });
    const ev = protocolEvidence(noTitration);
    expect(ev.values.find((v) => v.path === 'phases[1].amplitude.titration')).toEqual({ path: 'phases[1].amplitude.titration', label: 'Phase 2 titration', status: 'unverified', sources: ['SRC'] });
    expect(ev.groups[0]!.text).toBe('Phase 2 titration: a default you confirm; not verified against SRC');
  });

  it('a field the table does not know is named as written and read last, never dropped', () => {
    const ev = protocolEvidence(subject({ sources: [{ key: 'SRC', verified: ['sources[0].key', 'indication'], unverified: [] }] }));
    expect(ev.groups[0]!.values.map((v) => [v.label, v.value])).toEqual([
      ['Indication', 'Test indication'],
      ['sources[0].key', undefined],
    ]);
  });

  it('words for one value and for several', () => {
    expect(statusWords('unverified', 'K', 1)).toBe('a default you confirm; not verified against K');
    expect(statusWords('unverified', 'K', 3)).toBe('defaults you confirm; not verified against K');
    expect(statusWords('verified', 'K', 2)).toBe('verified against K');
    expect(statusWords('unmarked', undefined, 1)).toBe('a default you confirm; no source is given for it');
    expect(valueList([])).toBe('');
  });
});

describe('H26 a user protocol\'s "verified" is its author\'s claim', () => {
  it('H26 the same markings read as claimed, never verified, unless the library vouches for this version', () => {
    const p = BUILT_INS[0]!.protocol;
    const own = protocolEvidence(p, { library: true });
    const copy = protocolEvidence(p);
    expect(own.values.some((v) => v.status === 'verified')).toBe(true);
    expect(copy.values.some((v) => v.status === 'verified')).toBe(false);
    const claimed = copy.groups.find((g) => g.status === 'claimed')!;
    expect(claimed.text).toMatch(/: checked against [A-Z0-9]+ by its author's account \(not reviewed for the built-in library\)$/);
    expect(copy.values.filter((v) => v.status === 'claimed').map((v) => v.path)).toEqual(own.values.filter((v) => v.status === 'verified').map((v) => v.path));
  });
});
