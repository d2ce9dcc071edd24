/**
 * The only place a stimulating frame's arguments are made: from the guard's `Checked` values.
 *
 * How "no SET/START/AMP without a Checked value" is enforced:
 * 1. `Checked<T>` is a branded type that only src/domain/safety/guard.ts can produce.
 * 2. The functions below take `Checked<...>`, never plain parameters.
 * 3. DeviceClient's generic `request()` is typed to exclude SET, START and AMP (`PlainVerb`); its
 *    stimulating methods (`stage`, `start`, `setAmplitude`) take Checked values and call these.
 * 4. At run time too: `stage`, `start` and `setAmplitude` refuse any value the guard did not issue
 *    (`isChecked`), and `request()` refuses every verb outside `PlainVerb`, so a cast or a plain
 *    JavaScript caller cannot get around the types (test/unit/device/choke-point.test.ts).
 * 5. The `edn/choke-point` ESLint rule (eslint.choke-point.js) checks with the type checker that
 *    every argument to a Checked parameter is Checked (no `any`), that no Checked value is forged
 *    by an assertion outside the guard, and that SET/START/AMP frames are built only inside
 *    functions given a Checked value.
 *
 * Values are converted to the wire's integer units exactly; a value that is not representable
 * (e.g. 0.0004 mA) is refused, never rounded into something else.
 */
import type { RequestArgs } from '../../firmware-protocol/index.js';
import type { Checked } from '../domain/safety/guard.js';
import type { AmplitudeChange, StimulationParams } from '../domain/stimulation.js';
import { type DeviceError, type Result, err, ok } from './errors.js';

/** Multiply to an integer wire unit, refusing anything that is not (within float noise) an integer. */
function exact(value: number, factor: number, what: string): number | DeviceError {
  const scaled = value * factor;
  const rounded = Math.round(scaled);
  if (!Number.isFinite(scaled) || Math.abs(scaled - rounded) > 1e-6) {
    return { code: 'Unencodable', detail: `${what} ${value} is not a whole number of the wire unit (1/${factor})` };
  }
  return rounded;
}

function isError(v: number | DeviceError): v is DeviceError {
  return typeof v !== 'number';
}

export function setArgs(checked: Checked<StimulationParams>): Result<RequestArgs<'SET'>, DeviceError> {
  const p = checked.value;
  const common = {
    pw: exact(p.pulseWidthUs, 1, 'pulse width (us)'),
    amp: exact(p.amplitudeMa, 1000, 'amplitude (mA)'),
    dur: exact(p.durationS, 1, 'duration (s)'),
    ramp: exact(p.rampMaPerS, 1000, 'ramp (mA/s)'),
  };
  const pattern = p.pattern;
  let freq: Record<string, number | DeviceError>;
  switch (pattern.kind) {
    case 'continuous':
      freq = { f: exact(pattern.frequencyHz, 1000, 'frequency (Hz)') };
      break;
    case 'dense-disperse':
      freq = { f: exact(pattern.lowHz, 1000, 'low frequency (Hz)'), f2: exact(pattern.highHz, 1000, 'high frequency (Hz)'), dwell: exact(pattern.dwellS, 1000, 'dwell (s)') };
      break;
    case 'burst':
      freq = { f: exact(pattern.burstRateHz, 1000, 'burst rate (Hz)'), f2: exact(pattern.intraBurstHz, 1000, 'intra-burst frequency (Hz)'), n: exact(pattern.pulsesPerBurst, 1, 'pulses per burst') };
      break;
  }
  const all = { ...freq, ...common };
  for (const v of Object.values(all)) if (isError(v)) return err(v);
  const n = all as Record<string, number>;
  const wf = p.waveform === 'biphasic-symmetric' ? 'SYM' : 'ASYM';
  const base = { pw: n.pw!, wf, amp: n.amp!, dur: n.dur!, ramp: n.ramp! } as const;
  switch (pattern.kind) {
    case 'continuous':
      return ok({ ch: p.channel, mode: 'CONT', f: n.f!, ...base });
    case 'dense-disperse':
      return ok({ ch: p.channel, mode: 'DD', f: n.f!, f2: n.f2!, dwell: n.dwell!, ...base });
    case 'burst':
      return ok({ ch: p.channel, mode: 'BURST', f: n.f!, f2: n.f2!, n: n.n!, ...base });
  }
}

export function ampArgs(checked: Checked<AmplitudeChange>): Result<RequestArgs<'AMP'>> {
  const amp = exact(checked.value.amplitudeMa, 1000, 'amplitude (mA)');
  if (isError(amp)) return err(amp);
  return ok({ ch: checked.value.channel, amp });
}
