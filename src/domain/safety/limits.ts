/**
 * THE table of hard safety limits. Every safety number of the project lives here, with its unit,
 * the section of the product's clinical reference (docs/CLINICAL.md) that gives its sources, and
 * the reasoning. test/unit/docs/clinical-reference.test.ts keeps that page's values equal to these.
 *
 * Nothing can raise these at run time: the table is deep-frozen, and every check (guard.ts) applies
 * it before and regardless of anything a protocol file, a setting or a device reports. Those can
 * only narrow what is allowed, never widen it.
 */
import type { UnitName } from '../units.js';

export interface Limit {
  readonly key: string;
  readonly value: number;
  readonly unit: UnitName;
  /** The section of docs/CLINICAL.md it comes from, as cited in messages: "docs/CLINICAL.md#amplitude". */
  readonly source: string;
  /** The literature and standards keys behind it (docs/CLINICAL.md#references). */
  readonly refs: readonly string[];
  readonly reasoning: string;
}

/** Recursively freezes an object graph (arrays included) and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

export const HARD_LIMITS = deepFreeze({
  frequencyMinHz: {
    key: 'frequencyMinHz',
    value: 1,
    unit: 'Hz',
    source: 'docs/CLINICAL.md#frequency',
    refs: ['HAN'],
    reasoning: 'Absolute range 1-150 Hz (TENS/EA practice); low-frequency EDN protocols use 1-10 Hz.',
  },
  frequencyMaxHz: {
    key: 'frequencyMaxHz',
    value: 150,
    unit: 'Hz',
    source: 'docs/CLINICAL.md#frequency',
    refs: ['HAN'],
    reasoning: 'Absolute range 1-150 Hz; covers the 2/100 Hz dense-disperse pattern with margin.',
  },
  pulseWidthMinUs: {
    key: 'pulseWidthMinUs',
    value: 50,
    unit: 'us',
    source: 'docs/CLINICAL.md#pulse-width-per-phase',
    refs: ['HAN'],
    reasoning: 'Per-phase width 50-600 µs absolute; 250-260 µs in EDN devices, 300-600 µs common in EA.',
  },
  pulseWidthMaxUs: {
    key: 'pulseWidthMaxUs',
    value: 600,
    unit: 'us',
    source: 'docs/CLINICAL.md#pulse-width-per-phase',
    refs: ['HAN'],
    reasoning: 'Per-phase width 50-600 µs absolute; 300-600 µs is the widest common EA setting.',
  },
  amplitudeMinMa: {
    key: 'amplitudeMinMa',
    value: 0,
    unit: 'mA',
    source: 'docs/CLINICAL.md#amplitude',
    refs: [],
    reasoning: 'Amplitude is a peak current magnitude; the polarity is the waveform, never a sign.',
  },
  amplitudeMaxMa: {
    key: 'amplitudeMaxMa',
    value: 20,
    unit: 'mA',
    source: 'docs/CLINICAL.md#amplitude',
    refs: ['HAN', 'IEC 60601-2-10'],
    reasoning:
      'Absolute ceiling for needle electrodes; needle EA is typically 2-10 mA, and a protocol sets its own lower maximum.',
  },
  shannonKBlock: {
    key: 'shannonKBlock',
    value: 1.85,
    unit: 'k',
    source: 'docs/CLINICAL.md#charge-density-shannon',
    refs: ['SHANNON1992'],
    reasoning:
      'k = log10(Q) + log10(Q/A) must stay below 1.85, the lowest k at which damage was seen (platinum, neural tissue; used as a conservative bound).',
  },
  shannonKWarn: {
    key: 'shannonKWarn',
    value: 1.5,
    unit: 'k',
    source: 'docs/CLINICAL.md#charge-density-shannon',
    refs: ['SHANNON1992'],
    reasoning: 'Above k 1.5 the charge density is shown as a visible warning.',
  },
  rmsDensityWarnMaPerCm2: {
    key: 'rmsDensityWarnMaPerCm2',
    value: 2,
    unit: 'mA/cm2',
    source: 'docs/CLINICAL.md#rms-current-density',
    refs: ['IEC 60601-2-10 201.7.9.2.101'],
    reasoning: 'Current densities above 2 mA/cm² need the operator’s special attention (needles usually are above).',
  },
  energyPerPulseMaxMj: {
    key: 'energyPerPulseMaxMj',
    value: 300,
    unit: 'mJ',
    source: 'docs/CLINICAL.md#energy-per-pulse',
    refs: ['IEC 60601-2-10'],
    reasoning: 'Hard ceiling of 300 mJ per pulse into the 500 Ω reference load (1987 edition output limit).',
  },
  energyReferenceLoadKOhm: {
    key: 'energyReferenceLoadKOhm',
    value: 0.5,
    unit: 'kOhm',
    source: 'docs/CLINICAL.md#energy-per-pulse',
    refs: ['IEC 60601-2-10'],
    reasoning: 'The energy ceiling is defined into a 500 Ω load.',
  },
  complianceMaxV: {
    key: 'complianceMaxV',
    value: 500,
    unit: 'V',
    source: 'docs/CLINICAL.md#peak-voltage',
    refs: ['IEC 60601-2-10'],
    reasoning: 'A device whose reported open-circuit compliance voltage exceeds 500 V is refused.',
  },
  sessionMaxMin: {
    key: 'sessionMaxMin',
    value: 60,
    unit: 'min',
    source: 'docs/CLINICAL.md#session-length',
    refs: ['GHONAME1999', 'CUMMINGS2011'],
    reasoning: '60 min absolute per session; protocols typically run 20-30 min.',
  },
  amplitudeRiseMaxMaPerS: {
    key: 'amplitudeRiseMaxMaPerS',
    value: 1,
    unit: 'mA/s',
    source: 'docs/CLINICAL.md#amplitude-rise',
    refs: ['CUMMINGS2011'],
    reasoning:
      'Raise at most 1 mA/s (soft start and titration) so the patient is not startled and needles are not bent; decreases are immediate.',
  },
  amplitudeRiseWindowMs: {
    key: 'amplitudeRiseWindowMs',
    value: 200,
    unit: 'ms',
    source: 'docs/CLINICAL.md#amplitude-rise',
    refs: ['CUMMINGS2011'],
    reasoning:
      'The rise allowance accrues over at most 200 ms: one command may rise at most 1 mA/s x 200 ms = 0.2 mA above the previous one, however long the amplitude was held. So the commanded amplitude never rises more than 1 mA/s x (t2 - t1) + 0.2 mA over any window t1..t2, whatever the timing of the calls (an allowance saved up while holding would let a burst of titrations jump).',
  },
  watchdogMaxMs: {
    key: 'watchdogMaxMs',
    value: 1000,
    unit: 'ms',
    source: 'docs/CLINICAL.md#loss-of-host',
    refs: [],
    reasoning: 'The device turns output off within 1000 ms of the last valid frame; a device with a longer window is refused.',
  },
  heartbeatIntervalMs: {
    key: 'heartbeatIntervalMs',
    value: 250,
    unit: 'ms',
    source: 'docs/CLINICAL.md#loss-of-host',
    refs: [],
    reasoning: 'The host sends HB every 250 ms: 4 heartbeats per 1000 ms watchdog window, so one lost frame never stops a session.',
  },
  needleDiameterMinMm: {
    key: 'needleDiameterMinMm',
    value: 0.1,
    unit: 'mm',
    source: 'docs/CLINICAL.md#needle-dimensions',
    refs: [],
    reasoning: 'Design choice: plausible needle gauges only (filiform needles are about 0.12-0.40 mm).',
  },
  needleDiameterMaxMm: {
    key: 'needleDiameterMaxMm',
    value: 0.5,
    unit: 'mm',
    source: 'docs/CLINICAL.md#needle-dimensions',
    refs: [],
    reasoning:
      'Design choice: the declared needle sets the conductive area the Shannon k is computed for; an implausibly thick needle would hide a dangerous charge density.',
  },
  needleInsertedLengthMinMm: {
    key: 'needleInsertedLengthMinMm',
    value: 1,
    unit: 'mm',
    source: 'docs/CLINICAL.md#needle-dimensions',
    refs: [],
    reasoning: 'Design choice: a needle must be inserted to conduct; shorter declared lengths are input errors.',
  },
  needleInsertedLengthMaxMm: {
    key: 'needleInsertedLengthMaxMm',
    value: 100,
    unit: 'mm',
    source: 'docs/CLINICAL.md#needle-dimensions',
    refs: [],
    reasoning:
      'Design choice: an implausibly long inserted length would inflate the conductive area and hide a dangerous charge density.',
  },
} as const satisfies Record<string, Limit>);

export type HardLimitKey = keyof typeof HARD_LIMITS;

/** The table as a list, in declaration order (for displays and documentation). */
export const HARD_LIMIT_LIST: readonly Limit[] = deepFreeze(Object.values(HARD_LIMITS));

/**
 * The electrode check before output (the IMP verb on every channel a protocol uses): an impedance
 * outside this band blocks the start. No published source gives one; these are design choices for
 * a pair of steel needles in muscle, to be confirmed by the clinical lead (docs/CLINICAL.md#electrode-impedance).
 */
export const ELECTRODE_IMPEDANCE = deepFreeze({
  minOhm: {
    key: 'electrodeImpedanceMinOhm',
    value: 100,
    unit: 'ohm',
    source: 'docs/CLINICAL.md#electrode-impedance',
    refs: [],
    reasoning: 'Below 100 Ω between the two needles of a channel the needles or clips are probably touching (a short).',
  },
  maxOhm: {
    key: 'electrodeImpedanceMaxOhm',
    value: 10_000,
    unit: 'ohm',
    source: 'docs/CLINICAL.md#electrode-impedance',
    refs: [],
    reasoning: 'Above 10 kΩ the contact is poor (needle too shallow or clip loose); the device may hit its compliance voltage.',
  },
} as const satisfies Record<string, Limit>);

/**
 * What the host checks of what the device says it delivers (TEL, 10 Hz per channel that is ON).
 * The host cannot measure current itself; it can refuse to believe a device whose own telemetry
 * contradicts what it was commanded, and stop it. Design choices, to be confirmed by the clinical
 * lead and the hardware maker (a real output stage's current-sense accuracy may be better).
 */
export const OUTPUT_MONITOR = deepFreeze({
  measuredToleranceMa: {
    key: 'measuredToleranceMa',
    value: 0.3,
    unit: 'mA',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning:
      'A measured current (TEL i) may read above the commanded set point by at most 0.3 mA plus measuredTolerancePercent of the set point (a current-sense offset and gain error); beyond that, or above the protocol maximum or the 20 mA ceiling by as much, the output is not what was commanded and the session is e-stopped on the TEL line that shows it, so within one TEL period (100 ms).',
  },
  measuredTolerancePercent: {
    key: 'measuredTolerancePercent',
    value: 5,
    unit: 'percent',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning: 'The gain part of the measurement tolerance: 5 % of the set point (0.8 mA at 10 mA with the 0.3 mA offset).',
  },
  telemetryMissingMs: {
    key: 'telemetryMissingMs',
    value: 350,
    unit: 'ms',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning:
      'No TEL for more than 3 periods (300 ms) plus half a period for delivery jitter while a channel is on means the host no longer knows what the output does: a lost or faulty output stage (or link); alarm and abort, output off.',
  },
  offGraceMs: {
    key: 'offGraceMs',
    value: 200,
    unit: 'ms',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning:
      'After the host switches a channel off (STOP, e-stop, pause), TEL sampled before the device acted may still arrive; from 200 ms on (the ack timeout), a measured current above the tolerance on a channel that should be off means the device did not stop: alarm and e-stop again.',
  },
  lowCurrentMinMa: {
    key: 'lowCurrentMinMa',
    value: 1,
    unit: 'mA',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning: 'The low-current check applies from a commanded 1 mA up: below it offsets and the device’s own slew lag dominate the reading.',
  },
  lowCurrentPercent: {
    key: 'lowCurrentPercent',
    value: 25,
    unit: 'percent',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning:
      'A measured current below 25 % of the commanded amplitude (the device’s own slew lags the host’s ramp by at most one 0.2 mA step, so a healthy stage reads at least 80 % from 1 mA up) means current is not reaching the needles, or the measurement is broken.',
  },
  lowCurrentMs: {
    key: 'lowCurrentMs',
    value: 1000,
    unit: 'ms',
    source: 'docs/CLINICAL.md#output-monitor',
    refs: [],
    reasoning: 'Implausibly low for 1 s (10 TEL samples) in a row is a lost or faulty output stage: alarm and abort; a single odd sample is not.',
  },
} as const satisfies Record<string, Limit>);

/** How far a measured current may read above a set point, mA: offset plus gain (OUTPUT_MONITOR). */
export function measuredToleranceMa(setpointMa: number): number {
  return OUTPUT_MONITOR.measuredToleranceMa.value + (OUTPUT_MONITOR.measuredTolerancePercent.value / 100) * setpointMa;
}

/**
 * Bounds of the formats (protocol files and the wire protocol) that are not safety limits: they
 * keep values representable, they do not make anything safer or less safe.
 */
export const FORMAT_LIMITS = deepFreeze({
  /** Highest channel number the wire format can express (firmware-protocol MAX_CHANNELS). */
  maxChannel: 8,
  /** Dense-disperse dwell time per frequency, s (the wire carries 100-60000 ms). */
  dwellMinS: 0.1,
  dwellMaxS: 60,
  /** Pulses in one burst (the wire carries 1-100). */
  pulsesPerBurstMin: 1,
  pulsesPerBurstMax: 100,
  /**
   * Phases in one protocol file. A phase is a block of minutes with its own parameters (warm-up,
   * treatment, cool-down); the built-ins have 1-3 and a session is at most 60 min, so 60 (one per
   * minute of the longest session) is far above any real protocol. The cap bounds the work one
   * validation costs (about 5 ms at 60 phases against about 40 ms at 1200 on this machine's CPU),
   * which a UI may ask for many times at once (issue 9 item 9).
   */
  maxPhases: 60,
  /**
   * Bytes of one protocol file, read from disk or sent by a UI. A 60-phase file with every optional
   * field is about 15 KB; 256 KiB leaves room for long descriptions and sources and keeps the
   * JSON parse of a hostile file to a few milliseconds (issue 9 item 9).
   */
  maxFileBytes: 256 * 1024,
} as const);

/** Comparisons of measured floats against limits use this tolerance, so 0.1 mA steps behave. */
export const TOLERANCE = 1e-9;
