/**
 * The computed figures of a protocol phase at its maxMa, set against their limits: what
 * `edn protocols show` prints and what a protocol editor shows beside the amplitude field.
 */
import { type Dose, computeDose } from '../physics.js';
import { HARD_LIMITS, TOLERANCE } from '../safety/limits.js';
import type { UnitName } from '../units.js';
import type { Protocol } from './derive.js';

export type FigureStatus = 'info' | 'ok' | 'warning' | 'blocked';

export interface Figure {
  readonly key: keyof Dose;
  readonly label: string;
  readonly value: number;
  readonly unit: UnitName;
  /** The limits it is held against, in words ("< 1.85, warning above 1.5"); absent for information. */
  readonly limit?: string;
  readonly status: FigureStatus;
  readonly source?: string;
}

export interface PhaseFigures {
  readonly phaseIndex: number;
  readonly atMa: number;
  readonly loadKOhm: number;
  readonly dose: Dose;
  readonly figures: readonly Figure[];
}

const L = HARD_LIMITS;

function graded(value: number, warnAbove: number | undefined, blockAt: number | undefined, inclusiveBlock: boolean): FigureStatus {
  if (blockAt !== undefined && (inclusiveBlock ? value >= blockAt - TOLERANCE : value > blockAt + TOLERANCE)) return 'blocked';
  if (warnAbove !== undefined && value > warnAbove + TOLERANCE) return 'warning';
  return 'ok';
}

export function phaseFigures(protocol: Pick<Protocol, 'electrode' | 'phases'>, phaseIndex: number): PhaseFigures {
  const phase = protocol.phases[phaseIndex];
  if (phase === undefined) throw new RangeError(`no phase ${phaseIndex}`);
  const loadKOhm = L.energyReferenceLoadKOhm.value;
  const dose = computeDose({ amplitudeMa: phase.amplitude.maxMa, pulseWidthUs: phase.pulseWidthUs, pattern: phase.pattern, electrode: protocol.electrode, loadKOhm });
  const info = (key: keyof Dose, label: string, unit: UnitName): Figure => ({ key, label, value: dose[key], unit, status: 'info' });
  const figures: Figure[] = [
    info('chargePerPhaseUc', 'charge per phase', 'uC'),
    info('areaCm2', 'needle conductive area', 'cm2'),
    info('chargeDensityUcPerCm2', 'charge density per phase', 'uC/cm2'),
    {
      key: 'shannonK',
      label: 'Shannon k',
      value: dose.shannonK,
      unit: 'k',
      limit: `< ${L.shannonKBlock.value}, warning above ${L.shannonKWarn.value}`,
      status: graded(dose.shannonK, L.shannonKWarn.value, L.shannonKBlock.value, true),
      source: L.shannonKBlock.source,
    },
    info('rmsCurrentMa', 'RMS current', 'mA'),
    {
      key: 'rmsDensityMaPerCm2',
      label: 'RMS current density',
      value: dose.rmsDensityMaPerCm2,
      unit: 'mA/cm2',
      limit: `attention above ${L.rmsDensityWarnMaPerCm2.value}`,
      status: graded(dose.rmsDensityMaPerCm2, L.rmsDensityWarnMaPerCm2.value, undefined, false),
      source: L.rmsDensityWarnMaPerCm2.source,
    },
    {
      key: 'energyPerPulseMj',
      label: `energy per pulse into ${loadKOhm * 1000} Ω`,
      value: dose.energyPerPulseMj,
      unit: 'mJ',
      limit: `<= ${L.energyPerPulseMaxMj.value}`,
      status: graded(dose.energyPerPulseMj, undefined, L.energyPerPulseMaxMj.value, false),
      source: L.energyPerPulseMaxMj.source,
    },
    info('averagePowerMw', `average power into ${loadKOhm * 1000} Ω`, 'mW'),
  ];
  return { phaseIndex, atMa: phase.amplitude.maxMa, loadKOhm, dose, figures };
}
