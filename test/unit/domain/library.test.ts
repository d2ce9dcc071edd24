// The built-in library against docs/CLINICAL.md#built-in-protocols: values, sources and which values
// are verified. An unverified value must never be presented as the paper's figure.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_INS, BUILT_IN_FILES, builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { phaseFigures } from '../../../src/domain/protocols/figures.js';
import type { Protocol } from '../../../src/domain/protocols/derive.js';
import { FORBIDDEN_REGIONS } from '../../../src/domain/protocols/schema.js';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import { plannedCourse } from '../../../src/domain/protocols/schedule.js';

const LIBRARY_DIR = path.resolve(import.meta.dirname, '../../../src/domain/protocols/library');

function get(id: string): Protocol {
  const b = builtInProtocol(id);
  if (!b) throw new Error(`no built-in ${id}`);
  return b.protocol;
}
const source = (id: string, key: string) => {
  const s = get(id).sources.find((x) => x.key === key);
  if (!s) throw new Error(`${id} has no source ${key}`);
  return s;
};

/** Every stimulation value a protocol states; each must be either verified or unverified somewhere. */
function stimulationFields(p: Protocol): string[] {
  const out = ['electrode.diameterMm', 'electrode.insertedLengthMm'];
  p.phases.forEach((ph, i) => {
    out.push(`phases[${i}].pulseWidthUs`, `phases[${i}].durationMin`, `phases[${i}].waveform`, `phases[${i}].amplitude.maxMa`, `phases[${i}].amplitude.rampMaPerS`);
    out.push(...(ph.pattern.kind === 'continuous' ? [`phases[${i}].frequencyHz`] : Object.keys(ph.pattern).filter((k) => k !== 'kind').map((k) => `phases[${i}].pattern.${k}`)));
    if (ph.amplitude.titration) out.push(`phases[${i}].amplitude.titration`);
  });
  p.channels.forEach((_, i) => out.push(`channels[${i}].sites`));
  return out;
}

describe('the built-in library', () => {
  it('contains at least the four protocols the issue asks for, one per file', () => {
    expect(BUILT_INS.map((b) => b.id)).toEqual(expect.arrayContaining(['knee-oa-periosteal', 'plantar-fasciitis', 'low-back-mtrp', 'dense-disperse-2-100']));
    const jsonFiles = readdirSync(LIBRARY_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(Object.keys(BUILT_IN_FILES).sort()).toEqual(jsonFiles);
    for (const b of BUILT_INS) expect(b.fileName).toBe(`${b.id}.json`);
  });

  it('validates every built-in and gives each a distinct hash', () => {
    expect(BUILT_INS.every((b) => /^[0-9a-f]{64}$/.test(b.hash))).toBe(true);
    expect(new Set(BUILT_INS.map((b) => b.hash)).size).toBe(BUILT_INS.length);
  });

  it.each(BUILT_INS.map((b) => [b.id, b.protocol] as const))('%s states the verification status of every value', (_, p) => {
    const verified = p.sources.flatMap((s) => s.verified);
    const unverified = p.sources.flatMap((s) => s.unverified);
    for (const field of stimulationFields(p)) {
      expect(verified.includes(field) || unverified.includes(field), field).toBe(true);
    }
    expect(verified.filter((f) => unverified.includes(f))).toEqual([]);
  });

  it.each(BUILT_INS.map((b) => [b.id, b.protocol] as const))('%s is safe with margin and slow to rise', (_, p) => {
    expect(p.channels.every((c) => !FORBIDDEN_REGIONS.includes(c.region))).toBe(true);
    expect(p.channels.every((c) => c.sites.length > 0)).toBe(true);
    p.phases.forEach((ph, i) => {
      expect(ph.amplitude.rampMaPerS).toBeLessThanOrEqual(HARD_LIMITS.amplitudeRiseMaxMaPerS.value);
      const k = phaseFigures(p, i).dose.shannonK;
      expect(k).toBeLessThan(HARD_LIMITS.shannonKWarn.value);
    });
    expect(p.aftercare).toContain('No heat on the treated area for at least 30 minutes');
    expect(p.aftercare).toContain('Avoid intense physical activity for the rest of the day');
    expect(p.aftercare).toMatch(/soreness and slight bruising/);
  });
});

describe('values and status as docs/CLINICAL.md records them', () => {
  it('knee-oa-periosteal: 2 Hz, 250 µs, 20 min, all unverified (methods text not verified)', () => {
    const p = get('knee-oa-periosteal');
    const ph = p.phases[0]!;
    expect([ph.pattern, ph.pulseWidthUs, ph.durationMin, ph.amplitude.titration]).toEqual([{ kind: 'continuous', frequencyHz: 2 }, 250, 20, 'strong but comfortable']);
    const s = source('knee-oa-periosteal', 'DUNNING2018KNEE');
    expect(s.doi).toBe('10.1097/AJP.0000000000000634');
    expect(s.unverified).toEqual(expect.arrayContaining(['phases[0].frequencyHz', 'phases[0].pulseWidthUs', 'phases[0].durationMin', 'phases[0].amplitude.titration']));
    expect(s.verified).not.toContain('phases[0].frequencyHz');
    // "1-2 sessions a week for 6 weeks, up to 10 sessions" [NCT05365061]; the 4-day interval is ours.
    expect(source('knee-oa-periosteal', 'NCT05365061').verified).toEqual(['schedule.sessions', 'schedule.weeks', 'schedule.text']);
    expect(source('knee-oa-periosteal', 'NCT05365061').unverified).toEqual(['schedule.intervalDays']);
    expect(p.schedule).toEqual({ sessions: 10, intervalDays: 4, weeks: 6, text: '1-2 sessions a week for 6 weeks, up to 10 sessions' });
    expect(p.channels.every((c) => c.region === 'knee')).toBe(true);
    expect(p.electrode).toEqual({ kind: 'needle', diameterMm: 0.3, insertedLengthMm: 40 });
  });

  it('plantar-fasciitis: 20 min and the schedule verified (abstract); 2 Hz, 250 µs, titration not', () => {
    const p = get('plantar-fasciitis');
    const ph = p.phases[0]!;
    expect([ph.pattern, ph.pulseWidthUs, ph.durationMin]).toEqual([{ kind: 'continuous', frequencyHz: 2 }, 250, 20]);
    const s = source('plantar-fasciitis', 'DUNNING2018PF');
    expect(s.doi).toBe('10.1371/journal.pone.0205405');
    expect(s.verified).toEqual(expect.arrayContaining(['phases[0].durationMin', 'schedule.sessions', 'schedule.weeks']));
    expect(s.unverified).toEqual(expect.arrayContaining(['phases[0].frequencyHz', 'phases[0].pulseWidthUs', 'phases[0].amplitude.titration', 'schedule.intervalDays']));
    expect(p.schedule).toEqual({ sessions: 6, intervalDays: 5, weeks: 4, text: '6 sessions over 4 weeks' });
    expect(p.channels.flatMap((c) => c.sites)).toHaveLength(8);
  });

  it('low-back-mtrp: 2 Hz, 250 µs, 30 min verified; titration not; trigger points in the three muscles', () => {
    const p = get('low-back-mtrp');
    const ph = p.phases[0]!;
    expect([ph.pattern, ph.pulseWidthUs, ph.durationMin]).toEqual([{ kind: 'continuous', frequencyHz: 2 }, 250, 30]);
    const s = source('low-back-mtrp', 'LARAPALOMO2022');
    expect([s.doi, s.registry]).toEqual(['10.1186/s13063-022-06179-y', 'NCT04804228']);
    expect(s.verified).toEqual(expect.arrayContaining(['phases[0].frequencyHz', 'phases[0].pulseWidthUs', 'phases[0].durationMin']));
    expect(s.unverified).toContain('phases[0].amplitude.titration');
    // Weekly for 6 weeks: every number of the schedule is the trial's.
    expect(p.schedule).toEqual({ sessions: 6, intervalDays: 7, weeks: 6, text: '6 sessions, weekly for 6 weeks' });
    expect(s.verified).toEqual(expect.arrayContaining(['schedule.sessions', 'schedule.intervalDays', 'schedule.weeks']));
    const sites = p.channels.flatMap((c) => c.sites).join(' ');
    for (const muscle of ['quadratus lumborum', 'multifidus', 'iliocostalis']) expect(sites).toContain(muscle);
    expect(p.channels.every((c) => c.region === 'low-back')).toBe(true);
  });

  it('dense-disperse-2-100: 2 Hz alternating with 100 Hz, 3 s each; 300-600 µs and 20-30 min are ranges, so the chosen values are unverified', () => {
    const p = get('dense-disperse-2-100');
    const ph = p.phases[0]!;
    expect(ph.pattern).toEqual({ kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 3 });
    expect(ph.pulseWidthUs).toBeGreaterThanOrEqual(300);
    expect(ph.pulseWidthUs).toBeLessThanOrEqual(600);
    expect(ph.durationMin).toBeGreaterThanOrEqual(20);
    expect(ph.durationMin).toBeLessThanOrEqual(30);
    const s = source('dense-disperse-2-100', 'HAN');
    expect(s.verified).toEqual(expect.arrayContaining(['phases[0].pattern.lowHz', 'phases[0].pattern.highHz', 'phases[0].pattern.dwellS']));
    expect(s.unverified).toEqual(expect.arrayContaining(['phases[0].pulseWidthUs', 'phases[0].durationMin']));
    // The source gives no course: the schedule is a library default, every number of it unverified.
    expect(s.unverified).toEqual(expect.arrayContaining(['schedule.sessions', 'schedule.intervalDays', 'schedule.weeks']));
    expect(s.verified.filter((f) => f.startsWith('schedule'))).toEqual([]);
  });

  it('every built-in plans a course: sessions and interval, each number verified or marked a default', () => {
    for (const b of BUILT_INS) {
      const planned = plannedCourse(b.protocol.schedule);
      expect(planned, b.id).toBeDefined();
      for (const field of ['schedule.sessions', 'schedule.intervalDays']) {
        const listed = b.protocol.sources.filter((src) => src.verified.includes(field) || src.unverified.includes(field));
        expect(listed.length, `${b.id} ${field}`).toBeGreaterThan(0);
      }
    }
  });

  it('shows the expected warning only where needles at 100 Hz exceed 2 mA/cm²', () => {
    for (const b of BUILT_INS) {
      const expected = b.id === 'dense-disperse-2-100' ? ['phases[0].amplitude.maxMa'] : [];
      expect(b.warnings.map((w) => w.path), b.id).toEqual(expected);
    }
  });
});
