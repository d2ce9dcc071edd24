/**
 * Charge physics of biphasic current pulses through needle electrodes. Pure functions on branded
 * units (units.ts); the guard and the CLI compute every figure they show through these.
 *
 * For an asymmetric charge-balanced waveform the second phase carries the same charge at a lower
 * current for a longer time, so its I²t is smaller than the first phase's: the symmetric formulas
 * below are an upper bound for both waveforms and are used for both (conservative).
 */
import type { Pattern } from './stimulation.js';
import {
  type Cm2,
  type Hz,
  type KOhm,
  type Ma,
  type MaPerCm2,
  type Mj,
  type Mm,
  type Mw,
  type Uc,
  type UcPerCm2,
  type Us,
  type V,
  cm2,
  hz,
  kOhm,
  ma,
  maPerCm2,
  mj,
  mm,
  mw,
  uc,
  ucPerCm2,
  us,
  v,
} from './units.js';

/** Charge per phase: Q [µC] = I [mA] x pw [µs] / 1000 [docs/CLINICAL.md#conventions]. */
export function chargePerPhaseUc(amplitude: Ma, pulseWidth: Us): Uc {
  return uc((amplitude * pulseWidth) / 1000);
}

/**
 * Conductive area of a bare needle: the side of a cylinder, pi x d x L, converted from mm² to cm²
 * (1 cm² = 100 mm²) [docs/CLINICAL.md#charge-density-shannon]. The tip's cone is ignored: that only
 * underestimates the area, which is the conservative direction for every density computed from it.
 */
export function needleAreaCm2(diameter: Mm, insertedLength: Mm): Cm2 {
  return cm2((Math.PI * diameter * insertedLength) / 100);
}

/** Charge density per phase, µC/cm². */
export function chargeDensityUcPerCm2(charge: Uc, area: Cm2): UcPerCm2 {
  return ucPerCm2(charge / area);
}

/**
 * Shannon's k: log10(Q) + log10(Q/A), Q in µC per phase, A in cm² [SHANNON1992]. Damage was seen
 * from k = 1.85. Zero charge gives -Infinity (no stimulation, no risk).
 */
export function shannonK(charge: Uc, area: Cm2): number {
  return Math.log10(charge) + Math.log10(charge / area);
}

/**
 * Pulses per second a pattern delivers, the worst case over its cycle: a continuous train at its
 * frequency; dense-disperse at its higher frequency (the dense stretch is what heats and what
 * the density limit cares about); a burst train at bursts per second x pulses per burst.
 */
export function pulsesPerSecond(pattern: Pattern): Hz {
  switch (pattern.kind) {
    case 'continuous':
      return hz(pattern.frequencyHz);
    case 'dense-disperse':
      return hz(Math.max(pattern.lowHz, pattern.highHz));
    case 'burst':
      return hz(pattern.burstRateHz * pattern.pulsesPerBurst);
  }
}

/**
 * RMS current of a biphasic pulse train: each pulse is two phases of |I| lasting pw, so the duty
 * cycle is 2 x pw x f and I_rms = I x sqrt(2 x pw[s] x f[Hz]).
 */
export function rmsCurrentMa(amplitude: Ma, pulseWidth: Us, pulseRate: Hz): Ma {
  const dutyCycle = 2 * (pulseWidth / 1e6) * pulseRate;
  return ma(amplitude * Math.sqrt(dutyCycle));
}

/** RMS current density, mA/cm² (IEC 60601-2-10 201.7.9.2.101 asks for attention above 2 mA/cm²). */
export function rmsCurrentDensityMaPerCm2(rmsCurrent: Ma, area: Cm2): MaPerCm2 {
  return maPerCm2(rmsCurrent / area);
}

/**
 * Energy of one biphasic pulse into a resistive load: I² x R over both phases, 2 x pw.
 * mA² x kΩ x µs = 1e-6 A² x 1e3 Ω x 1e-6 s = 1e-9 J = 1e-6 mJ.
 */
export function energyPerPulseMj(amplitude: Ma, pulseWidth: Us, load: KOhm): Mj {
  return mj(amplitude * amplitude * load * 2 * pulseWidth * 1e-6);
}

/** Average power delivered: energy per pulse x pulses per second (mJ/s = mW). */
export function averagePowerMw(energyPerPulse: Mj, pulseRate: Hz): Mw {
  return mw(energyPerPulse * pulseRate);
}

/** Peak voltage across a resistive load at a given current: mA x kΩ = V. */
export function peakVoltageV(amplitude: Ma, load: KOhm): V {
  return v(amplitude * load);
}

/** Every figure of one stimulation through one needle into one load, for guards and displays. */
export interface Dose {
  readonly chargePerPhaseUc: Uc;
  readonly areaCm2: Cm2;
  readonly chargeDensityUcPerCm2: UcPerCm2;
  readonly shannonK: number;
  readonly pulsesPerSecond: Hz;
  readonly rmsCurrentMa: Ma;
  readonly rmsDensityMaPerCm2: MaPerCm2;
  readonly energyPerPulseMj: Mj;
  readonly averagePowerMw: Mw;
  readonly peakVoltageV: V;
}

export interface DoseInput {
  readonly amplitudeMa: number;
  readonly pulseWidthUs: number;
  readonly pattern: Pattern;
  readonly electrode: { readonly diameterMm: number; readonly insertedLengthMm: number };
  readonly loadKOhm: number;
}

/** All figures at once (the guard checks them; `edn protocols show` prints them). */
export function computeDose(input: DoseInput): Dose {
  const amplitude = ma(input.amplitudeMa);
  const pulseWidth = us(input.pulseWidthUs);
  const load = kOhm(input.loadKOhm);
  const area = needleAreaCm2(mm(input.electrode.diameterMm), mm(input.electrode.insertedLengthMm));
  const charge = chargePerPhaseUc(amplitude, pulseWidth);
  const rate = pulsesPerSecond(input.pattern);
  const rms = rmsCurrentMa(amplitude, pulseWidth, rate);
  const energy = energyPerPulseMj(amplitude, pulseWidth, load);
  return {
    chargePerPhaseUc: charge,
    areaCm2: area,
    chargeDensityUcPerCm2: chargeDensityUcPerCm2(charge, area),
    shannonK: shannonK(charge, area),
    pulsesPerSecond: rate,
    rmsCurrentMa: rms,
    rmsDensityMaPerCm2: rmsCurrentDensityMaPerCm2(rms, area),
    energyPerPulseMj: energy,
    averagePowerMw: averagePowerMw(energy, rate),
    peakVoltageV: peakVoltageV(amplitude, load),
  };
}
