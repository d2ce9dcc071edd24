// Guard cases the mutation campaign (MUTATION.md, group safety-guard) showed no test made: a
// dense-disperse or burst pattern at and past its format limits, a protocol ramp faster than the
// hard rise limit, the rise ceiling after a hold, and time running backwards between amplitude
// commands. Each checks the guard's returned verdict (field, limit, allowed value, message).
import { describe, expect, it } from 'vitest';
import { type GuardResult, checkAmplitudeChange, checkStimulation, slewCeilingMa } from '../../../src/domain/safety/guard.js';
import { FORMAT_LIMITS, HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import type { Pattern } from '../../../src/domain/stimulation.js';
import { CTX, NO_PROTOCOL, PARAMS, PROTOCOL, activeAt0 } from './guard-fixtures.js';

const fields = <T>(r: GuardResult<T>): (string | undefined)[] => (r.ok ? [] : r.violations.map((v) => v.field));
const withPattern = (pattern: Pattern) => checkStimulation({ ...PARAMS, amplitudeMa: 1, pattern }, NO_PROTOCOL);

describe('H1 H7 the guard refuses a pattern outside its format limits', () => {
  const dd = (lowHz: number, highHz: number, dwellS: number): Pattern => ({ kind: 'dense-disperse', lowHz, highHz, dwellS });

  it('H7 dense-disperse: the dwell range is inclusive, outside it names pattern.dwellS', () => {
    expect(withPattern(dd(2, 100, FORMAT_LIMITS.dwellMinS)).ok).toBe(true);
    expect(withPattern(dd(2, 100, FORMAT_LIMITS.dwellMaxS)).ok).toBe(true);
    const over = withPattern(dd(2, 100, FORMAT_LIMITS.dwellMaxS + 1));
    expect(fields(over)).toEqual(['pattern.dwellS']);
    expect(over.ok ? '' : over.violations[0]!.message).toBe(`${FORMAT_LIMITS.dwellMaxS + 1} s is not a valid dwell time: allowed ${FORMAT_LIMITS.dwellMinS}-${FORMAT_LIMITS.dwellMaxS} s per frequency`);
    expect(fields(withPattern(dd(2, 100, FORMAT_LIMITS.dwellMinS / 2)))).toEqual(['pattern.dwellS']);
  });

  it('H7 dense-disperse: lowHz equal to highHz is refused as pattern.lowHz', () => {
    const r = withPattern(dd(50, 50, 3));
    expect(fields(r)).toEqual(['pattern.lowHz']);
    expect(r.ok ? undefined : r.violations[0]).toMatchObject({ value: 50, allowed: '< 50' });
  });

  const burst = (burstRateHz: number, intraBurstHz: number, pulsesPerBurst: number): Pattern => ({ kind: 'burst', burstRateHz, intraBurstHz, pulsesPerBurst });

  it('H1 burst: the pulse count range is inclusive, one past it is refused with the range', () => {
    expect(withPattern(burst(1, 100, FORMAT_LIMITS.pulsesPerBurstMax)).ok).toBe(true);
    const over = withPattern(burst(1, 100, FORMAT_LIMITS.pulsesPerBurstMax + 1));
    expect(fields(over)).toEqual(['pattern.pulsesPerBurst']);
    expect(over.ok ? undefined : over.violations[0]).toMatchObject({ allowed: `${FORMAT_LIMITS.pulsesPerBurstMin}-${FORMAT_LIMITS.pulsesPerBurstMax}` });
  });

  it('H1 burst: exactly as many pulses as fit in one burst period pass, one more is refused', () => {
    expect(withPattern(burst(2, 100, 50)).ok).toBe(true);
    const over = withPattern(burst(2, 100, 51));
    expect(fields(over)).toEqual(['pattern.pulsesPerBurst']);
    expect(over.ok ? undefined : over.violations[0]).toMatchObject({ allowed: '<= 50' });
    expect(over.ok ? '' : over.violations[0]!.message).toBe('51 pulses at 100 Hz do not fit in one burst period at 2 Hz: at most 50');
  });
});

describe('H11 H19 the rise limit', () => {
  it('H11 a protocol ramp faster than the hard rise limit does not raise the ceiling', () => {
    const fast = { ...PROTOCOL, rampMaPerS: HARD_LIMITS.amplitudeRiseMaxMaPerS.value * 10 };
    const previous = { amplitudeMa: 2, atMs: 1_000 };
    expect(slewCeilingMa(previous, 1_100, fast)).toBe(slewCeilingMa(previous, 1_100, undefined));
    const ctx = { ...CTX, protocol: fast, previous, active: activeAt0({ ...CTX, protocol: fast }) };
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 2.5, atMs: 1_100 }, ctx);
    expect(r.ok ? [] : r.violations.map((v) => v.limit)).toEqual(['amplitudeRiseMaxMaPerS']);
  });

  it('H19 after a hold longer than the window the message says a hold saves nothing up', () => {
    const previous = { amplitudeMa: 2, atMs: 0 };
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 5, atMs: 60_000 }, { ...NO_PROTOCOL, previous, active: activeAt0(NO_PROTOCOL) });
    expect(r.ok ? '' : r.violations[0]!.message).toContain('a hold saves nothing up');
    const soon = checkAmplitudeChange({ channel: 1, amplitudeMa: 5, atMs: 100 }, { ...NO_PROTOCOL, previous, active: activeAt0(NO_PROTOCOL) });
    expect(soon.ok ? '' : soon.violations[0]!.message).not.toContain('a hold saves nothing up');
    expect(soon.ok ? '' : soon.violations[0]!.message).toContain('in 0.1 s');
  });

  it('H11 an amplitude command dated before the previous one is refused as atMs', () => {
    const previous = { amplitudeMa: 2, atMs: 5_000 };
    const r = checkAmplitudeChange({ channel: 1, amplitudeMa: 2, atMs: 4_000 }, { ...NO_PROTOCOL, previous, active: activeAt0(NO_PROTOCOL) });
    expect(fields(r)).toEqual(['atMs']);
    expect(r.ok ? undefined : r.violations[0]).toMatchObject({ allowed: '>= 5000' });
  });
});
