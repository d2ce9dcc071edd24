/** Values shared by device and session tests. */
import type { HostToDevice, DeviceToHost, HelloReply } from '../../firmware-protocol/index.js';
import { setReadbackCrc } from '../../firmware-protocol/index.js';
import { checkStimulation, checkAmplitudeChange, type Checked } from '../../src/domain/safety/guard.js';
import type { AmplitudeChange, DeviceLimits, StimulationParams } from '../../src/domain/stimulation.js';
import { DEVICE, NEEDLE } from '../unit/domain/guard-fixtures.js';

export const HELLO: HelloReply = {
  proto: 1,
  model: 'EDN-TEST',
  fw: '1.0.0',
  sn: 'T-0001',
  boot: 'AAAA0001',
  ch: 4,
  fmin: 1000,
  fmax: 150000,
  pwmin: 50,
  pwmax: 600,
  amin: 0,
  amax: 20000,
  qmax: 12000,
  tmax: 3600,
  vc: 80,
  wdog: 1000,
};

/** The same device as the guard tests use (0.30 x 40 mm needle too). */
export const DEVICE_LIMITS: DeviceLimits = DEVICE;
export { NEEDLE };

/** A two-channel device with a 20 mA, 12 uC, 1 s-watchdog envelope: the session parts' tests. */
export const TWO_CHANNEL_LIMITS: DeviceLimits = {
  channels: 2,
  frequencyHz: { min: 1, max: 200 },
  pulseWidthUs: { min: 50, max: 500 },
  amplitudeMa: { min: 0, max: 20 },
  maxChargePerPhaseUc: 12,
  maxDurationS: 3600,
  complianceV: 60,
  watchdogMs: 1000,
};

export const PARAMS: StimulationParams = {
  channel: 1,
  pattern: { kind: 'continuous', frequencyHz: 2 },
  pulseWidthUs: 250,
  waveform: 'biphasic-symmetric',
  amplitudeMa: 0,
  durationS: 1200,
  rampMaPerS: 1,
};

export function checked(p: Partial<StimulationParams> = {}): Checked<StimulationParams> {
  const r = checkStimulation({ ...PARAMS, ...p }, { device: DEVICE_LIMITS, protocol: undefined, electrode: NEEDLE });
  if (!r.ok) throw new Error(r.violations.map((v) => v.message).join('; '));
  return r.checked;
}

export function checkedAmp(change: AmplitudeChange, previous: { amplitudeMa: number; atMs: number }): Checked<AmplitudeChange> {
  const r = checkAmplitudeChange(change, { device: DEVICE_LIMITS, protocol: undefined, electrode: NEEDLE, previous, active: checked({ channel: change.channel }) });
  if (!r.ok) throw new Error(r.violations.map((v) => v.message).join('; '));
  return r.checked;
}

/** A well-behaved device for FakeTransport: answers every request correctly. */
export function politeDevice(overrides: Partial<HelloReply> = {}): (req: HostToDevice) => DeviceToHost[] {
  return (req) => {
    const seq = req.seq;
    switch (req.verb) {
      case 'HELLO':
        return [{ type: 'ok', seq, verb: 'HELLO', args: { ...HELLO, ...overrides } }];
      case 'SET':
        return [{ type: 'ok', seq, verb: 'SET', args: { ch: req.args.ch, crc: setReadbackCrc(req.args) } }];
      case 'START':
        return [{ type: 'ok', seq, verb: 'START', args: { ch: req.args.ch } }];
      case 'AMP':
        return [{ type: 'ok', seq, verb: 'AMP', args: req.args }];
      case 'STOP':
        return [{ type: 'ok', seq, verb: 'STOP', args: req.args }];
      case 'ESTOP':
        return [{ type: 'ok', seq, verb: 'ESTOP', args: { latched: true } }];
      case 'CLEAR':
        return [{ type: 'ok', seq, verb: 'CLEAR', args: { latched: false } }];
      case 'HB':
        return [{ type: 'ok', seq, verb: 'HB', args: {} }];
      case 'STATUS':
        return [{ type: 'ok', seq, verb: 'STATUS', args: { latched: false, boot: overrides.boot ?? HELLO.boot, up: 1 } }];
      case 'IMP':
        return [{ type: 'ok', seq, verb: 'IMP', args: { ch: req.args.ch, z: 1500 } }];
    }
  };
}
