// Pulse timing and the waveform sampler.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  pulseLengthUs,
  pulseOnsetsUs,
  pulsePhases,
  sampleWaveform,
  type WaveformProgram,
} from '../../../src/simulator/index.js';

describe('pulse onsets', () => {
  it('CONT: k x 1e9/f µs, computed without drift over an hour', () => {
    expect(pulseOnsetsUs({ mode: 'CONT', f: 2000 }, 0, 2_000_000)).toEqual([0, 500_000, 1_000_000, 1_500_000]);
    expect(pulseOnsetsUs({ mode: 'CONT', f: 2000 }, 500_000, 1_500_000)).toEqual([500_000, 1_000_000]);
    const hour = 3600e6;
    const late = pulseOnsetsUs({ mode: 'CONT', f: 3000 }, hour - 1, hour + 1_000_000);
    expect(late[0]).toBeCloseTo(hour, 3); // 3 Hz: every 333333.33 µs, the 10800th exactly at 1 h
    expect(late).toHaveLength(3);
    expect(pulseOnsetsUs({ mode: 'CONT', f: 150_000 }, 0, 1e6)).toHaveLength(150);
  });

  it('DD: f for a dwell, then f2, alternating; each dwell starts with a pulse', () => {
    const dd = { mode: 'DD', f: 2000, f2: 10_000, dwell: 1000 } as const;
    expect(pulseOnsetsUs(dd, 0, 1e6)).toEqual([0, 500_000]);
    expect(pulseOnsetsUs(dd, 1e6, 2e6)).toEqual(Array.from({ length: 10 }, (_, k) => 1e6 + k * 100_000));
    expect(pulseOnsetsUs(dd, 2e6, 3e6)).toEqual([2e6, 2.5e6]);
    expect(pulseOnsetsUs(dd, 0, 10e6)).toHaveLength(5 * 2 + 5 * 10);
  });

  it('BURST: n pulses 1e9/f2 apart, every 1e9/f', () => {
    const burst = { mode: 'BURST', f: 1000, f2: 100_000, n: 3 } as const;
    expect(pulseOnsetsUs(burst, 0, 2e6)).toEqual([0, 10_000, 20_000, 1e6, 1.01e6, 1.02e6]);
    expect(pulseOnsetsUs(burst, 5_000, 1.015e6)).toEqual([10_000, 20_000, 1e6, 1.01e6]);
  });

  it('never before 0, and nothing in an empty interval', () => {
    expect(pulseOnsetsUs({ mode: 'CONT', f: 1000 }, -5e6, 1)).toEqual([0]);
    expect(pulseOnsetsUs({ mode: 'CONT', f: 1000 }, 10, 10)).toEqual([]);
  });
});

describe('sampleWaveform', () => {
  it('SYM: equal and opposite phases, cathodic first', () => {
    const p: WaveformProgram = { mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 4000 };
    const s = sampleWaveform(p, 0, 1, 50);
    expect(s.map((x) => x.currentUa)).toEqual([-4000, -4000, -4000, -4000, -4000, 4000, 4000, 4000, 4000, 4000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(s[0]).toEqual({ tUs: 0, currentUa: -4000 });
    expect(s.at(-1)?.tUs).toBe(950);
  });

  it('ASYM: a short high cathodic phase, then a long low anodic phase of equal charge', () => {
    expect(pulsePhases('ASYM', 100, 2000)).toEqual([
      { us: 100, ua: -2000 },
      { us: 400, ua: 500 },
    ]);
    expect(pulseLengthUs('ASYM', 100)).toBe(500);
    const s = sampleWaveform({ mode: 'CONT', f: 2000, pw: 100, wf: 'ASYM', amp: 2000 }, 0, 0.6, 100);
    expect(s.map((x) => x.currentUa)).toEqual([-2000, 500, 500, 500, 500, 0]);
  });

  it('H3 every pulse nets zero charge, to within the sampling step', () => {
    const program = fc.record({
      mode: fc.constant('CONT' as const),
      f: fc.integer({ min: 1000, max: 150_000 }),
      pw: fc.integer({ min: 50, max: 600 }),
      wf: fc.constantFrom('SYM' as const, 'ASYM' as const),
      amp: fc.integer({ min: 0, max: 20_000 }),
    });
    fc.assert(
      fc.property(program, fc.double({ min: 0.5, max: 37, noNaN: true }), fc.integer({ min: 0, max: 500 }), (p, stepUs, fromMs) => {
        const toMs = fromMs + 40;
        const samples = sampleWaveform(p, fromMs, toMs, stepUs);
        const length = pulseLengthUs(p.wf, p.pw);
        const onsets = pulseOnsetsUs(p, fromMs * 1000, toMs * 1000 - length);
        for (const onset of onsets) {
          let net = 0; // µA x µs = pC
          for (const { tUs, currentUa } of samples) if (tUs >= onset && tUs < onset + length) net += currentUa * stepUs;
          // Each phase is covered by its width +/- one step of samples, so the sum is off by less than
          // one step of each phase's current: |net| < (amp + anodic) x step <= 2 x amp x step.
          const anodic = pulsePhases(p.wf, p.pw, p.amp)[1].ua;
          expect(Math.abs(net)).toBeLessThanOrEqual((p.amp + anodic) * stepUs + 1e-6);
          // And the cathodic charge is amp x pw to within one step.
          let cathodic = 0;
          for (const { tUs, currentUa } of samples) if (tUs >= onset && tUs < onset + length && currentUa < 0) cathodic -= currentUa * stepUs;
          expect(Math.abs(cathodic - p.amp * p.pw)).toBeLessThanOrEqual(p.amp * stepUs + 1e-6);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('nets exactly zero when the step divides the phases', () => {
    for (const wf of ['SYM', 'ASYM'] as const) {
      const p: WaveformProgram = { mode: 'BURST', f: 2000, f2: 100_000, n: 4, pw: 200, wf, amp: 3333 };
      const samples = sampleWaveform(p, 0, 1000, 10);
      expect(samples.reduce((sum, s) => sum + s.currentUa * 10, 0)).toBeCloseTo(0, 6);
      expect(samples.filter((s) => s.currentUa < 0).length * 10).toBe(2 * 4 * 200);
    }
  });

  it('refuses a bad interval or too many samples', () => {
    const p: WaveformProgram = { mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 1 };
    expect(() => sampleWaveform(p, 0, 1, 0)).toThrow(RangeError);
    expect(() => sampleWaveform(p, 5, 1, 1)).toThrow(RangeError);
    expect(() => sampleWaveform(p, 0, 10_000, 1)).toThrow(/at most/);
    expect(sampleWaveform(p, 3, 3, 1)).toEqual([]);
  });
});
