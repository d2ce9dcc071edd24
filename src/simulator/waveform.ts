/**
 * Pulse timing and shape of the simulated output stage. One definition serves the device model
 * (which pulses fall in an interval, for the delivered charge) and the plot sampler.
 *
 * Times are µs from the start of output (the first pulse starts at t = 0); frequencies are mHz, as
 * on the wire, so one pulse period is 1e9 / f µs.
 */
import type { SetArgs, Waveform } from '../../firmware-protocol/index.js';
import { MODEL } from './limits.js';

/** When pulses start: the frequency fields of a SET. */
export type PulsePattern =
  | { readonly mode: 'CONT'; readonly f: number }
  | { readonly mode: 'DD'; readonly f: number; readonly f2: number; readonly dwell: number }
  | { readonly mode: 'BURST'; readonly f: number; readonly f2: number; readonly n: number };

/** What the sampler needs of a program: its pattern, phase width, waveform and amplitude. A SET's arguments fit. */
export type WaveformProgram = PulsePattern & { readonly pw: number; readonly wf: Waveform; readonly amp: number };

/** One sample of the output current. Cathodic (first) phases are negative, anodic positive. */
export interface WaveformSample {
  /** Time since the start of output, µs. */
  readonly tUs: number;
  /** Output current, µA (not rounded: an ASYM anodic phase is amp/4). */
  readonly currentUa: number;
}

/** One phase of a biphasic pulse. */
export interface Phase {
  /** Width, µs. */
  readonly us: number;
  /** Current, µA; negative = cathodic. */
  readonly ua: number;
}

const US_PER_MHZ_PERIOD = 1e9; // 1 / (f mHz) = 1e9 / f µs

/** The pattern of a stored SET program. */
export function patternOf(program: SetArgs): PulsePattern {
  switch (program.mode) {
    case 'CONT':
      return { mode: 'CONT', f: program.f };
    case 'DD':
      return { mode: 'DD', f: program.f, f2: program.f2, dwell: program.dwell };
    case 'BURST':
      return { mode: 'BURST', f: program.f, f2: program.f2, n: program.n };
  }
}

/**
 * The two phases of one charge-balanced biphasic pulse. SYM: equal and opposite. ASYM: a short
 * cathodic phase at the amplitude, then an anodic phase at amp / ratio for ratio x the width (same
 * charge). There is no interphase gap.
 */
export function pulsePhases(wf: Waveform, pw: number, amp: number): readonly [Phase, Phase] {
  const cathodic: Phase = { us: pw, ua: 0 - amp };
  if (wf === 'SYM') return [cathodic, { us: pw, ua: amp }];
  return [cathodic, { us: pw * MODEL.asymRatio, ua: amp / MODEL.asymRatio }];
}

/** Total length of one pulse, µs. */
export function pulseLengthUs(wf: Waveform, pw: number): number {
  return wf === 'SYM' ? 2 * pw : pw * (1 + MODEL.asymRatio);
}

/** The shortest time between two pulse onsets of a pattern, µs. */
export function shortestIntervalUs(pattern: PulsePattern): number {
  switch (pattern.mode) {
    case 'CONT':
      return US_PER_MHZ_PERIOD / pattern.f;
    case 'DD':
      return US_PER_MHZ_PERIOD / Math.max(pattern.f, pattern.f2);
    case 'BURST':
      return pattern.n > 1 ? US_PER_MHZ_PERIOD / pattern.f2 : US_PER_MHZ_PERIOD / pattern.f;
  }
}

/**
 * Onsets of the pulses of `pattern` in [fromUs, toUs), ascending. Each onset is computed from its
 * index (never by accumulating periods), so it does not drift over an hour.
 *
 * - CONT: k x 1e9/f.
 * - DD: the first `dwell` ms at f, the next at f2, alternating; each dwell starts with a pulse.
 * - BURST: a burst every 1e9/f µs, each of n pulses 1e9/f2 µs apart.
 */
export function pulseOnsetsUs(pattern: PulsePattern, fromUs: number, toUs: number): number[] {
  const out: number[] = [];
  const from = Math.max(0, fromUs);
  if (!(toUs > from)) return out;
  switch (pattern.mode) {
    case 'CONT':
      pushTrain(out, 0, pattern.f, Infinity, from, toUs);
      break;
    case 'DD': {
      const dwellUs = pattern.dwell * 1000;
      for (let s = Math.floor(from / dwellUs); s * dwellUs < toUs; s++) {
        pushTrain(out, s * dwellUs, s % 2 === 0 ? pattern.f : pattern.f2, dwellUs, from, toUs);
      }
      break;
    }
    case 'BURST': {
      const first = Math.max(0, Math.floor(from * pattern.f / US_PER_MHZ_PERIOD) - 1);
      for (let j = first; (j * US_PER_MHZ_PERIOD) / pattern.f < toUs; j++) {
        const burst = (j * US_PER_MHZ_PERIOD) / pattern.f;
        for (let i = 0; i < pattern.n; i++) {
          const onset = burst + (i * US_PER_MHZ_PERIOD) / pattern.f2;
          if (onset >= from && onset < toUs) out.push(onset);
        }
      }
      break;
    }
  }
  return out;
}

/** Onsets origin + k x 1e9/f for k >= 0 with k x period < spanUs, inside [from, to). */
function pushTrain(out: number[], origin: number, fMhz: number, spanUs: number, from: number, to: number): void {
  const at = (k: number) => origin + (k * US_PER_MHZ_PERIOD) / fMhz;
  let k = Math.max(0, Math.floor(((from - origin) * fMhz) / US_PER_MHZ_PERIOD) - 1);
  while (at(k) < from) k++;
  for (; at(k) < to && at(k) - origin < spanUs; k++) out.push(at(k));
}

/** Number of pulses of `pattern` in [fromUs, toUs). */
export function countPulses(pattern: PulsePattern, fromUs: number, toUs: number): number {
  return pulseOnsetsUs(pattern, fromUs, toUs).length;
}

/**
 * Samples of the output current of `program` from `fromMs` (inclusive) to `toMs` (exclusive) every
 * `stepUs`, for plots: the biphasic pulse train at the program's amplitude (the device's slew is not
 * drawn). Time 0 is the start of output. Throws RangeError for a bad interval or too many samples.
 */
export function sampleWaveform(program: WaveformProgram, fromMs: number, toMs: number, stepUs: number): WaveformSample[] {
  if (!(stepUs > 0) || !Number.isFinite(stepUs)) throw new RangeError(`stepUs must be a positive number, not ${stepUs}`);
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs < fromMs) {
    throw new RangeError(`the interval ${fromMs}..${toMs} ms is empty or not finite`);
  }
  const fromUs = fromMs * 1000;
  const toUs = toMs * 1000;
  const count = Math.ceil((toUs - fromUs) / stepUs);
  if (count > MODEL.maxWaveformSamples) {
    throw new RangeError(`${count} samples requested; at most ${MODEL.maxWaveformSamples} (use a larger step)`);
  }
  const phases = pulsePhases(program.wf, program.pw, program.amp);
  const length = pulseLengthUs(program.wf, program.pw);
  const onsets = pulseOnsetsUs(program, fromUs - length, toUs);
  const samples: WaveformSample[] = [];
  let first = 0; // first onset that may still be active
  for (let k = 0; k < count; k++) {
    const t = fromUs + k * stepUs;
    while (first < onsets.length && (onsets[first] as number) + length <= t) first++;
    let current = 0;
    for (let p = first; p < onsets.length; p++) {
      const onset = onsets[p] as number;
      if (onset > t) break;
      current += levelAt(phases, t - onset);
    }
    samples.push({ tUs: t, currentUa: current });
  }
  return samples;
}

function levelAt(phases: readonly [Phase, Phase], dt: number): number {
  const [a, b] = phases;
  if (dt < a.us) return a.ua;
  if (dt < a.us + b.us) return b.ua;
  return 0;
}

