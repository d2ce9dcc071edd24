/**
 * The stimulation vocabulary shared by the guard, the protocol format, the device and the session
 * layers. Plain numbers in clearly named fields (the unit is the suffix); see units.ts.
 *
 * Only charge-balanced biphasic waveforms exist: there is no way to say "monophasic" or "DC"
 * [docs/CLINICAL.md#conventions; docs/CLINICAL.md#waveform; ZHANG2018; HWANG2010].
 */
import * as z from 'zod';
import { MAX_CHANNELS } from '../../firmware-protocol/constants.js';

/** The two charge-balanced biphasic waveforms; net DC is zero by construction. */
export const WAVEFORMS = ['biphasic-symmetric', 'biphasic-asymmetric'] as const;
export type Waveform = (typeof WAVEFORMS)[number];

/** Pulses at one steady frequency. */
export interface ContinuousPattern {
  readonly kind: 'continuous';
  readonly frequencyHz: number;
}

/** Dense-disperse: `lowHz` for `dwellS` seconds, then `highHz` for `dwellS` seconds, repeating. */
export interface DenseDispersePattern {
  readonly kind: 'dense-disperse';
  readonly lowHz: number;
  readonly highHz: number;
  readonly dwellS: number;
}

/** Bursts of `pulsesPerBurst` pulses at `intraBurstHz`, repeated `burstRateHz` times a second. */
export interface BurstPattern {
  readonly kind: 'burst';
  readonly burstRateHz: number;
  readonly intraBurstHz: number;
  readonly pulsesPerBurst: number;
}

export type Pattern = ContinuousPattern | DenseDispersePattern | BurstPattern;
export const PATTERN_KINDS = ['continuous', 'dense-disperse', 'burst'] as const satisfies readonly Pattern['kind'][];

/** One channel's complete stimulation state, as staged on the device with SET. */
export interface StimulationParams {
  /** Output channel, 1-based (as labelled on the device and on the wire). */
  readonly channel: number;
  readonly pattern: Pattern;
  /** Width of ONE phase of the biphasic pulse, µs. */
  readonly pulseWidthUs: number;
  readonly waveform: Waveform;
  /** Target peak amplitude, mA; the device slews to it at `rampMaPerS`. */
  readonly amplitudeMa: number;
  /** Output duration, s; the device enforces it on its own clock. */
  readonly durationS: number;
  /** Rate at which the device raises the amplitude towards the target, mA/s. */
  readonly rampMaPerS: number;
}

/** A change of amplitude on a running channel (the AMP verb). `atMs` is on the session's monotonic clock. */
export interface AmplitudeChange {
  readonly channel: number;
  readonly amplitudeMa: number;
  readonly atMs: number;
}

/** A needle electrode; its conductive area is pi x diameter x inserted length. */
export interface Electrode {
  readonly kind: 'needle';
  readonly diameterMm: number;
  readonly insertedLengthMm: number;
}

/** An inclusive numeric range. */
export const RangeSchema = z.strictObject({ min: z.number(), max: z.number() });
export type Range = Readonly<z.output<typeof RangeSchema>>;

/**
 * What the device reported in its HELLO reply (the device layer converts the reply into this), in
 * domain units. Defined once (issue 10 §3): the contract sends it (src/app/contract.ts) and the
 * journal records it (src/session/journal-records.ts) with this schema.
 */
export const DeviceLimitsSchema = z.strictObject({
  /** Number of output channels; channels are numbered 1..channels (the wire carries at most MAX_CHANNELS). */
  channels: z.number().int().min(1).max(MAX_CHANNELS),
  frequencyHz: RangeSchema,
  pulseWidthUs: RangeSchema,
  amplitudeMa: RangeSchema,
  maxChargePerPhaseUc: z.number(),
  maxDurationS: z.number(),
  /** Open-circuit compliance voltage, V. */
  complianceV: z.number(),
  /** The device's own watchdog window, ms. */
  watchdogMs: z.number(),
});
export type DeviceLimits = DeepReadonly<z.output<typeof DeviceLimitsSchema>>;

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

/** The limits one protocol phase imposes on a session (see protocols/derive.ts). */
export interface ProtocolLimits {
  readonly protocolId: string;
  readonly phaseIndex: number;
  /** The channels the protocol declares. */
  readonly channels: readonly number[];
  readonly pattern: Pattern;
  readonly pulseWidthUs: number;
  readonly waveform: Waveform;
  readonly maxMa: number;
  readonly rampMaPerS: number;
  /** The phase's total duration, s. */
  readonly durationS: number;
}

/** Every frequency a pattern contains, with the field that holds it. */
export function patternFrequencies(p: Pattern): readonly { readonly field: string; readonly hz: number }[] {
  switch (p.kind) {
    case 'continuous':
      return [{ field: 'pattern.frequencyHz', hz: p.frequencyHz }];
    case 'dense-disperse':
      return [
        { field: 'pattern.lowHz', hz: p.lowHz },
        { field: 'pattern.highHz', hz: p.highHz },
      ];
    case 'burst':
      return [
        { field: 'pattern.burstRateHz', hz: p.burstRateHz },
        { field: 'pattern.intraBurstHz', hz: p.intraBurstHz },
      ];
  }
}

/** Two patterns are the same stimulation (field by field). */
export function samePattern(a: Pattern, b: Pattern, tolerance = 0): boolean {
  const near = (x: number, y: number) => Math.abs(x - y) <= tolerance;
  switch (a.kind) {
    case 'continuous':
      return b.kind === 'continuous' && near(a.frequencyHz, b.frequencyHz);
    case 'dense-disperse':
      return b.kind === 'dense-disperse' && near(a.lowHz, b.lowHz) && near(a.highHz, b.highHz) && near(a.dwellS, b.dwellS);
    case 'burst':
      return (
        b.kind === 'burst' &&
        near(a.burstRateHz, b.burstRateHz) &&
        near(a.intraBurstHz, b.intraBurstHz) &&
        a.pulsesPerBurst === b.pulsesPerBurst
      );
  }
}

/** A short human description: "2 Hz", "2/100 Hz dense-disperse, 3 s dwell", "2 Hz bursts of 7 at 100 Hz". */
export function describePattern(p: Pattern): string {
  switch (p.kind) {
    case 'continuous':
      return `${p.frequencyHz} Hz continuous`;
    case 'dense-disperse':
      return `${p.lowHz}/${p.highHz} Hz dense-disperse, ${p.dwellS} s dwell`;
    case 'burst':
      return `${p.burstRateHz} Hz bursts of ${p.pulsesPerBurst} pulses at ${p.intraBurstHz} Hz`;
  }
}
