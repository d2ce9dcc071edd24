/**
 * What the runner needs of a validated protocol, and how a phase becomes stimulation parameters.
 * The domain's Protocol type satisfies `RunnableProtocol` structurally.
 */
import type { Electrode, Pattern, ProtocolLimits, StimulationParams, Waveform } from '../domain/stimulation.js';

export interface RunnablePhase {
  readonly name: string;
  readonly durationMin: number;
  readonly waveform: Waveform;
  readonly pattern: Pattern;
  readonly pulseWidthUs: number;
  readonly amplitude: { readonly maxMa: number; readonly rampMaPerS: number };
}

export interface RunnableChannel {
  readonly channel: number;
  readonly region: string;
  readonly side: string;
  readonly sites: readonly string[];
}

export interface RunnableProtocol {
  readonly id: string;
  readonly name: string;
  /** Content hash (SHA-256 hex) of the protocol file: a record says exactly which version ran. */
  readonly hash: string;
  readonly electrode: Electrode;
  readonly channels: readonly RunnableChannel[];
  readonly phases: readonly RunnablePhase[];
}

export function phaseDurationMs(phase: RunnablePhase): number {
  return Math.round(phase.durationMin * 60_000);
}

export function totalDurationMs(protocol: RunnableProtocol): number {
  return protocol.phases.reduce((sum, p) => sum + phaseDurationMs(p), 0);
}

/** The limits the guard enforces for one phase of the protocol. */
export function phaseLimits(protocol: RunnableProtocol, phaseIndex: number): ProtocolLimits {
  const phase = protocol.phases[phaseIndex];
  if (!phase) throw new RangeError(`protocol ${protocol.id} has no phase ${phaseIndex}`);
  return {
    protocolId: protocol.id,
    phaseIndex,
    channels: protocol.channels.map((c) => c.channel),
    pattern: phase.pattern,
    pulseWidthUs: phase.pulseWidthUs,
    waveform: phase.waveform,
    maxMa: phase.amplitude.maxMa,
    rampMaPerS: phase.amplitude.rampMaPerS,
    durationS: phaseDurationMs(phase) / 1000,
  };
}

/**
 * The parameters staged on a channel for (the rest of) a phase. Output starts at 0 mA: the
 * runner raises it afterwards in slew-limited AMP steps. The device is given the remaining phase
 * time (whole seconds, rounded up) as its own duration, so it ends output even if this host
 * never says STOP.
 */
export function phaseParams(protocol: RunnableProtocol, phaseIndex: number, channel: number, remainingMs: number): StimulationParams {
  const phase = protocol.phases[phaseIndex];
  if (!phase) throw new RangeError(`protocol ${protocol.id} has no phase ${phaseIndex}`);
  return {
    channel,
    pattern: phase.pattern,
    pulseWidthUs: phase.pulseWidthUs,
    waveform: phase.waveform,
    amplitudeMa: 0,
    durationS: Math.max(1, Math.ceil(remainingMs / 1000)),
    rampMaPerS: phase.amplitude.rampMaPerS,
  };
}

/** The frequency a pattern delivers `elapsedMs` into its phase (dense-disperse alternates). */
export function currentFrequencyHz(pattern: Pattern, elapsedMs: number): number {
  switch (pattern.kind) {
    case 'continuous':
      return pattern.frequencyHz;
    case 'dense-disperse': {
      const dwellMs = pattern.dwellS * 1000;
      return Math.floor(elapsedMs / dwellMs) % 2 === 0 ? pattern.lowHz : pattern.highHz;
    }
    case 'burst':
      return pattern.burstRateHz;
  }
}
