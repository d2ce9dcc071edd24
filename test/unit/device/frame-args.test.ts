// The frame arguments made from the guard's Checked values (src/device/stimulating.ts), exactly in
// the wire's integer units for every pattern and waveform, and refused (never rounded) when a value
// is not representable; and how a reply's echo mismatch shows values that are not numbers.
// Written for the mutation campaign (MUTATION.md): the device group's survivors were here.
import { describe, expect, it } from 'vitest';
import { echoMismatch } from '../../../src/device/echo.js';
import { ampArgs, setArgs } from '../../../src/device/stimulating.js';
import { type Checked, checkAmplitudeChange, checkStimulation } from '../../../src/domain/safety/guard.js';
import type { AmplitudeChange, StimulationParams } from '../../../src/domain/stimulation.js';
import { NO_PROTOCOL, PARAMS, activeAt0 } from '../domain/guard-fixtures.js';

function checked(p: Partial<StimulationParams>): Checked<StimulationParams> {
  const r = checkStimulation({ ...PARAMS, ...p }, NO_PROTOCOL);
  if (!r.ok) throw new Error(`fixture rejected: ${r.violations.map((v) => v.message).join('; ')}`);
  return r.checked;
}

function checkedChange(amplitudeMa: number, atMs: number): Checked<AmplitudeChange> {
  const r = checkAmplitudeChange({ channel: 1, amplitudeMa, atMs }, { ...NO_PROTOCOL, previous: { amplitudeMa: 0, atMs: 0 }, active: activeAt0(NO_PROTOCOL) });
  if (!r.ok) throw new Error(`fixture rejected: ${r.violations.map((v) => v.message).join('; ')}`);
  return r.checked;
}

describe('H1 H7 setArgs: a Checked stimulation as SET arguments, exact in wire units', () => {
  it('H1 H7 encodes a continuous symmetric program in mHz, µs, µA, s and µA/s', () => {
    expect(setArgs(checked({ channel: 2, amplitudeMa: 5.1, rampMaPerS: 0.3 }))).toEqual({
      ok: true,
      value: { ch: 2, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 5100, dur: 1200, ramp: 300 },
    });
  });

  it('H1 H7 encodes the asymmetric waveform as ASYM', () => {
    const r = setArgs(checked({ waveform: 'biphasic-asymmetric' }));
    expect(r.ok && r.value.wf).toBe('ASYM');
  });

  it('H1 H7 encodes a dense-disperse program: both frequencies in mHz, the dwell in ms', () => {
    expect(setArgs(checked({ pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 2.5 } }))).toEqual({
      ok: true,
      value: { ch: 1, mode: 'DD', f: 2000, f2: 100_000, dwell: 2500, pw: 250, wf: 'SYM', amp: 5000, dur: 1200, ramp: 500 },
    });
  });

  it('H1 H7 encodes a burst program: burst rate and intra-burst frequency in mHz, the pulse count as is', () => {
    expect(setArgs(checked({ pattern: { kind: 'burst', burstRateHz: 2, intraBurstHz: 100, pulsesPerBurst: 7 } }))).toEqual({
      ok: true,
      value: { ch: 1, mode: 'BURST', f: 2000, f2: 100_000, n: 7, pw: 250, wf: 'SYM', amp: 5000, dur: 1200, ramp: 500 },
    });
  });

  it.each([
    [{ amplitudeMa: 5.0004 }, 'amplitude (mA) 5.0004'],
    [{ pulseWidthUs: 250.5 }, 'pulse width (us) 250.5'],
    [{ durationS: 1200.5 }, 'duration (s) 1200.5'],
    [{ rampMaPerS: 0.0005 }, 'ramp (mA/s) 0.0005'],
    [{ pattern: { kind: 'continuous', frequencyHz: 2.0005 } }, 'frequency (Hz) 2.0005'],
    [{ pattern: { kind: 'dense-disperse', lowHz: 2.0005, highHz: 100, dwellS: 2 } }, 'low frequency (Hz) 2.0005'],
    [{ pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 100.0005, dwellS: 2 } }, 'high frequency (Hz) 100.0005'],
    [{ pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 2.0005 } }, 'dwell (s) 2.0005'],
    [{ pattern: { kind: 'burst', burstRateHz: 2.0005, intraBurstHz: 100, pulsesPerBurst: 7 } }, 'burst rate (Hz) 2.0005'],
    [{ pattern: { kind: 'burst', burstRateHz: 2, intraBurstHz: 100.0005, pulsesPerBurst: 7 } }, 'intra-burst frequency (Hz) 100.0005'],
  ] as const)('H7 refuses a value the wire cannot carry exactly, naming it: %o', (p, named) => {
    const r = setArgs(checked(p));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('Unencodable');
    const detail = r.error.code === 'Unencodable' ? r.error.detail : '';
    expect(detail).toContain(named);
    expect(detail).toMatch(/is not a whole number of the wire unit \(1\/\d+\)$/);
  });
});

describe('H1 H7 ampArgs: a Checked amplitude change as AMP arguments', () => {
  it('H1 H7 encodes the channel and the amplitude in µA', () => {
    expect(ampArgs(checkedChange(0.1, 100))).toEqual({ ok: true, value: { ch: 1, amp: 100 } });
  });

  it('H7 refuses an amplitude that is not a whole µA, naming it', () => {
    const r = ampArgs(checkedChange(0.0004, 100));
    expect(r).toEqual({ ok: false, error: { code: 'Unencodable', detail: 'amplitude (mA) 0.0004 is not a whole number of the wire unit (1/1000)' } });
  });
});

describe('H18 echoMismatch shows what came back as it came', () => {
  it('H18 a string where a number was sent is a mismatch, shown as the text', () => {
    expect(echoMismatch('AMP', { ch: 2, amp: 4000 }, { ch: 2, amp: '4000' })).toEqual({ field: 'amp', sent: '4000', got: '4000' });
    expect(echoMismatch('START', { ch: 1 }, { ch: 'one' })).toEqual({ field: 'ch', sent: '1', got: 'one' });
  });

  it('H18 any other value is shown as JSON; no reply needs an echo for HELLO, HB or STATUS', () => {
    expect(echoMismatch('STOP', { ch: 1 }, { ch: [1] })).toEqual({ field: 'ch', sent: '1', got: '[1]' });
    expect(echoMismatch('ESTOP', {}, { latched: 'yes' })).toEqual({ field: 'latched', sent: '1 (expected)', got: 'yes' });
    expect(echoMismatch('CLEAR', {}, {})).toEqual({ field: 'latched', sent: '0 (expected)', got: '(none)' });
    for (const verb of ['HELLO', 'HB', 'STATUS'] as const) expect(echoMismatch(verb, { ch: 1 }, { ch: 2 })).toBeUndefined();
  });
});
