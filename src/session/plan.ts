/**
 * How the runner turns the phases of a validated protocol into stimulation: the domain's
 * derive.ts does the mapping; this adds what only a running session knows (time remaining).
 */
import { type Protocol, phaseDurationS, phaseLimits, phaseStimulation } from '../domain/protocols/derive.js';
import { checkStimulation } from '../domain/safety/guard.js';
import type { Pattern, StimulationParams } from '../domain/stimulation.js';
import type { DeviceInfo } from '../device/identity.js';
import { type Refusal, limitExceeded, refuse } from './results.js';

export { phaseLimits } from '../domain/protocols/derive.js';

/**
 * Why this device cannot run `protocol`, or undefined when it can: a channel it does not have, or
 * a phase the guard refuses at its maxMa on this device's limits (so it is refused before anything
 * is sent, not mid-session).
 */
export function deviceCannotRun(protocol: Protocol, device: DeviceInfo): Refusal | undefined {
  for (const c of protocol.channels) {
    if (c.channel > device.channels) return refuse('Incompatible', `protocol uses channel ${c.channel}; this device has ${device.channels}`);
  }
  for (let i = 0; i < protocol.phases.length; i++) {
    const phase = protocol.phases[i]!;
    const atMax: StimulationParams = { ...phaseParams(protocol, i, protocol.channels[0]?.channel ?? 1, phaseDurationMs(phase)), amplitudeMa: phase.amplitude.maxMa };
    const r = checkStimulation(atMax, { device: device.limits, protocol: phaseLimits(protocol, i), electrode: protocol.electrode });
    if (!r.ok) return limitExceeded(r.violations, `phase '${phase.name}' cannot run on this device`);
  }
  return undefined;
}

export function phaseDurationMs(phase: Protocol['phases'][number]): number {
  return Math.round(phaseDurationS(phase) * 1000);
}

export function totalDurationMs(protocol: Protocol): number {
  return protocol.phases.reduce((sum, p) => sum + phaseDurationMs(p), 0);
}

/**
 * The parameters staged on a channel for (the rest of) a phase. Output starts at 0 mA: the
 * runner raises it afterwards in slew-limited AMP steps. The device is given the remaining phase
 * time (whole seconds, rounded up) as its own duration, so it ends output even if this host
 * never says STOP.
 */
export function phaseParams(protocol: Protocol, phaseIndex: number, channel: number, remainingMs: number): StimulationParams {
  const whole = phaseStimulation(protocol, phaseIndex, channel, 0);
  return { ...whole, durationS: Math.min(whole.durationS, Math.max(1, Math.ceil(remainingMs / 1000 - 1e-9))) };
}

/** The frequency a pattern delivers `elapsedMs` into its phase (dense-disperse alternates). */
export function currentFrequencyHz(pattern: Pattern, elapsedMs: number): number {
  switch (pattern.kind) {
    case 'continuous':
      return pattern.frequencyHz;
    case 'dense-disperse':
      return Math.floor(elapsedMs / (pattern.dwellS * 1000)) % 2 === 0 ? pattern.lowHz : pattern.highHz;
    case 'burst':
      return pattern.burstRateHz;
  }
}
