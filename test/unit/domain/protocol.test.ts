import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkStimulation } from '../../../src/domain/safety/guard.js';
import type { DeviceLimits } from '../../../src/domain/stimulation.js';
import { phaseLimits, phaseStimulation, totalDurationMin, treatedSites } from '../../../src/domain/protocols/derive.js';
import { editDistance, suggest } from '../../../src/domain/protocols/keys.js';
import { formatPath, parsePath, pathExists } from '../../../src/domain/protocols/paths.js';
import { type ProtocolValidation, formatProtocolError, parseProtocolText, validateProtocol } from '../../../src/domain/protocols/validate.js';

const VALID_DIR = path.resolve(import.meta.dirname, '../../fixtures/protocols/valid');
const read = (file: string) => readFileSync(path.join(VALID_DIR, file), 'utf8');
/** The fixture's shape, loosely: tests edit it freely before validating. */
interface Phase {
  name: string;
  durationMin: number;
  pulseWidthUs: number;
  amplitude: { maxMa: number; rampMaPerS: number };
  [key: string]: unknown;
}
type Draft = Record<string, unknown> & { aftercare: string; phases: Phase[] };
const base = () => JSON.parse(read('base.json')) as Draft;

function valid(r: ProtocolValidation) {
  if (!r.ok) throw new Error(r.errors.map(formatProtocolError).join('\n'));
  return r;
}

describe('valid protocol files', () => {
  it.each(readdirSync(VALID_DIR))('%s validates', (file) => {
    const r = valid(parseProtocolText(read(file), file));
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.protocol.hash).toBe(r.hash);
  });

  it('normalizes frequencyHz into a continuous pattern and keeps patterns as written', () => {
    expect(valid(validateProtocol(base())).protocol.phases[0]!.pattern).toEqual({ kind: 'continuous', frequencyHz: 2 });
    expect('frequencyHz' in valid(validateProtocol(base())).protocol.phases[0]!).toBe(false);
    const dd = valid(parseProtocolText(read('dense-disperse.json'), 'dd.json'));
    expect(dd.protocol.phases[0]!.pattern).toEqual({ kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 3 });
  });

  it('returns a deep-frozen protocol that does not share objects with the input', () => {
    const input = base();
    const { protocol } = valid(validateProtocol(input));
    expect(Object.isFrozen(protocol.phases[0]!.amplitude)).toBe(true);
    input.phases[0]!.amplitude.maxMa = 19;
    expect(protocol.phases[0]!.amplitude.maxMa).toBe(10);
  });

  it('carries the guard warnings of every phase (RMS density at 100 Hz)', () => {
    const r = valid(parseProtocolText(read('dense-disperse.json'), 'dd.json'));
    expect(r.warnings).toEqual([expect.objectContaining({ path: 'phases[0].amplitude.maxMa', message: expect.stringContaining('RMS current density 6.5 mA/cm²') as unknown })]);
  });
});

describe('the content hash', () => {
  it('ignores whitespace, key order and "$schema"', () => {
    const a = valid(validateProtocol(base())).hash;
    const reordered = Object.fromEntries(Object.entries(base()).reverse());
    expect(valid(validateProtocol(reordered)).hash).toBe(a);
    expect(valid(parseProtocolText(JSON.stringify(base()), 'compact.json')).hash).toBe(a);
    expect(valid(validateProtocol({ $schema: './x.json', ...base() })).hash).toBe(a);
  });

  it('changes with any value, even a word of the aftercare text', () => {
    const a = valid(validateProtocol(base())).hash;
    const b = base();
    b.aftercare = 'No heat for 31 minutes.';
    expect(valid(validateProtocol(b)).hash).not.toBe(a);
    const c = base();
    c.phases[0]!.amplitude.maxMa = 9.5;
    expect(valid(validateProtocol(c)).hash).not.toBe(a);
  });
});

describe('errors', () => {
  it('reports every error, one per path, with line and column from the text, in file order', () => {
    const text = read('base.json').replace('"maxMa": 10', '"maxMa": 25').replace('"frequencyHz": 2', '"frequencyHz": 200');
    const r = parseProtocolText(text, 'two.json');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual(['phases[0].frequencyHz', 'phases[0].amplitude.maxMa']);
    const lines = text.split('\n');
    for (const e of r.errors) expect(lines[e.line! - 1]!.slice(e.column! - 1)).toMatch(/^(200|25)\b/);
  });

  it('formats an error as "path: message"', () => {
    expect(formatProtocolError({ path: 'a.b', message: 'm' })).toBe('a.b: m');
    expect(formatProtocolError({ path: '', message: 'm' })).toBe('m');
  });

  it('reports only the format when a file is for another format version', () => {
    const r = validateProtocol({ format: 'edn-protocol/9', whatever: true });
    expect(!r.ok && r.errors).toEqual([{ path: 'format', message: expect.stringContaining('edn-protocol/1') as unknown }]);
  });

  it('runs the guard on every channel of every phase (the same guard as a session)', () => {
    const p = base();
    // 19 mA at 400 µs through 0.30 x 40 mm is Shannon k 2.19; the first phase stays valid
    p.phases.push({ ...p.phases[0]!, name: 'second', durationMin: 10, pulseWidthUs: 400, amplitude: { maxMa: 19, rampMaPerS: 0.5 } });
    p.phases[0]!.durationMin = 20;
    const r = validateProtocol(p);
    expect(!r.ok && r.errors.map((e) => e.path)).toEqual(['phases[1].amplitude.maxMa']);
  });
});

describe('derive', () => {
  it('gives the guard the limits of a phase and the session its parameters', () => {
    const { protocol } = valid(validateProtocol(base()));
    expect(phaseLimits(protocol, 0)).toEqual({
      protocolId: 'test-knee',
      phaseIndex: 0,
      channels: [1, 2],
      pattern: { kind: 'continuous', frequencyHz: 2 },
      pulseWidthUs: 250,
      waveform: 'biphasic-symmetric',
      maxMa: 10,
      rampMaPerS: 0.5,
      durationS: 1200,
    });
    expect(phaseStimulation(protocol, 0, 2, 3)).toMatchObject({ channel: 2, amplitudeMa: 3, durationS: 1200, rampMaPerS: 0.5 });
    expect(() => phaseLimits(protocol, 1)).toThrow(RangeError);
    expect(totalDurationMin(protocol)).toBe(20);
    expect(treatedSites(protocol)).toEqual([{ region: 'knee', side: 'left' }, { region: 'thigh', side: 'left' }]);
  });
});

describe('a protocol that validates is never refused by a session on the guard’s grounds', () => {
  // A device as permissive as the hard limits allow: the session's refusals then come only from
  // the guard's hard and protocol checks, the ones validation promises.
  const PERMISSIVE: DeviceLimits = {
    channels: 8,
    frequencyHz: { min: 1, max: 150 },
    pulseWidthUs: { min: 50, max: 600 },
    amplitudeMa: { min: 0, max: 20 },
    maxChargePerPhaseUc: 12,
    maxDurationS: 3600,
    complianceV: 500,
    watchdogMs: 1000,
  };
  const d = (min: number, max: number) => fc.double({ min, max, noNaN: true });
  const steady = d(1, 150).map((f) => ({ frequencyHz: Math.round(f * 1000) / 1000 }));
  const dd = fc.record({ kind: fc.constant('dense-disperse'), lowHz: fc.integer({ min: 1, max: 20 }), highHz: fc.integer({ min: 10, max: 150 }), dwellS: fc.integer({ min: 1, max: 600 }).map((x) => x / 10) });
  const burst = fc.record({ kind: fc.constant('burst'), burstRateHz: fc.integer({ min: 1, max: 10 }), intraBurstHz: fc.integer({ min: 20, max: 150 }), pulsesPerBurst: fc.integer({ min: 1, max: 20 }) });
  const phase = fc.record({
    timing: fc.oneof(steady, dd.map((pattern) => ({ pattern })), burst.map((pattern) => ({ pattern }))),
    pulseWidthUs: fc.integer({ min: 50, max: 600 }),
    durationMin: fc.integer({ min: 1, max: 60 }),
    maxMa: fc.integer({ min: 1, max: 20000 }).map((x) => x / 1000),
    rampMaPerS: fc.integer({ min: 1, max: 1000 }).map((x) => x / 1000),
    waveform: fc.constantFrom('biphasic-symmetric', 'biphasic-asymmetric'),
  });
  const file = fc.record({
    phases: fc.array(phase, { minLength: 1, maxLength: 3 }),
    diameterMm: fc.integer({ min: 100, max: 500 }).map((x) => x / 1000),
    insertedLengthMm: fc.integer({ min: 10, max: 1000 }).map((x) => x / 10),
  });

  it('holds for every phase, channel and amplitude up to maxMa', () => {
    let validCount = 0;
    fc.assert(
      fc.property(file, fc.double({ min: 0, max: 1, noNaN: true }), (f, fraction) => {
        const p = base();
        p.electrode = { kind: 'needle', diameterMm: f.diameterMm, insertedLengthMm: f.insertedLengthMm };
        p.phases = f.phases.map((ph, i) => ({ name: `p${i}`, durationMin: ph.durationMin, waveform: ph.waveform, ...ph.timing, pulseWidthUs: ph.pulseWidthUs, amplitude: { maxMa: ph.maxMa, rampMaPerS: ph.rampMaPerS } }));
        const r = validateProtocol(p);
        if (!r.ok) return;
        validCount++;
        const { protocol } = r;
        protocol.phases.forEach((ph, i) => {
          for (const c of protocol.channels) {
            for (const amplitude of [0, ph.amplitude.maxMa * fraction, ph.amplitude.maxMa]) {
              const params = phaseStimulation(protocol, i, c.channel, amplitude);
              const live = checkStimulation(params, { device: PERMISSIVE, protocol: phaseLimits(protocol, i), electrode: protocol.electrode });
              expect(live.ok, JSON.stringify(live)).toBe(true);
            }
          }
        });
      }),
      { numRuns: 2000 },
    );
    expect(validCount).toBeGreaterThan(100);
  });
});

describe('paths and suggestions', () => {
  it('parses and formats paths both ways', () => {
    expect(parsePath('phases[0].amplitude.maxMa')).toEqual(['phases', 0, 'amplitude', 'maxMa']);
    expect(formatPath(['phases', 0, 'amplitude', 'maxMa'])).toBe('phases[0].amplitude.maxMa');
    expect(formatPath(['a b'])).toBe('["a b"]');
    expect(parsePath('phases[x]')).toBeUndefined();
    expect(parsePath('.a')).toBeUndefined();
  });

  it('knows which paths exist', () => {
    const p = base();
    expect(pathExists(p, 'phases[0].amplitude.maxMa')).toBe(true);
    expect(pathExists(p, 'phases[1].amplitude.maxMa')).toBe(false);
    expect(pathExists(p, 'phases.amplitude')).toBe(false);
    expect(pathExists(p, 'electrode.kind.x')).toBe(false);
    expect(pathExists(p, 'toString')).toBe(false);
  });

  it('suggests the closest known key', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(suggest('frequencyHZ', ['frequencyHz', 'pattern'])).toBe('frequencyHz');
    expect(suggest('pulsewidth', ['pulseWidthUs'])).toBe('pulseWidthUs');
    expect(suggest('duration', ['durationMin', 'maxMa'])).toBeUndefined();
    expect(suggest('maxma', ['maxMa', 'rampMaPerS'])).toBe('maxMa');
  });
});

describe('the example in the README ("Writing a protocol")', () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
  const example = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1] ?? '';

  it('validates, and the hash and warning the page shows are the ones validation gives', () => {
    const r = valid(parseProtocolText(`${example}\n`, 'knee-two-phase.json'));
    expect(doc).toContain(`knee-two-phase.json: valid (id ${r.protocol.id}, sha256 ${r.hash})`);
    const w = r.warnings[0]!;
    expect(doc).toContain(`knee-two-phase.json:${w.line}:${w.column}: warning: ${w.path}: ${w.message}`);
  });
});
