// Shared inputs for the guard tests.
import type { AmplitudeContext, GuardContext } from '../../../src/domain/safety/guard.js';
import { checkStimulation } from '../../../src/domain/safety/guard.js';
import type { DeviceLimits, Electrode, ProtocolLimits, StimulationParams } from '../../../src/domain/stimulation.js';

export const DEVICE: DeviceLimits = {
  channels: 4,
  frequencyHz: { min: 1, max: 150 },
  pulseWidthUs: { min: 50, max: 600 },
  amplitudeMa: { min: 0, max: 20 },
  maxChargePerPhaseUc: 12,
  maxDurationS: 3600,
  complianceV: 80,
  watchdogMs: 1000,
};

/** 0.30 x 40 mm: 0.377 cm². */
export const NEEDLE: Electrode = { kind: 'needle', diameterMm: 0.3, insertedLengthMm: 40 };

export const PARAMS: StimulationParams = {
  channel: 1,
  pattern: { kind: 'continuous', frequencyHz: 2 },
  pulseWidthUs: 250,
  waveform: 'biphasic-symmetric',
  amplitudeMa: 5,
  durationS: 1200,
  rampMaPerS: 0.5,
};

export const PROTOCOL: ProtocolLimits = {
  protocolId: 'knee-oa-periosteal',
  phaseIndex: 0,
  channels: [1, 2],
  pattern: { kind: 'continuous', frequencyHz: 2 },
  pulseWidthUs: 250,
  waveform: 'biphasic-symmetric',
  maxMa: 10,
  rampMaPerS: 0.5,
  durationS: 1200,
};

export const CTX: GuardContext = { device: DEVICE, protocol: PROTOCOL, electrode: NEEDLE };
export const NO_PROTOCOL: GuardContext = { device: DEVICE, protocol: undefined, electrode: NEEDLE };

/** The Checked parameters running on channel 1 (at 0 mA, as a session stages them). */
export function activeAt0(ctx: GuardContext = CTX): AmplitudeContext['active'] {
  const r = checkStimulation({ ...PARAMS, amplitudeMa: 0 }, ctx);
  if (!r.ok) throw new Error(`fixture rejected: ${r.violations.map((v) => v.message).join('; ')}`);
  return r.checked;
}
