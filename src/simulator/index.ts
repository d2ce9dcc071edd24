/** The simulated stimulator: the device side of the wire protocol, an electrode model, and faults. */
export { SimulatedStimulator } from './stimulator.js';
export type { ChannelSnapshot, LinkSnapshot, SimEvent, SimEventName, SimulatorCounters, SimulatorOptions, SimulatorSnapshot } from './types.js';
export { DEFAULT_LIMITS, MODEL, resolveLimits, type DeviceLimits } from './limits.js';
export {
  countPulses,
  pulseLengthUs,
  pulseOnsetsUs,
  pulsePhases,
  sampleWaveform,
  type Phase,
  type PulsePattern,
  type WaveformProgram,
  type WaveformSample,
} from './waveform.js';
export {
  FAULT_SPEC_SYNTAX,
  applyFault,
  parseFaultSpec,
  scheduleFaults,
  type Fault,
  type FaultKind,
  type FaultSpec,
  type FaultSpecResult,
  type FaultTarget,
} from './faults.js';
