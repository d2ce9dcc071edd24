/**
 * From a protocol to what the guard and the session need: the normalized `Protocol` (every phase
 * has a `pattern`; a file's `frequencyHz` shorthand becomes a continuous pattern), a phase's
 * `ProtocolLimits`, and the stimulation parameters of one channel in one phase.
 */
import { deepFreeze } from '../safety/limits.js';
import type { Electrode, Pattern, ProtocolLimits, StimulationParams } from '../stimulation.js';
import type { ProtocolChannel, ProtocolFile, ProtocolFilePhase, Region, Side } from './schema.js';
import { siteText } from './sites.js';

/** A phase with its pattern made explicit. */
export type ProtocolPhase = Omit<ProtocolFilePhase, 'frequencyHz' | 'pattern'> & { readonly pattern: Pattern };

/**
 * A channel with its sites as they read ("lumbar multifidus — one segment below"): what the
 * session shows and the journal and report record.
 */
export type ProtocolChannelView = Omit<ProtocolChannel, 'sites'> & { readonly sites: readonly string[] };

/** A validated, normalized, deep-frozen protocol, carrying the content hash of its file. */
export type Protocol = Readonly<Omit<ProtocolFile, '$schema' | 'phases' | 'channels'>> & {
  /** SHA-256 (hex) of the canonical JSON of the file's content (see hashProtocolFile). */
  readonly hash: string;
  readonly electrode: Electrode;
  readonly channels: readonly ProtocolChannelView[];
  readonly phases: readonly ProtocolPhase[];
};

export function phasePattern(phase: ProtocolFilePhase): Pattern {
  if (phase.frequencyHz !== undefined) return { kind: 'continuous', frequencyHz: phase.frequencyHz };
  if (phase.pattern !== undefined) return { ...phase.pattern };
  // The schema refuses a phase without either, so this is a programming error.
  throw new Error(`phase "${phase.name}" has neither frequencyHz nor pattern`);
}

export function normalizeProtocol(file: ProtocolFile, hash: string): Protocol {
  const { $schema: _schema, phases, channels, ...rest } = file;
  const normalized: Protocol = {
    ...rest,
    hash,
    channels: channels.map((c) => ({ ...c, sites: c.sites.map(siteText) })),
    phases: phases.map((phase) => {
      const { frequencyHz: _f, pattern: _p, ...phaseRest } = phase;
      return { ...phaseRest, pattern: phasePattern(phase) };
    }),
  };
  return deepFreeze(structuredCopy(normalized));
}

/** A plain copy of JSON-shaped data, so freezing never reaches into the caller's objects. */
function structuredCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => structuredCopy(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structuredCopy(v)])) as T;
  }
  return value;
}

function phaseAt(protocol: Pick<Protocol, 'id' | 'phases'>, phaseIndex: number): ProtocolPhase {
  const phase = protocol.phases[phaseIndex];
  if (phase === undefined) throw new RangeError(`protocol ${protocol.id} has no phase ${phaseIndex}`);
  return phase;
}

export function phaseDurationS(phase: Pick<ProtocolPhase, 'durationMin'>): number {
  return Math.round(phase.durationMin * 60 * 1000) / 1000;
}

export function totalDurationMin(protocol: { readonly phases: readonly Pick<ProtocolPhase, 'durationMin'>[] }): number {
  return protocol.phases.reduce((sum, phase) => sum + phase.durationMin, 0);
}

/** The limits the guard enforces during one phase. */
export function phaseLimits(protocol: Pick<Protocol, 'id' | 'phases' | 'channels'>, phaseIndex: number): ProtocolLimits {
  const phase = phaseAt(protocol, phaseIndex);
  return {
    protocolId: protocol.id,
    phaseIndex,
    channels: protocol.channels.map((c) => c.channel),
    pattern: phase.pattern,
    pulseWidthUs: phase.pulseWidthUs,
    waveform: phase.waveform,
    maxMa: phase.amplitude.maxMa,
    rampMaPerS: phase.amplitude.rampMaPerS,
    durationS: phaseDurationS(phase),
  };
}

/** One channel's stimulation in a phase at a given amplitude, for the whole phase duration. */
export function phaseStimulation(protocol: Pick<Protocol, 'id' | 'phases'>, phaseIndex: number, channel: number, amplitudeMa: number): StimulationParams {
  const phase = phaseAt(protocol, phaseIndex);
  return {
    channel,
    pattern: phase.pattern,
    pulseWidthUs: phase.pulseWidthUs,
    waveform: phase.waveform,
    amplitudeMa,
    durationS: phaseDurationS(phase),
    rampMaPerS: phase.amplitude.rampMaPerS,
  };
}

/** A treated site for screening: a region on a side. */
export interface TreatedSite {
  readonly region: Region;
  readonly side: Side;
}

/** The distinct (region, side) pairs the protocol's channels use, in channel order. */
export function treatedSites(protocol: { readonly channels: readonly { readonly region: Region; readonly side: Side }[] }): TreatedSite[] {
  const out: TreatedSite[] = [];
  for (const c of protocol.channels) {
    if (!out.some((s) => s.region === c.region && s.side === c.side)) out.push({ region: c.region, side: c.side });
  }
  return out;
}
